// What the benchmarks share: a temporary workspace, the demo population written as JSONL, the
// destination they sync into, and a timer that reports wall time and peak memory.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { createReadStream } from 'node:fs';
import type { Destination } from '../domain/destination.js';
import { population } from '../adapters/demo/people.js';

export const workspace = (): { dir: string; remove: () => void } => {
  const dir = mkdtempSync(join(tmpdir(), 'syncline-bench-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
};

/** Writes the population of `profiles` people as a JSONL file; returns its path and line count. */
export const writePopulation = (
  dir: string,
  profiles: number,
  name = 'people.jsonl',
): { file: string; lines: number } => {
  const file = join(dir, name);
  const lines: string[] = [];
  for (const e of population(profiles)) lines.push(JSON.stringify(e));
  writeFileSync(file, `${lines.join('\n')}\n`);
  return { file, lines: lines.length };
};

export const linesOf = (file: string): AsyncIterable<string> =>
  createInterface({ input: createReadStream(file), crlfDelay: Infinity });

export const warehouse = (path: string): Destination => ({
  destinationId: 'warehouse',
  name: 'Warehouse customers',
  type: 'sqlite',
  syncMode: 'sync',
  collection: { kind: 'all' },
  keyField: 'email',
  mapping: {
    email: 'email',
    first_name: 'firstName',
    last_name: 'lastName',
    ltv: 'lifetimeValue',
    plan: 'plan',
  },
  groupMapping: { vip: 'VIP', newsletter: 'Newsletter', trial: 'Trial' },
  options: { path, table: 'customers' },
});

export const timed = async <A>(work: () => Promise<A> | A): Promise<{ ms: number; value: A }> => {
  const start = process.hrtime.bigint();
  const value = await work();
  return { ms: Number(process.hrtime.bigint() - start) / 1e6, value };
};
