// What the benchmarks share: a temporary workspace, the demo population written as JSONL, the
// destination they sync into, and a timer that reports wall time and peak memory.
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { createReadStream } from 'node:fs';
import type { DestinationConfig } from '../domain/destination.js';
import { population } from '../adapters/demo/people.js';
import { demoDestinations } from '../adapters/demo/scenario.js';

export const workspace = (): { dir: string; remove: () => void } => {
  const dir = mkdtempSync(join(tmpdir(), 'syncline-bench-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
};

/**
 * Writes the population of `profiles` people as a JSONL file; returns its path and line count. It is
 * written a few thousand lines at a time, so that ten million people never sit in memory as text.
 */
export const writePopulation = (
  dir: string,
  profiles: number,
  name = 'people.jsonl',
): { file: string; lines: number } => {
  const file = join(dir, name);
  const fd = openSync(file, 'w');
  let lines = 0;
  let chunk: string[] = [];
  try {
    for (const e of population(profiles)) {
      chunk.push(JSON.stringify(e));
      lines++;
      if (chunk.length === 4096) {
        writeSync(fd, `${chunk.join('\n')}\n`);
        chunk = [];
      }
    }
    if (chunk.length > 0) writeSync(fd, `${chunk.join('\n')}\n`);
  } finally {
    closeSync(fd);
  }
  return { file, lines };
};

export const linesOf = (file: string): AsyncIterable<string> =>
  createInterface({ input: createReadStream(file), crlfDelay: Infinity });

/** The demo's warehouse (sync mode, every profile), with its file at `path`. */
export const warehouse = (path: string): DestinationConfig => ({
  ...(demoDestinations[0] as DestinationConfig),
  options: { path, table: 'customers' },
});

/**
 * Wall time of `work`. Each measurement starts from a collected heap when node runs with --expose-gc
 * (npm run bench does) and once its sweeping has ended: otherwise the garbage one side left (a
 * baseline's rows, an earlier run's record) is collected in the other side's time, and the ratios
 * drift by a fifth from run to run.
 */
export const timed = async <A>(work: () => Promise<A> | A): Promise<{ ms: number; value: A }> => {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc !== undefined) {
    gc();
    // The collection's sweeping goes on on other threads for a while: let it end before timing.
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  const start = process.hrtime.bigint();
  const value = await work();
  return { ms: Number(process.hrtime.bigint() - start) / 1e6, value };
};
