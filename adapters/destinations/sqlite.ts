// The SQLite destination: one row per record in `table` (a column per mapped field, the key field as
// primary key) and its lists/tags as (record_key, group_name) rows in `groupsTable`.
//
// Value encoding is described in sqliteTables.ts: strings, numbers and null are stored natively in
// untyped columns; booleans and arrays as BLOBs of their JSON, so lookup returns what apply wrote.
// How a batch is written (one transaction; one command's failure never undoes the others) is in
// sqliteApply.ts. better-sqlite3 blocks its thread, so apply runs on a worker thread with its own
// connection (sqliteApplier.ts) while lookup stays on the caller's: in WAL mode a reader never waits
// for the writer and each lookup sees the last committed apply. Commands cross to that thread in the
// compact form of sqliteWire.ts.
import Database from 'better-sqlite3';
import { resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import * as E from 'fp-ts/lib/Either.js';
import { pipe } from 'fp-ts/lib/function.js';
import type { Command, CommandOutcome, DestinationTypeDescription } from '../../domain/command.js';
import type { ObservedRecord } from '../../domain/decision.js';
import type { Destination as DestinationConfig } from '../../domain/destination.js';
import { SYNC_MODES } from '../../domain/modes.js';
import { compareStrings, type Properties } from '../../domain/values.js';
import type { Destination, DestinationError, DestinationType, OpenError } from '../../engine/ports.js';
import { workerFile } from '../workerFile.js';
import { openFailed, optionalString, requiredString, resolveOptions } from './options.js';
import type { ApplierData, ApplyRequest, ApplyResponse } from './sqliteApplier.js';
import { applierOn, connect, guarded, tablesOn } from './sqliteApply.js';
import { decodeValue, keyFromCell, type Cell, type Prepared, type TableNames } from './sqliteTables.js';
import { outcomesOf, toWire, type WireFailure } from './sqliteWire.js';

export const sqliteDescription: DestinationTypeDescription = {
  type: 'sqlite',
  description:
    'A table in a SQLite file: one row per record, one column per mapped field, plus a groups table.',
  modes: [...SYNC_MODES],
  defaultMode: 'sync',
  options: [
    { name: 'path', required: true, description: 'the SQLite file; created, with its directory, if missing' },
    { name: 'table', required: true, description: 'the records table; created if missing, never altered' },
    {
      name: 'groupsTable',
      required: false,
      description: 'the (record_key, group_name) table of lists/tags',
      default: '<table>_groups',
    },
  ],
};

type Applied = E.Either<DestinationError, CommandOutcome[]>;

/** Applies batches somewhere, and when closed waits for those under way before letting go of it. */
type Applier = {
  readonly apply: (commands: readonly Command[]) => Promise<Applied>;
  readonly close: () => Promise<void>;
};

/** The worker starts with the first apply, so a plan (lookups only) never starts one. */
const workerApplier = (data: ApplierData): Applier => {
  let worker: Worker | null = null;
  let broken: Error | null = null;
  let closing = false;
  let nextId = 0;
  const pending = new Map<
    number,
    { commands: readonly Command[]; resolve: (r: Applied) => void; reject: (e: Error) => void }
  >();
  const outstanding = new Set<Promise<unknown>>();

  // An idle worker must not keep the process alive, and a busy one must: a CLI awaiting an apply
  // would otherwise exit with the apply unanswered.
  const settle = (id: number): void => {
    pending.delete(id);
    if (pending.size === 0) worker?.unref();
  };
  const fail = (e: Error): void => {
    broken ??= e;
    for (const [id, p] of pending) {
      settle(id);
      p.reject(broken);
    }
  };
  const start = (): Worker => {
    const w = new Worker(
      workerFile(import.meta.url, './sqliteApplier.js', '../../dist/adapters/destinations/sqliteApplier.js'),
      { workerData: data },
    );
    w.unref();
    w.on('message', ({ id, result }: ApplyResponse) => {
      const p = pending.get(id);
      settle(id);
      if (p !== undefined)
        p.resolve(E.map((failed: WireFailure[]) => outcomesOf(p.commands, failed))(result));
    });
    const failure = (e: Error) =>
      fail(new Error(`SQLite destination apply failed: ${e.message}`, { cause: e }));
    w.on('error', failure);
    w.on('messageerror', failure);
    w.on('exit', (code) => fail(new Error(`SQLite destination's apply worker stopped (exit code ${code})`)));
    return w;
  };

  const apply = (commands: readonly Command[]): Promise<Applied> => {
    if (closing) return Promise.reject(new Error('the SQLite destination is closed'));
    if (broken !== null) return Promise.reject(broken);
    const id = ++nextId;
    const answer = new Promise<Applied>((resolve, reject) => {
      worker ??= start();
      pending.set(id, { commands, resolve, reject });
      if (pending.size === 1) worker.ref();
      try {
        worker.postMessage({ id, wire: JSON.stringify(toWire(commands)) } satisfies ApplyRequest);
      } catch (e) {
        settle(id);
        throw e;
      }
    });
    const forget = () => void outstanding.delete(answer);
    answer.then(forget, forget);
    outstanding.add(answer);
    return answer;
  };

  const close = async (): Promise<void> => {
    closing = true;
    await Promise.allSettled([...outstanding]);
    if (worker !== null) await worker.terminate();
  };
  return { apply, close };
};

/** For a database private to one connection (`:memory:`, or `''` for a temporary file). */
const inThreadApplier = (db: Database.Database, names: TableNames): Applier => {
  const apply = applierOn(db, names);
  return {
    // A bug's exception rejects, as it does from the worker, rather than throwing at the caller.
    apply: (commands) =>
      new Promise((resolve) =>
        resolve(E.map((failed: WireFailure[]) => outcomesOf(commands, failed))(apply(toWire(commands)))),
      ),
    close: () => Promise.resolve(),
  };
};

const sqliteDestination = (db: Database.Database, path: string, names: TableNames): Destination => {
  const tables = tablesOn(db, names);
  const applier = db.memory ? inThreadApplier(db, names) : workerApplier({ path: resolve(path), names });

  const lookup = (keys: readonly string[]): E.Either<DestinationError, readonly ObservedRecord[]> => {
    if (keys.length === 0) return E.right([]);
    return E.map((p: Prepared | null): readonly ObservedRecord[] => {
      if (p === null) return [];
      const rows = p.lookupRows.all(JSON.stringify([...new Set(keys)])) as Cell[][];
      // Group rows matter only for records that exist, and a first sync finds none: ask only for those.
      const found = rows.map((row) => keyFromCell(row[0]));
      const groups = new Map<string, Set<string>>();
      if (found.length > 0)
        for (const [k, name] of (p.lookupGroups?.all(JSON.stringify(found)) ?? []) as [Cell, string][]) {
          const key = keyFromCell(k);
          const set = groups.get(key) ?? new Set<string>();
          groups.set(key, set.add(name));
        }
      const columns = [names.keyField, ...names.fields.filter((f) => f !== names.keyField)];
      return rows.map((row, r) => {
        const key = found[r] as string;
        const fields: Properties = {};
        columns.forEach((f, i) => (fields[f] = decodeValue(row[i])));
        return { key, fields, groups: [...(groups.get(key) ?? [])].sort(compareStrings) };
      });
    })(tables(false));
  };

  let closed: Promise<void> | null = null;
  return {
    describe: () => sqliteDescription,
    // Work happens when the task runs, so re-running a task repeats the call.
    lookup: (keys) => () => Promise.resolve(guarded(() => lookup(keys))),
    apply: (commands) => () => applier.apply(commands),
    close: () =>
      (closed ??= applier.close().finally(() => {
        if (db.open) db.close();
      })),
  };
};

const messageOf = (e: unknown): string => (e instanceof Error ? e.message : String(e));

const openDatabase = (config: DestinationConfig, path: string): E.Either<OpenError, Database.Database> =>
  E.tryCatch(
    () => connect(path),
    (e) => openFailed(config, `cannot open ${path}: ${messageOf(e)}`),
  );

export const sqliteDestinationType: DestinationType = {
  description: sqliteDescription,
  open: (config, env) => () =>
    Promise.resolve(
      pipe(
        E.Do,
        E.bind('options', () => resolveOptions(config, env)),
        E.bind('path', ({ options }) => requiredString(config, options, 'path')),
        E.bind('table', ({ options }) => requiredString(config, options, 'table')),
        E.bind('groupsTable', ({ options }) => optionalString(config, options, 'groupsTable')),
        E.flatMap(({ path, table, groupsTable }) =>
          E.map((db: Database.Database) =>
            sqliteDestination(db, path, {
              table,
              groupsTable: groupsTable ?? `${table}_groups`,
              keyField: config.keyField,
              fields: Object.keys(config.mapping),
            }),
          )(openDatabase(config, path)),
        ),
      ),
    ),
};
