// `npm run bench`: syncline against bare better-sqlite3 loops doing the same I/O, side by side in one
// process, and the syncline executable in new processes against itself, printed as ratios.
import Table from 'cli-table3';
import { join } from 'node:path';
import { median, mib, ms, pass, ratio, withTrials } from './cells.js';
import { coldStatusRow, coldSyncRow, peakRssRow } from './coldRows.js';
import { postgresRows } from './postgres.js';
import { serverDestinationRows } from './serverDestinations.js';
import { httpDestinationRows } from './httpDestination.js';
import { natsRows } from './nats.js';
import { cliStore, mustRun, startUpMs } from './processes.js';
import { timed, workspace, writePopulation } from './fixtures.js';
import * as E from 'fp-ts/lib/Either.js';
import { openStateFile, statePathFor } from '../adapters/state/open.js';
import type { EventStore } from '../engine/ports.js';
import { catchUp } from '../engine/state/engineState.js';
import {
  firstSync,
  measureAudit,
  measureCatchUp,
  measureChanged,
  measureIngest,
  measureMemory,
  measureReplay,
  must,
  type AuditTimes,
  type Beside,
  type FirstSyncs,
  type MemoryRun,
  type Synced,
} from './measures.js';

const args = process.argv.slice(2);
const scale = args.includes('--scale') ? (args[args.indexOf('--scale') + 1] ?? '') : '100k';
const SCALES: Readonly<Record<string, number>> = {
  '10k': 10_000,
  '100k': 100_000,
  '1m': 1_000_000,
  '10m': 10_000_000,
};
const PROFILES = SCALES[scale] ?? 0;
/**
 * `--store postgres`: the PostgreSQL store's rows instead (its server: SYNCLINE_BENCH_POSTGRES_URL);
 * `--destinations`: the postgres and mysql destination types' rows (SYNCLINE_BENCH_MYSQL_URL too);
 * `--http`: the http destination type's rows, against receivers on 127.0.0.1 in worker threads;
 * `--nats`: `ingest --from` and `publish` against JetStream (its server: SYNCLINE_BENCH_NATS_URL).
 */
const store = args.includes('--store') ? (args[args.indexOf('--store') + 1] ?? '') : 'sqlite';
if (store !== 'sqlite' && store !== 'postgres') {
  process.stderr.write(`bench: --store must be sqlite or postgres, not "${store}"\n`);
  process.exit(2);
}
if (PROFILES === 0) {
  process.stderr.write(`bench: --scale must be one of ${Object.keys(SCALES).join(', ')}, not "${scale}"\n`);
  process.exit(2);
}
/**
 * First syncs timed for (c), each destination then synced again for (d): fewer at 1m, where each
 * takes a quarter of a minute. Five, not three: a trial on a shared machine can be off by a fifth,
 * and the first of each kind in a process runs code V8 has not optimised yet, so a median of three
 * is as often the middle of two noisy trials as a typical one.
 */
const TRIALS = scale === '1m' ? 1 : 5;
/** Runs of `syncline status` and `syncline --version` whose medians are compared. */
const STATUSES = 3;
const START_UPS = 5;
/** New processes syncing a destination each after the 1% round, for (d′): one can be off by a fifth. */
const COLD_SYNCS = 3;

/**
 * The rows measured in this process, beside bare loops: everything but (i) and (j). At 10m the state
 * of the whole population does not fit in one process's heap, so only the executable's rows are run.
 */
const inProcessRows = async (dir: string): Promise<string[][]> => {
  const rows: string[][] = [];
  const { file, lines } = writePopulation(dir, PROFILES);
  process.stderr.write(`bench: ${PROFILES} profiles, ${lines} events in ${dir}\n`);
  const { store, state, ...ingested } = await measureIngest(dir, file);
  rows.push(besideRow('(a) ingest', ingested, 0.5));
  rows.push(besideRow('(b) cold catch-up', await measureCatchUp(dir, store), 0.5));
  rows.push(...(await measureMemory(dir, store, state)).map(memoryRow));

  // One run on a shared machine can be off by 20%, so TRIALS destinations are synced and the
  // medians compared. (f) and (g) use the first while the store holds its run alone.
  const trials: FirstSyncs = { syncMs: [], bareMs: [] };
  const first = await firstSync(dir, store, state, 'warehouse', trials);
  const audit = await measureAudit(store, state, PROFILES);
  const replay = await measureReplay(store, first.summary.runId);
  const synced: Synced[] = [first];
  for (let t = 2; t <= TRIALS; t++)
    synced.push(await firstSync(dir, store, state, `warehouse-trial-${t}`, trials));
  // more destinations, synced only to be synced again by new processes in (d′)
  const forCold: Synced[] = [];
  for (let t = 1; t <= COLD_SYNCS; t++)
    forCold.push(await firstSync(dir, store, state, `warehouse-cold-${t}`, null));

  const changed = await measureChanged(dir, store, state, PROFILES, synced);
  // The state file the CLI's processes would have left: each `ingest` and `sync` saves what it
  // appended, so (d′)'s new process starts from the store's end, as a cron job after them does.
  const built = await timed(() => leaveStateFile(store, dir));
  process.stderr.write(`bench: the engine state file built from the store: ${built.ms.toFixed(0)} ms\n`);
  for (const { destination } of [...synced, ...forCold]) await destination.close();
  // (d′) new processes each sync a destination left behind by the 1% round, as cron runs them
  const storeUrl = `sqlite://${join(dir, 'events.db')}`;
  const coldMs = forCold.map(({ id }) => {
    const run = mustRun(dir, ['--store', storeUrl, 'sync', '--destination', id]);
    process.stderr.write(`bench: cold syncline sync of ${id}: ${run.ms.toFixed(0)} ms\n`);
    return run.ms;
  });
  const fullMs = median(trials.syncMs);
  rows.push(
    firstSyncRow(first.summary.totals.created, trials),
    warmRow(changed, fullMs),
    coldSyncRow(coldMs, startUpMs(dir, START_UPS), fullMs),
  );
  rows.push(auditRow(audit), replayRow(replay, first.ms));
  await store.close();
  return rows;
};

/** Folds the store into its state file (statePathFor), saves it and closes it. */
const leaveStateFile = async (store: EventStore, dir: string): Promise<void> => {
  const path = statePathFor('sqlite:events.db', dir);
  if (path === undefined) throw new Error('an SQLite store has a state file');
  const opened = await openStateFile(path, store);
  if (E.isLeft(opened)) throw new Error(opened.left.message);
  const { file } = opened.right;
  try {
    must(await catchUp(store, file.state), 'catch up the state file');
    must(file.save(), 'save the state file');
  } finally {
    file.close();
  }
};

/** (i) and (j), and at 10m the cold sync of (d′): stores built by the executable alone. */
const executableRows = (dir: string): string[][] => {
  const atScale = cliStore(dir, PROFILES, STATUSES);
  process.stderr.write(`bench: first syncline sync of ${PROFILES}: ${atScale.firstSync.ms.toFixed(0)} ms\n`);
  const at10k = PROFILES === 10_000 ? atScale : cliStore(dir, 10_000, STATUSES);
  const rows = [coldStatusRow(scale, atScale, at10k), peakRssRow(scale, atScale)];
  if (scale === '10m' && atScale.coldSync !== null)
    rows.unshift(coldSyncRow([atScale.coldSync.ms], startUpMs(dir, START_UPS), null));
  return rows;
};

const main = async (): Promise<void> => {
  const ws = workspace();
  const rows: string[][] = [];
  try {
    if (args.includes('--destinations')) {
      const { file } = writePopulation(ws.dir, PROFILES);
      rows.push(...(await serverDestinationRows(ws.dir, file, PROFILES)));
    } else if (args.includes('--http')) {
      const { file } = writePopulation(ws.dir, PROFILES);
      rows.push(...(await httpDestinationRows(ws.dir, file)));
    } else if (args.includes('--nats')) {
      const { file, lines } = writePopulation(ws.dir, PROFILES);
      rows.push(...(await natsRows(ws.dir, file, lines)));
    } else if (store === 'postgres') {
      const { file } = writePopulation(ws.dir, PROFILES);
      const url = process.env['SYNCLINE_BENCH_POSTGRES_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
      rows.push(...(await postgresRows(ws.dir, file, url, PROFILES)));
    } else {
      if (scale !== '10m') rows.push(...(await inProcessRows(ws.dir)));
      rows.push(...executableRows(ws.dir));
    }
  } finally {
    ws.remove();
  }
  const t = new Table({
    head: ['measure', 'syncline', 'baseline', 'ratio', 'target', ''],
    style: { head: [], border: [] },
  });
  for (const r of rows) t.push(r);
  process.stdout.write(`${t.toString()}\n`);
};

/** A measure whose target is a least ratio of the bare loop's time to syncline's. */
const besideRow = (measure: string, b: Beside, atLeast: number): string[] => [
  measure,
  ms(b.ms),
  ms(b.bareMs),
  ratio(b.bareMs / b.ms),
  `≥ ${atLeast}`,
  pass(b.bareMs / b.ms >= atLeast),
];

const memoryRow = (m: MemoryRun): string[] => {
  const target = m.judged ? (scale === '1m' ? '< 1.5 GiB' : 'at 1m: < 1.5 GiB') : 'info';
  if ('failed' in m)
    return [
      `(e) peak memory, first full sync, own process, ${m.label}`,
      m.failed,
      '',
      '',
      target,
      m.judged ? 'MISSED' : '',
    ];
  return [
    `(e) peak memory, first full sync of ${m.created} profiles, own process, ${m.label}`,
    mib(m.maxRssBytes),
    '',
    ms(m.ms),
    target,
    m.judged && scale === '1m' ? pass(m.maxRssBytes < 1.5 * 1024 ** 3) : '',
  ];
};

const firstSyncRow = (created: number, trials: FirstSyncs): string[] => {
  const fullMs = median(trials.syncMs);
  const c = fullMs / median(trials.bareMs);
  return [
    `(c) first sync (${created} created, ${Math.round(created / (fullMs / 1000))} profiles/s; median of ${TRIALS})`,
    withTrials(trials.syncMs),
    withTrials(trials.bareMs),
    `${c.toFixed(2)}× the bare loop`,
    '≤ 3×',
    pass(c <= 3),
  ];
};

const auditRow = (a: AuditTimes): string[] => {
  const slowest = Math.max(a.logMs, a.explainMs);
  return [
    `(f) log --profile / explain vs a full read (${a.events} events)`,
    `${ms(a.logMs)} / ${ms(a.explainMs)}`,
    ms(a.fullReadMs),
    `${(a.fullReadMs / slowest).toFixed(0)}× faster`,
    '≥ 20×',
    pass(a.fullReadMs / slowest >= 20),
  ];
};

/** (d) the syncs after 1% changed, by the warm engine, as a share of (c). */
const warmRow = (changed: Awaited<ReturnType<typeof measureChanged>>, fullMs: number): string[] => {
  const warm = median(changed.warmMs) / fullMs;
  return [
    `(d) sync after 1% changed (${changed.considered} considered; median of ${changed.warmMs.length})`,
    withTrials(changed.warmMs),
    ms(fullMs),
    `${(warm * 100).toFixed(1)}% of (c)`,
    '≤ 5%',
    pass(warm <= 0.05),
  ];
};

const replayRow = (replay: { readonly ms: number; readonly matched: boolean }, runMs: number): string[] => [
  `(g) replay --verify of the first run (${replay.matched ? 'all matched' : 'MISMATCHES'})`,
  ms(replay.ms),
  `the run, ${ms(runMs)}`,
  `${(runMs / replay.ms).toFixed(2)}× the run's speed`,
  '≥ 0.5×',
  pass(runMs / replay.ms >= 0.5 && replay.matched),
];

await main();
