// The measures `npm run bench` takes through the syncline executable, each in a new process, as an
// operator's cron job or shell pays them: start-up, a cold sync, a cold status, a first sync's peak RSS.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { changes } from '../adapters/demo/people.js';
import { warehouse, writePopulation } from './fixtures.js';

const MAIN = fileURLToPath(new URL('../adapters/cli/main.js', import.meta.url));
const PEAK_RSS = pathToFileURL(fileURLToPath(new URL('./peakRss.js', import.meta.url))).href;

/** One run of the executable: its wall time (process start-up included), peak RSS and outcome. */
export type CliRun = {
  readonly ms: number;
  readonly maxRssBytes: number;
  readonly code: number;
  readonly stderr: string;
};

/** Runs `syncline ARGS` in `cwd` and waits for it to exit. */
export const syncline = (cwd: string, args: readonly string[]): CliRun => {
  const rssFile = join(cwd, 'peak-rss.txt');
  rmSync(rssFile, { force: true });
  const start = process.hrtime.bigint();
  const child = spawnSync(process.execPath, ['--import', PEAK_RSS, MAIN, ...args], {
    cwd,
    encoding: 'utf8',
    maxBuffer: 16 << 20,
    env: { ...process.env, BENCH_PEAK_RSS_FILE: rssFile },
  });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  let maxRssBytes = 0;
  try {
    maxRssBytes = Number(readFileSync(rssFile, 'utf8'));
  } catch {
    // a process killed (out of memory, say) writes no figure: its failure is in code and stderr
  }
  return { ms, maxRssBytes, code: child.status ?? -1, stderr: child.stderr };
};

/** Runs `syncline ARGS`, and throws with its stderr unless it succeeded. */
export const mustRun = (cwd: string, args: readonly string[]): CliRun => {
  const run = syncline(cwd, args);
  if (run.code !== 0) throw new Error(`syncline ${args.join(' ')} exited ${run.code}: ${run.stderr}`);
  return run;
};

/** `syncline --version`, `times` times: what a process that does nothing costs to start. */
export const startUpMs = (cwd: string, times: number): number[] =>
  Array.from({ length: times }, () => mustRun(cwd, ['--version']).ms);

/** What a store built by the executable alone costs its commands (see cliStore). */
export type CliStore = {
  readonly profiles: number;
  /** `sync` of a destination holding nothing: catch-up from nothing, the run, the state file saved */
  readonly firstSync: CliRun;
  /** `sync` after 1% of the profiles changed (ingested by another process), from the state file */
  readonly coldSync: CliRun | null;
  /** `status`, each in a new process */
  readonly statusMs: readonly number[];
};

/**
 * A store of `profiles` people built as an operator builds one, each step a new process: `apply` of
 * the warehouse, `ingest` of the population, a first `sync`, `ingest` of a round changing 1% of the
 * profiles, a `sync` of it, then `status` `statuses` times. A first sync that fails (out of memory,
 * say) ends it there: the figure is the failure.
 */
export const cliStore = (dir: string, profiles: number, statuses: number): CliStore => {
  const cwd = join(dir, `cli-${profiles}`);
  mkdirSync(cwd, { recursive: true });
  const config = { store: 'sqlite:events.db', destinations: [warehouse('warehouse.db')] };
  writeFileSync(join(cwd, 'syncline.config.json'), JSON.stringify(config));
  const { file } = writePopulation(cwd, profiles);
  mustRun(cwd, ['apply']);
  mustRun(cwd, ['ingest', file]);
  rmSync(file);
  const firstSync = syncline(cwd, ['sync']);
  if (firstSync.code !== 0) return { profiles, firstSync, coldSync: null, statusMs: [] };
  const round = changes(profiles, 0.01, 42, 0);
  const changeFile = join(cwd, 'changes.jsonl');
  writeFileSync(changeFile, round.events.map((e) => JSON.stringify(e)).join('\n'));
  mustRun(cwd, ['ingest', changeFile]);
  const coldSync = mustRun(cwd, ['sync']);
  const statusMs = Array.from({ length: statuses }, () => mustRun(cwd, ['status']).ms);
  return { profiles, firstSync, coldSync, statusMs };
};
