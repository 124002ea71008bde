// Worlds for the fault tests: a directory holding a store (an SQLite file, a PostgreSQL schema or a KurrentDB
// prefix of its own) with generated profiles, a destination configured in it (an SQLite file, or a
// `postgres` one in a schema of its own) and a CLI config file.
import { spawn } from 'node:child_process';
import { cp, mkdtemp, readdir, readFile, rename, rm, unlink, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import Database from 'better-sqlite3';
import * as E from 'fp-ts/lib/Either.js';
import { reportErrors } from '../../domain/codec.js';
import type { DestinationConfig } from '../../domain/destination.js';
import type { InputEvent } from '../../domain/events.js';
import { resultsOf, SyncEvent, syncStream } from '../../domain/syncEvents.js';
import { compareStrings } from '../../domain/values.js';
import { resolveDestination } from '../../adapters/destinations/registry.js';
import { openStore } from '../../adapters/stores/open.js';
import { applyConfig } from '../../engine/input/configure.js';
import { ingest } from '../../engine/input/ingest.js';
import type { EventStore } from '../../engine/ports.js';
import { initialState } from '../../engine/state/engineState.js';
import { statePathFor } from '../../adapters/state/open.js';
import { CLI_PATH } from './cli.js';
import { caughtUp, opened, saved } from './stateFiles.js';
import { copyKurrentStore, countTypes } from './kurrentWorld.js';
import { freshSchema, onServer, POSTGRES_URL, postgresStoreUrl } from './postgres.js';
import pg from 'pg';
import {
  pgHeld,
  pgRowCounter,
  pgTables,
  pgWarehouseOptions,
  WAREHOUSE_URL_VARIABLE,
  type PgWarehouse,
} from './pgWarehouse.js';

export const DESTINATION_ID = 'warehouse';
export const STORE_FILE = 'events.db';
export const DESTINATION_FILE = 'warehouse.db';
export const CONFIG_FILE = 'syncline.config.json';

export type Scope = 'all' | 'vip';

/**
 * The destination every fault world syncs to; its path is relative, so a copied world is a world. With
 * `pgWarehouse`, a `postgres` destination in that schema instead (which a copy shares).
 */
export const warehouse = (scope: Scope, pgWarehouse?: PgWarehouse): DestinationConfig => ({
  destinationId: DESTINATION_ID,
  name: 'Warehouse',
  type: pgWarehouse === undefined ? 'sqlite' : 'postgres',
  syncMode: 'sync',
  collection: scope === 'all' ? { kind: 'all' } : { kind: 'group', groupId: 'vip' },
  keyField: 'email',
  mapping: {
    email: 'email',
    first_name: 'firstName',
    last_name: 'lastName',
    ltv: 'lifetimeValue',
    plan: 'plan',
    signed_up: 'signedUpAt',
  },
  groupMapping: { vip: 'VIP', newsletter: 'Newsletter', trial: 'Trial' },
  options:
    pgWarehouse === undefined
      ? { path: DESTINATION_FILE, table: 'contacts' }
      : pgWarehouseOptions(pgWarehouse),
});

/** Where a world's warehouse is: an SQLite file in its directory, or a fresh schema of the PostgreSQL database `postgres` names. */
export type DestinationKind = 'sqlite' | { readonly postgres: string };

/** A `postgres` warehouse in a fresh schema of the test server's database. */
export const POSTGRES_DESTINATION: DestinationKind = { postgres: POSTGRES_URL };

/**
 * Where a world keeps its events: an SQLite file beside the destination, a fresh schema of the
 * PostgreSQL database `postgres` names (a URL without ?schema, which may carry a password), or a fresh
 * prefix on the KurrentDB server whose store URL for a prefix `kurrentdb` gives (test/support/kurrentdb.ts).
 */
export type StoreKind =
  'sqlite' | { readonly postgres: string } | { readonly kurrentdb: (prefix: string) => string };

/** A fresh schema of the test server's database. */
export const POSTGRES: StoreKind = { postgres: POSTGRES_URL };

/** A fresh prefix on a KurrentDB server the test file started (kurrentServer()). */
export const KURRENTDB = (server: { readonly url: (prefix: string) => string }): StoreKind => ({
  kurrentdb: server.url,
});

/** Whether the store's positions run 1, 2, 3…: KurrentDB's `$all` positions only grow. */
export const densePositions = (w: FaultWorld): boolean => w.prefix === undefined;

export type FaultWorld = {
  readonly dir: string;
  readonly store: StoreKind;
  /** the store URL the world's config file names (`sqlite:events.db`, or a PostgreSQL URL) */
  readonly storeUrl: string;
  /** the SQLite store file (where the world's store is SQLite) */
  readonly storePath: string;
  /** the PostgreSQL schema holding the store (where it is PostgreSQL) */
  readonly schema?: string;
  /** the URL of the database holding that schema, without ?schema */
  readonly server?: string;
  /** the KurrentDB stream prefix of the store (where it is KurrentDB) */
  readonly prefix?: string;
  readonly destinationPath: string;
  /** where the warehouse is a `postgres` destination: its server and schema (else destinationPath) */
  readonly pgWarehouse?: PgWarehouse;
};

const withStore = async <A>(w: FaultWorld, work: (store: EventStore) => Promise<A>): Promise<A> => {
  const opened = await openStore(w.storeUrl, w.dir)();
  if (E.isLeft(opened)) throw new Error(opened.left.message);
  try {
    return await work(opened.right);
  } finally {
    await opened.right.close();
  }
};

let prefixes = 0;

const at = (dir: string, store: StoreKind, pgWarehouse?: PgWarehouse): FaultWorld => {
  const common = {
    dir,
    store,
    storePath: join(dir, STORE_FILE),
    destinationPath: join(dir, DESTINATION_FILE),
    ...(pgWarehouse === undefined ? {} : { pgWarehouse }),
  };
  if (store === 'sqlite') return { ...common, storeUrl: `sqlite:${STORE_FILE}` };
  if ('kurrentdb' in store) {
    const prefix = `fault-${process.pid}-${Date.now().toString(36)}-${++prefixes}-`;
    return { ...common, storeUrl: store.kurrentdb(prefix), prefix };
  }
  const schema = freshSchema();
  return { ...common, storeUrl: postgresStoreUrl(schema, store.postgres), schema, server: store.postgres };
};

/** The engine state file the CLI keeps for the world's store. */
export const stateFileOf = (w: FaultWorld): string => statePathFor(w.storeUrl, w.dir) as string;

/** Appends input events through the engine's ingest (checked, one transaction), as JSON lines. */
export const ingestEvents = (w: FaultWorld, events: readonly InputEvent[]): Promise<number> =>
  withStore(w, async (store) => {
    // A JSONL file's bytes, as the CLI reads a file.
    const text = events.map((e) => JSON.stringify(e)).join('\n');
    const bytes = () => Readable.from([Buffer.from(text)]);
    const r = await ingest(store, initialState(), bytes, {
      checkDestination: (d) => {
        const resolved = resolveDestination(d);
        return E.isLeft(resolved) ? [...resolved.left.problems] : [];
      },
      maxProblems: 10,
      chunkSize: 2_000,
    });
    if (E.isLeft(r)) throw new Error(`ingest refused the events: ${JSON.stringify(r.left)}`);
    return r.right.appended;
  });

/**
 * A new world: `events` ingested, the warehouse configured (sync mode), and the CLI's config file;
 * its store an SQLite file in the world's directory, or a fresh schema of the test server; its
 * warehouse an SQLite file, or a `postgres` destination in a fresh schema (made by its first apply).
 */
export const createWorld = async (
  events: readonly InputEvent[],
  scope: Scope,
  store: StoreKind = 'sqlite',
  destination: DestinationKind = 'sqlite',
): Promise<FaultWorld> => {
  const pgWarehouse =
    destination === 'sqlite' ? undefined : { server: destination.postgres, schema: freshSchema() };
  const w = at(await mkdtemp(join(tmpdir(), 'syncline-fault-')), store, pgWarehouse);
  await ingestEvents(w, events);
  const config = warehouse(scope, pgWarehouse);
  await withStore(w, async (store) => {
    const r = await applyConfig(store, initialState(), [config], false);
    if (E.isLeft(r)) throw new Error(JSON.stringify(r.left));
  });
  await writeFile(
    join(w.dir, CONFIG_FILE),
    JSON.stringify({ store: w.storeUrl, destinations: [config] }, null, 2),
  );
  await buildStateFile(w);
  return w;
};

/** The state file as the CLI leaves it, so that the commands of a spec do not build it (and say so). */
const buildStateFile = (w: FaultWorld): Promise<void> =>
  withStore(w, async (store) => {
    const { file } = await opened(stateFileOf(w), store);
    await caughtUp(store, file.state);
    saved(file);
    file.close();
  });

/** The copy's config file, naming the copy's store. */
const renameStoreInConfig = async (w: FaultWorld): Promise<void> => {
  const configFile = join(w.dir, CONFIG_FILE);
  const config = JSON.parse(await readFile(configFile, 'utf8')) as Record<string, unknown>;
  await writeFile(configFile, JSON.stringify({ ...config, store: w.storeUrl }, null, 2));
};

/**
 * A copy of a world whose files no process has open: the same events at the same positions. A
 * `postgres` warehouse is not copied: its schema is in the configuration the store records, so the
 * copy shares it (a copy to look at, as killMidway's, or of a world whose warehouse is never synced). A
 * PostgreSQL store is copied into a fresh schema (made by the adapter, so it is a store of this
 * syncline's version), and the copy's config file and state file are named after that schema. A
 * KurrentDB store is copied into a fresh prefix in the same `$all` order (copyKurrentStore), where
 * the server gives the events positions of their own: the copy's state file is built afresh.
 */
export const copyWorld = async (from: FaultWorld): Promise<FaultWorld> => {
  const shared = from.pgWarehouse === undefined ? undefined : { ...from.pgWarehouse, shared: true };
  const w = at(await mkdtemp(join(tmpdir(), 'syncline-fault-')), from.store, shared);
  await cp(from.dir, w.dir, { recursive: true });
  if (from.prefix !== undefined && w.prefix !== undefined) {
    await copyKurrentStore(from.storeUrl, w.storeUrl);
    const [fromState, toState] = [basename(stateFileOf(from)), stateFileOf(w)];
    for (const name of await readdir(dirname(toState)).catch(() => []))
      if (name.startsWith(fromState)) await unlink(join(dirname(toState), name));
    await renameStoreInConfig(w);
    await buildStateFile(w);
    return w;
  }
  if (from.schema === undefined || w.schema === undefined) return w;
  await withStore(w, () => Promise.resolve());
  // Every table the adapter made, whatever its version's tables are (events first), row for row.
  const tables = await onServer<{ name: string }>(
    `SELECT table_name AS name FROM information_schema.tables
      WHERE table_schema = $1 AND table_type = 'BASE TABLE' AND table_name <> 'migrations'
      ORDER BY table_name <> 'events', table_name`,
    [from.schema],
    w.server,
  );
  const [a, b] = [`"${from.schema}"`, `"${w.schema}"`];
  await onServer(
    `${tables.map(({ name }) => `INSERT INTO ${b}."${name}" SELECT * FROM ${a}."${name}";`).join('\n')}
     SELECT setval('${b}.positions', (SELECT max(position) FROM ${b}.events));`,
    [],
    w.server,
  );
  // The state file is named after the store: the copied one is renamed to the copy's store.
  const [fromState, toState] = [basename(stateFileOf(from)), stateFileOf(w)];
  for (const name of await readdir(dirname(toState)).catch(() => []))
    if (name.startsWith(fromState))
      await rename(join(dirname(toState), name), `${toState}${name.slice(fromState.length)}`);
  await renameStoreInConfig(w);
  return w;
};

/**
 * Removes the world's directory and, for a PostgreSQL store, its schema (a KurrentDB prefix stays),
 * and the schema of its `postgres` warehouse unless it is a copy's.
 */
export const removeWorld = async (w: FaultWorld): Promise<void> => {
  await rm(w.dir, { recursive: true, force: true });
  if (w.schema !== undefined) await onServer(`DROP SCHEMA IF EXISTS "${w.schema}" CASCADE`, [], w.server);
  const pgw = w.pgWarehouse;
  if (pgw !== undefined && pgw.shared !== true)
    await onServer(`DROP SCHEMA IF EXISTS "${pgw.schema}" CASCADE`, [], pgw.server);
};

export type Exit = {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  /** wall-clock milliseconds from spawn to exit */
  readonly ms: number;
};

export type Running = {
  readonly pid: number;
  readonly kill: () => void;
  /** what the process has printed on stdout so far */
  readonly stdout: () => string;
  /** sends `signal` (SIGTERM, SIGINT: a stop the process can handle) */
  readonly signal: (signal: NodeJS.Signals) => void;
  /** SIGSTOP: freezes the process where it is, so a test can look before deciding to kill */
  readonly freeze: () => void;
  /** SIGCONT: lets a frozen process go on */
  readonly thaw: () => void;
  readonly exit: Promise<Exit>;
};

/** Starts the built `syncline` in the world's directory, with no store URL or colours from our shell. */
export const launch = (w: FaultWorld, args: readonly string[]): Running => {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of ['SYNCLINE_STORE', 'FORCE_COLOR', 'NO_COLOR']) delete env[name];
  if (w.pgWarehouse !== undefined) env[WAREHOUSE_URL_VARIABLE] = w.pgWarehouse.server;
  const started = performance.now();
  const child = spawn(process.execPath, [CLI_PATH, ...args], { cwd: w.dir, env });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
  child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  // 'close' comes after 'exit' and after the pipes drain, so the output is complete.
  const exit = new Promise<Exit>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) =>
      resolve({ code, signal, stdout, stderr, ms: performance.now() - started }),
    );
  });
  if (child.pid === undefined) throw new Error('could not start the syncline CLI');
  return {
    pid: child.pid,
    kill: () => void child.kill('SIGKILL'),
    stdout: () => stdout,
    signal: (signal) => void child.kill(signal),
    freeze: () => void child.kill('SIGSTOP'),
    thaw: () => void child.kill('SIGCONT'),
    exit,
  };
};

/** Runs `syncline sync …` to its end and fails unless it exits 0. */
export const syncToEnd = async (w: FaultWorld, args: readonly string[] = []): Promise<Exit> => {
  const exit = await launch(w, ['sync', ...args]).exit;
  if (exit.code !== 0)
    throw new Error(`syncline sync exited ${exit.code ?? exit.signal}: ${exit.stderr}${exit.stdout}`);
  return exit;
};

export type Tables = {
  /** one JSON line per row of the records table, in key order */
  readonly rows: readonly string[];
  /** one `key\tgroup` line per row of the groups table, sorted */
  readonly groups: readonly string[];
};

/** Both destination tables as a person with the sqlite3 shell sees them (empty before any sync). */
export const readTables = (w: FaultWorld): Tables => {
  if (w.pgWarehouse !== undefined) throw new Error('a postgres warehouse is read by destinationTables');
  if (!existsSync(w.destinationPath)) return { rows: [], groups: [] };
  const db = new Database(w.destinationPath, { fileMustExist: true });
  try {
    const exists = (name: string) =>
      db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(name) !== undefined;
    // Values are shown with their SQLite storage class, so 100 and '100' (or a BLOB) never compare equal.
    const rows = exists('contacts')
      ? (db.prepare('SELECT * FROM contacts ORDER BY email').all() as Record<string, unknown>[]).map((r) =>
          JSON.stringify(
            Object.entries(r).map(([k, v]) => [k, Buffer.isBuffer(v) ? `blob:${v.toString('utf8')}` : v]),
          ),
        )
      : [];
    const groups = exists('contacts_groups')
      ? (
          db.prepare('SELECT record_key, group_name FROM contacts_groups').raw().all() as [string, string][]
        ).map(([k, g]) => `${k}\t${g}`)
      : [];
    return { rows: [...rows].sort(compareStrings), groups: groups.sort(compareStrings) };
  } finally {
    db.close();
  }
};

/** Both tables of the world's warehouse, SQLite (readTables) or `postgres` (read in SQL: pgTables). */
export const destinationTables = (w: FaultWorld): Promise<Tables> =>
  w.pgWarehouse === undefined ? Promise.resolve(readTables(w)) : pgTables(w.pgWarehouse);

/** Counts the warehouse's rows as it goes (SQLite: destinationRows; `postgres`: one session of the server). */
export const rowCounter = async (
  w: FaultWorld,
): Promise<{ readonly count: () => Promise<number>; readonly close: () => Promise<void> }> =>
  w.pgWarehouse === undefined
    ? { count: () => Promise.resolve(destinationRows(w)), close: () => Promise.resolve() }
    : pgRowCounter(w.pgWarehouse);

/** How many rows the records table holds (0 before the first apply creates it). */
export const destinationRows = (w: FaultWorld): number => {
  if (w.pgWarehouse !== undefined) throw new Error('a postgres warehouse: count its rows in SQL');
  if (!existsSync(w.destinationPath)) return 0;
  const db = new Database(w.destinationPath, { fileMustExist: true });
  try {
    const table = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'contacts'").get();
    return table === undefined ? 0 : (db.prepare('SELECT count(*) FROM contacts').pluck().get() as number);
  } finally {
    db.close();
  }
};

/** What differs between two tables, at most `limit` lines each way: empty lists when they are equal. */
export const tableDiff = (actual: Tables, expected: Tables, limit = 5) => {
  const side = (a: readonly string[], b: readonly string[]) => {
    const other = new Set(b);
    const only = a.filter((x) => !other.has(x));
    return { count: only.length, first: only.slice(0, limit) };
  };
  return {
    rowsMissing: side(expected.rows, actual.rows),
    rowsUnexpected: side(actual.rows, expected.rows),
    groupsMissing: side(expected.groups, actual.groups),
    groupsUnexpected: side(actual.groups, expected.groups),
  };
};

export const NO_DIFFERENCE = {
  rowsMissing: { count: 0, first: [] },
  rowsUnexpected: { count: 0, first: [] },
  groupsMissing: { count: 0, first: [] },
  groupsUnexpected: { count: 0, first: [] },
};

export type StoredSyncEvent = SyncEvent & { readonly revision: number; readonly position: number };

/** SQL on a world's store from outside any syncline process: `?` marks the values. */
type StoreSql = {
  readonly all: (sql: string, ...values: unknown[]) => Promise<Record<string, unknown>[]>;
  readonly close: () => Promise<void>;
};

/** A connection to the world's store: its SQLite file, or a session of the server in its schema. */
const storeSql = async (w: FaultWorld): Promise<StoreSql> => {
  if (w.schema === undefined) {
    const db = new Database(w.storePath, { fileMustExist: true });
    return {
      all: (sql, ...values) => Promise.resolve(db.prepare(sql).all(...values) as Record<string, unknown>[]),
      close: () => Promise.resolve(void db.close()),
    };
  }
  // Not application_name 'syncline': a test that ends the store's connections must not end this one.
  const client = new pg.Client({ connectionString: w.server, application_name: 'syncline-test' });
  await client.connect();
  await client.query(`SET search_path TO "${w.schema}"`);
  return {
    all: async (sql, ...values) => {
      let n = 0;
      return (
        await client.query(
          sql.replace(/\?/g, () => `$${++n}`),
          values,
        )
      ).rows as Record<string, unknown>[];
    },
    close: () => client.end(),
  };
};

/**
 * "ok" when the store is sound: for SQLite, PRAGMA integrity_check's answer for the file; for
 * PostgreSQL, the adapter's check of every stream's revisions and every tag (it has no file to check);
 * for KurrentDB, the adapter's check of every stream's revisions in `$all` order.
 */
export const storeIntegrity = async (w: FaultWorld): Promise<string> => {
  if (w.store !== 'sqlite')
    return withStore(w, async (store) => {
      const checked = await store.checkIntegrity()();
      if (E.isLeft(checked)) throw new Error(JSON.stringify(checked.left));
      return checked.right.findings.length === 0 ? 'ok' : checked.right.findings.join('; ');
    });
  const db = new Database(w.storePath, { fileMustExist: true });
  try {
    return (db.pragma('integrity_check') as { integrity_check: string }[])
      .map((r) => r.integrity_check)
      .join('; ');
  } finally {
    db.close();
  }
};

/**
 * The store's positions as the adapter reads them back: how many events, the first and the last
 * position, and whether they run 1, 2, 3… without a gap or a repeat, in the order read.
 */
export const storePositions = (
  w: FaultWorld,
): Promise<{ readonly events: number; readonly last: number; readonly dense: boolean }> =>
  withStore(w, async (store) => {
    let events = 0;
    let dense = true;
    let last = 0;
    for await (const e of store.readAll()) {
      events++;
      if (e.position !== last + 1) dense = false;
      last = e.position;
    }
    return { events, last, dense };
  });

/** Whether the positions the adapter reads back only grow, in the order read (what KurrentDB promises). */
export const positionsGrow = (w: FaultWorld): Promise<boolean> =>
  withStore(w, async (store) => {
    let last = 0;
    for await (const e of store.readAll()) {
      if (e.position <= last) return false;
      last = e.position;
    }
    return true;
  });

/** Opens the store as the CLI would and reads every event through the adapter; returns how many. */
export const readAllEvents = (w: FaultWorld): Promise<number> =>
  withStore(w, async (store) => {
    let n = 0;
    for await (const _ of store.readAll()) n++;
    return n;
  });

/** The sync stream, each event checked by its codec (a malformed one throws). */
export const syncEvents = (w: FaultWorld): Promise<readonly StoredSyncEvent[]> =>
  withStore(w, async (store) => {
    const decoded: StoredSyncEvent[] = [];
    for await (const e of store.readStream(syncStream(DESTINATION_ID))) {
      const d = SyncEvent.decode({ type: e.type, data: e.data });
      if (E.isLeft(d))
        throw new Error(`sync event ${e.revision} does not decode: ${reportErrors(d.left).join('; ')}`);
      decoded.push({ ...d.right, revision: e.revision, position: e.position });
    }
    return decoded;
  });

type Decided = Extract<SyncEvent, { type: 'BatchDecided' }>;

/**
 * Decisions (not skips) that have no outcome: no BatchApplied result with their command id, no later
 * settlement of it, and no later decision for the same profile. Empty when every decision is accounted for.
 */
export const decisionsWithoutOutcome = (
  sync: readonly StoredSyncEvent[],
): { commandId: string; profileId: string; revision: number }[] => {
  const applied = new Set<string>();
  const settledAfter = new Map<string, number>();
  const decidedAt = new Map<string, number[]>();
  for (const e of sync) {
    if (e.type === 'BatchApplied') for (const r of resultsOf(e.data)) applied.add(r.commandId);
    if (e.type === 'BatchDecided') {
      for (const s of (e as Decided).data.settled ?? []) settledAfter.set(s.commandId, e.revision);
      for (const r of (e as Decided).data.decisions) {
        const list = decidedAt.get(r.decision.profileId) ?? [];
        list.push(e.revision);
        decidedAt.set(r.decision.profileId, list);
      }
    }
  }
  const missing: { commandId: string; profileId: string; revision: number }[] = [];
  for (const e of sync) {
    if (e.type !== 'BatchDecided') continue;
    for (const r of e.data.decisions) {
      if (r.decision.operation === 'skip' || applied.has(r.commandId)) continue;
      const settled = settledAfter.get(r.commandId);
      if (settled !== undefined && settled > e.revision) continue;
      const later = (decidedAt.get(r.decision.profileId) ?? []).some((rev) => rev > e.revision);
      if (later) continue;
      missing.push({ commandId: r.commandId, profileId: r.decision.profileId, revision: e.revision });
    }
  }
  return missing;
};

/** How many events of each type the sync stream holds, counted in SQL (cheap, unlike inspectStore), or
 *  on KurrentDB read through the adapter. */
export const syncEventCounts = async (
  w: FaultWorld,
): Promise<Readonly<Record<SyncEvent['type'], number>>> => {
  const counts: Record<SyncEvent['type'], number> = {
    RunStarted: 0,
    BatchDecided: 0,
    BatchApplied: 0,
    RunFinished: 0,
    RunFailed: 0,
    RetryRequested: 0,
  };
  if (w.prefix !== undefined) {
    const read = await withStore(w, (store) => countTypes(store, syncStream(DESTINATION_ID)));
    return { ...counts, ...read.counts };
  }
  if (w.schema === undefined && !existsSync(w.storePath)) return counts;
  const sql = await storeSql(w);
  try {
    const rows = await sql.all(
      'SELECT type, count(*) AS n FROM events WHERE stream = ? GROUP BY type',
      syncStream(DESTINATION_ID),
    );
    for (const { type, n } of rows) counts[type as SyncEvent['type']] = Number(n);
    return counts;
  } finally {
    await sql.close();
  }
};

/**
 * Polls the store, as another process would, until its sync stream holds `count` events of `type`,
 * and returns the milliseconds waited. Throws if the process ends first: then no run was in flight.
 */
export const waitForSyncEvents = async (
  w: FaultWorld,
  running: Running,
  type: SyncEvent['type'],
  count: number,
): Promise<number> => {
  const started = performance.now();
  let ended = false;
  void running.exit.then(() => (ended = true));
  if (w.prefix !== undefined)
    return withStore(w, async (store) => {
      // From the revision read last: the stream of a run holds batches of a few hundred KiB each.
      let read = await countTypes(store, syncStream(DESTINATION_ID));
      for (;;) {
        if ((read.counts[type] ?? 0) >= count) return performance.now() - started;
        if (ended) throw new Error(`the sync ended before its sync stream held ${count} ${type}`);
        await new Promise((resolve) => setTimeout(resolve, 2));
        read = await countTypes(store, syncStream(DESTINATION_ID), read.next, read.counts);
      }
    });
  while (w.schema === undefined && !existsSync(w.storePath))
    await new Promise((resolve) => setTimeout(resolve, 2));
  const sql = await storeSql(w);
  try {
    for (;;) {
      const [row] = await sql.all(
        'SELECT count(*) AS n FROM events WHERE stream = ? AND type = ?',
        syncStream(DESTINATION_ID),
        type,
      );
      if (Number(row?.['n']) >= count) return performance.now() - started;
      if (ended) throw new Error(`the sync ended before its sync stream held ${count} ${type}`);
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
  } finally {
    await sql.close();
  }
};

type Row = Record<string, unknown>;
type Lookup = { readonly row: (key: string) => Row | undefined; readonly groups: (key: string) => string[] };

/** Whether the destination holds what a decision asked for: its fields and its group changes. */
const holds = (at: Lookup, r: Decided['data']['decisions'][number]): boolean => {
  const d = r.decision;
  if (d.operation === 'delete') return at.row(d.key ?? '') === undefined;
  const key = r.keyAfter ?? d.key ?? '';
  const found = at.row(key);
  if (found === undefined) return false;
  const groups = new Set(at.groups(key));
  return (
    Object.entries(d.fields.set).every(([f, v]) => found[f] === v) &&
    d.groups.add.every((g) => groups.has(g)) &&
    d.groups.remove.every((g) => !groups.has(g))
  );
};

/** Where batch k's apply got to, from how many of its commands the destination holds. */
const landed = (k: number, held: number, commands: number): string => {
  if (held === 0) return `after batch ${k} was decided, before its apply committed`;
  if (held === commands)
    return `after batch ${k} was applied, before its outcomes were recorded (next lookup or decide)`;
  return `after batch ${k} was decided, with ${held} of ${commands} commands visible`;
};

/**
 * Where in a run a kill landed, from the sync stream after `known` events and the destination:
 * before RunStarted, in the first batch, after batch k was decided (its apply committed or not),
 * or after RunFinished.
 */
export const whereKilled = async (
  w: FaultWorld,
  sync: readonly StoredSyncEvent[],
  known: number,
): Promise<string> => {
  const run = sync.slice(known);
  const last = run[run.length - 1];
  if (last === undefined) return 'before RunStarted (starting up, catching up)';
  if (last.type === 'RunStarted') return 'in batch 1, before its BatchDecided (lookup or decide)';
  if (last.type === 'RunFinished') return 'after RunFinished';
  if (last.type !== 'BatchDecided') return `after ${last.type}`;
  const k = run.filter((e) => e.type === 'BatchDecided').length;
  const commands = last.data.decisions.filter((r) => r.decision.operation !== 'skip');
  if (commands.length === 0) return `after batch ${k} was decided (nothing to apply)`;
  if (w.pgWarehouse !== undefined) {
    const held = await pgHeld(w.pgWarehouse);
    if (held === 'none') return `after batch ${k} was decided, before the first apply`;
    if (held === 'part') return `after batch ${k} was decided, before the first apply committed`;
    const at: Lookup = { row: (key) => held.rows.get(key), groups: (key) => held.groups.get(key) ?? [] };
    return landed(k, commands.filter((r) => holds(at, r)).length, commands.length);
  }
  // The destination's file is created by its first apply.
  if (!existsSync(w.destinationPath)) return `after batch ${k} was decided, before the first apply`;
  const db = new Database(w.destinationPath, { fileMustExist: true });
  try {
    // The groups table is created just after the records table: a kill can land between the two.
    const tables = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?");
    if (tables.get('contacts') === undefined || tables.get('contacts_groups') === undefined)
      return `after batch ${k} was decided, before the first apply committed`;
    const select = db.prepare('SELECT * FROM contacts WHERE email = ?');
    const groupsOf = db.prepare('SELECT group_name FROM contacts_groups WHERE record_key = ?').pluck();
    const at: Lookup = {
      row: (key) => select.get(key) as Row | undefined,
      groups: (key) => groupsOf.all(key) as string[],
    };
    return landed(k, commands.filter((r) => holds(at, r)).length, commands.length);
  } finally {
    db.close();
  }
};
