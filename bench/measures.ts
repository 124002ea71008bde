// The measurements `npm run bench` makes, one function each, in the order it makes them: each takes
// the store and state the previous ones left, and returns syncline's time beside its baseline's.
import { join } from 'node:path';
import { rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as E from 'fp-ts/lib/Either.js';
import Database from 'better-sqlite3';
import { openSqliteStore } from '../adapters/stores/sqlite/store.js';
import { sqliteDestinationType } from '../adapters/destinations/sqlite/destination.js';
import { resolveDestination } from '../adapters/destinations/registry.js';
import { tableNamesOf } from '../adapters/destinations/sqlite/tables.js';
import { changes } from '../adapters/demo/people.js';
import { fileBytes } from '../adapters/cli/input.js';
import { desiredFields, desiredGroups, desiredKey } from '../domain/decide.js';
import type { DestinationConfig } from '../domain/destination.js';
import { profileOf } from '../projections/world.js';
import { decisionLog } from '../engine/audit/decisionLog.js';
import { explain } from '../engine/audit/explain.js';
import { replayDestination } from '../engine/audit/replay.js';
import { applyConfig } from '../engine/input/configure.js';
import { ingest } from '../engine/input/ingest.js';
import type { Destination, EventStore } from '../engine/ports.js';
import { catchUp, initialState, type EngineState } from '../engine/state/engineState.js';
import { defaultSyncOptions, syncDestination } from '../engine/sync/run.js';
import type { RunSummary } from '../engine/sync/summary.js';
import { bareCatchUp, bareIngest, bareWrite, type Row } from './baselines.js';
import { timed, warehouse } from './fixtures.js';

export const must = <A>(e: E.Either<unknown, A>, what: string): A => {
  if (E.isLeft(e)) throw new Error(`${what}: ${JSON.stringify(e.left)}`);
  return e.right;
};

/** Syncline's time and the bare loop's, in ms. */
export type Beside = { readonly ms: number; readonly bareMs: number };

const ingestOptions = { checkDestination: () => [], maxProblems: 20, chunkSize: 5000 };

/** (a) The population ingested into a new store, beside a bare loop inserting the same lines. */
export const measureIngest = async (
  dir: string,
  file: string,
): Promise<Beside & { readonly store: EventStore; readonly state: EngineState }> => {
  const bare = await timed(() => bareIngest(file, join(dir, 'bare-events.db')));
  const store: EventStore = must(openSqliteStore(join(dir, 'events.db')), 'open store');
  const state = initialState();
  const ours = await timed(() => ingest(store, state, () => fileBytes(file), ingestOptions));
  must(ours.value, 'ingest');
  return { ms: ours.ms, bareMs: bare.ms, store, state };
};

/** (b) A cold catch-up of that store, beside a bare loop reading every row. */
export const measureCatchUp = async (dir: string, store: EventStore): Promise<Beside> => {
  const bareRead = await timed(() => bareCatchUp(join(dir, 'events.db')));
  const cold = await timed(() => catchUp(store, initialState()));
  must(cold.value, 'cold catch-up');
  return { ms: cold.ms, bareMs: bareRead.ms };
};

export type MemoryRun = { readonly label: string; readonly judged: boolean } & (
  | { readonly failed: string }
  | { readonly ms: number; readonly maxRssBytes: number; readonly created: number }
);

/**
 * (e) A first full sync in a process of its own (catch-up included), on copies of this store, as the
 * syncline executable runs it and with V8's own heap growth (which grows well past the live set).
 */
export const measureMemory = async (
  dir: string,
  store: EventStore,
  state: EngineState,
): Promise<MemoryRun[]> => {
  const memcheck = must(
    resolveDestination({ ...warehouse(join(dir, 'memcheck.db')), destinationId: 'memcheck' }),
    'memcheck config',
  ).config;
  must(await applyConfig(store, state, [memcheck], false), 'apply memcheck');
  // The target is for syncline as its executable runs it; V8's own policy is shown for comparison.
  return [
    { label: 'as syncline runs it (heap growth step 30%)', growth: '', judged: true },
    { label: "with V8's adaptive heap growth", growth: '0', judged: false },
  ].map(({ label, growth, judged }, i) => {
    const copy = join(dir, `memcheck-${i}.db`);
    const raw = new Database(join(dir, 'events.db'));
    raw.exec(`VACUUM INTO '${copy.replaceAll("'", "''")}'`);
    raw.close();
    rmSync(join(dir, 'memcheck.db'), { force: true });
    const child = spawnSync(
      process.execPath,
      [fileURLToPath(new URL('./fullSync.js', import.meta.url)), copy, 'memcheck'],
      {
        encoding: 'utf8',
        maxBuffer: 1 << 20,
        env: { ...process.env, SYNCLINE_HEAP_GROWTH_PERCENT: growth },
      },
    );
    if (child.status !== 0)
      return { label, judged, failed: child.stderr.split('\n').find((l) => l.includes('heap')) ?? 'failed' };
    return {
      label,
      judged,
      ...(JSON.parse(child.stdout) as { ms: number; maxRssBytes: number; created: number }),
    };
  });
};

/** A destination synced for the first time, kept open for the syncs after 1% changed. */
export type Synced = {
  readonly id: string;
  readonly destination: Destination;
  readonly summary: RunSummary;
  readonly ms: number;
};

/** The first syncs timed for (c), and their bare loops' times, in the order run. */
export type FirstSyncs = { readonly syncMs: number[]; readonly bareMs: number[] };

/**
 * (c) A first full sync into a new SQLite destination, state already caught up; when `timedForC`, a
 * bare loop writes the same rows into tables of the same layout beside it.
 */
export const firstSync = async (
  dir: string,
  store: EventStore,
  state: EngineState,
  id: string,
  trials: FirstSyncs | null,
): Promise<Synced> => {
  const config = must(
    resolveDestination({ ...warehouse(join(dir, `${id}.db`)), destinationId: id }),
    'config',
  ).config;
  must(await applyConfig(store, state, [config], false), 'apply');
  const destination = must(await sqliteDestinationType.open(config, process.env)(), 'open destination');
  const run = await timed(() => syncDestination(store, state, id, destination, defaultSyncOptions));
  const summary = must(run.value, 'sync');
  // The run leaves the destination tidying up (a checkpoint) without waiting for it: let it end, so
  // that no later measurement pays for it.
  await destination.tidy?.();
  if (trials !== null) {
    trials.syncMs.push(run.ms);
    process.stderr.write(`bench: first sync of ${id}: ${run.ms.toFixed(0)} ms\n`);
    const written = bareRows(state, config);
    const bareFile = join(dir, `bare-${id}.db`);
    // The destination's tables, named as the destination names them from warehouse()'s options.
    const names = tableNamesOf(config, String(config.options?.table));
    trials.bareMs.push((await timed(() => bareWrite(bareFile, names, written))).ms);
  }
  return { id, destination, summary, ms: run.ms };
};

/** The rows a bare loop writes: every live profile with a key, as the sync wrote it. */
export const bareRows = (state: EngineState, config: DestinationConfig): Row[] =>
  [...state.world.profiles.keys()].flatMap((pid) => {
    const profile = profileOf(state.world, pid);
    if (profile === null) return [];
    const fields = desiredFields(config, profile);
    const key = desiredKey(config, fields);
    return key === undefined ? [] : [{ key, fields, groups: desiredGroups(config, profile) }];
  });

export type AuditTimes = {
  readonly logMs: number;
  readonly explainMs: number;
  readonly fullReadMs: number;
  readonly events: number;
};

/** (f) One profile's log and explanation, beside a full read of the store. */
export const measureAudit = async (
  store: EventStore,
  state: EngineState,
  profiles: number,
): Promise<AuditTimes> => {
  const fullRead = await timed(async () => {
    let n = 0;
    for await (const e of store.readAll()) n += e.position > 0 ? 1 : 0;
    return n;
  });
  const someone = [...state.world.profiles.keys()][Math.floor(profiles / 2)] as string;
  const log = await timed(() => decisionLog(store, 'warehouse', { profileId: someone }));
  must(log.value, 'log');
  const why = await timed(() => explain(store, 'warehouse', someone, { defaultMode: () => 'sync' }));
  must(why.value, 'explain');
  return { logMs: log.ms, explainMs: why.ms, fullReadMs: fullRead.ms, events: fullRead.value };
};

/** (g) replay --verify of one run; whether every decision matched. */
export const measureReplay = async (
  store: EventStore,
  runId: string,
): Promise<{ readonly ms: number; readonly matched: boolean }> => {
  const verify = await timed(() => replayDestination(store, 'warehouse', { runs: { runId } }));
  const replayed = must(verify.value, 'replay');
  return { ms: verify.ms, matched: replayed.runs.every((r) => r.mismatches.length === 0) };
};

/**
 * (d) 1% of the profiles change, and each destination synced before is synced again; the engine is
 * warm, as in `sync --follow` or a pipeline. The round brings no new profiles: the target speaks of
 * 1% of the profiles changed.
 */
export const measureChanged = async (
  dir: string,
  store: EventStore,
  state: EngineState,
  profiles: number,
  synced: readonly Synced[],
): Promise<{ readonly warmMs: number[]; readonly considered: number }> => {
  const round = changes(profiles, 0.01, 42, 0);
  const changeFile = join(dir, 'changes.jsonl');
  writeFileSync(changeFile, round.events.map((e) => JSON.stringify(e)).join('\n'));
  must(await ingest(store, state, () => fileBytes(changeFile), ingestOptions), 'ingest changes');
  const warmMs: number[] = [];
  let considered = 0;
  for (const { id, destination } of synced) {
    const incremental = await timed(() => syncDestination(store, state, id, destination, defaultSyncOptions));
    considered = must(incremental.value, 'incremental sync').considered;
    await destination.tidy?.();
    warmMs.push(incremental.ms);
    process.stderr.write(`bench: sync of ${id} after 1% changed: ${incremental.ms.toFixed(0)} ms\n`);
  }
  return { warmMs, considered };
};
