// The SQLite destination: one row per record in `table` (a column per mapped field, the key field as
// primary key) and its lists/tags as (record_key, group_name) rows in `groupsTable`.
//
// Value encoding is described in sqliteTables.ts: strings, numbers and null are stored natively in
// untyped columns; booleans and arrays as BLOBs of their JSON, so lookup returns what apply wrote.
// Each apply is one transaction; one command's failure is its own outcome and never undoes the others
// (see applyBatch). Statements are prepared once per column set and reused.
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import { pipe } from 'fp-ts/lib/function.js';
import type { Command, CommandOutcome, DestinationTypeDescription } from '../../domain/command.js';
import type { ObservedRecord } from '../../domain/decision.js';
import type { Destination as DestinationConfig } from '../../domain/destination.js';
import { SYNC_MODES } from '../../domain/modes.js';
import { compareStrings, keyOf, type Properties, type Value } from '../../domain/values.js';
import type { Destination, DestinationError, DestinationType, OpenError } from '../../engine/ports.js';
import { openFailed, optionalString, requiredString, resolveOptions } from './options.js';
import {
  checkTables,
  decodeValue,
  encodeValue,
  keyFromCell,
  prepare,
  type Cell,
  type Prepared,
  type TableNames,
  type TableState,
} from './sqliteTables.js';

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

const ok = (c: Command): CommandOutcome => ({ commandId: c.commandId, status: 'ok' });
const failed = (c: Command, message: string, retryable = false): CommandOutcome => ({
  commandId: c.commandId,
  status: 'error',
  retryable,
  message,
});

/** Errors that go away by themselves (locks, a full or flaky disk) are worth retrying. */
const retryableCode = (code: string): boolean => /^SQLITE_(BUSY|LOCKED|IOERR|FULL|PROTOCOL)/.test(code);

/** SQLite failures become values; anything else is a bug and stays an exception. */
const guarded = <A>(run: () => E.Either<DestinationError, A>): E.Either<DestinationError, A> => {
  try {
    return run();
  } catch (e) {
    if (!(e instanceof Database.SqliteError)) throw e;
    return E.left({ _tag: 'DestinationUnavailable', message: e.message, retryable: retryableCode(e.code) });
  }
};

const sqliteDestination = (db: Database.Database, names: TableNames): Destination => {
  let complete: Prepared | null = null;
  const tables = (create: boolean): E.Either<DestinationError, Prepared | null> => {
    if (complete !== null) return E.right(complete);
    return E.map((state: TableState | null) => {
      if (state === null) return null;
      const p = prepare(db, names, state);
      if (state.groupsExist) complete = p;
      return p;
    })(checkTables(db, names, create));
  };

  const applyCommand = (p: Prepared, c: Command): CommandOutcome => {
    const keyField = names.keyField;
    const set = c.fields.set;
    if (c.fields.unset.includes(keyField)) return failed(c, `cannot unset the key field ${keyField}`);
    const newKey = Object.hasOwn(set, keyField) ? keyOf(set[keyField]) : c.key;
    if (newKey === undefined) return failed(c, `cannot set the key field ${keyField} to no value`);
    // The key column holds the key itself; a rename is the only way it changes.
    const setCols = Object.keys(set).filter((f) => f !== keyField);
    const unsetCols = c.fields.unset.filter((f) => !Object.hasOwn(set, f));
    const unknown = [...setCols, ...unsetCols].find((f) => !p.state.columns.has(f));
    if (unknown !== undefined) return failed(c, `table ${names.table} has no column ${unknown}`);
    const groups = p.groups;
    if (groups === null) throw new Error('apply runs only once the groups table exists');
    const values = setCols.map((f) => encodeValue(set[f] as Value));
    const exists = (key: string): boolean => p.exists.get(key) !== undefined;

    let target = c.key;
    switch (c.operation) {
      case 'delete':
        groups.deleteAll.run(c.key);
        p.deleteRow.run(c.key);
        return ok(c);
      case 'create':
        p.upsert(setCols).run(c.key, ...values);
        if (unsetCols.length > 0) p.update([], unsetCols).run(c.key);
        break;
      case 'update':
        if (!exists(c.key)) {
          // A rename applied before left the record under its new key: finish the command there.
          if (newKey === c.key || !exists(newKey)) return failed(c, `no record with key ${c.key}`);
          target = newKey;
        } else if (newKey !== c.key) {
          if (exists(newKey)) return failed(c, `cannot rename ${c.key} to ${newKey}: that key is taken`);
          // Every group row moves, managed or not: a rename changes the key and nothing else.
          p.renameRow.run(newKey, c.key);
          groups.rename.run(newKey, c.key);
          target = newKey;
        }
        if (setCols.length + unsetCols.length > 0) p.update(setCols, unsetCols).run(...values, target);
        break;
    }
    for (const name of c.groups.add) groups.add(target, name);
    for (const name of c.groups.remove) groups.remove.run(target, name);
    return ok(c);
  };

  // Nested inside a transaction, better-sqlite3 runs this under a SAVEPOINT: a command that fails
  // half-way is undone alone.
  const applyOne = db.transaction(applyCommand);
  const confined = db.transaction((p: Prepared, commands: readonly Command[]): CommandOutcome[] =>
    commands.map((c) => {
      try {
        return applyOne(p, c);
      } catch (e) {
        // Errors that end the whole transaction cannot be confined to one command.
        if (!(e instanceof Database.SqliteError) || !db.inTransaction) throw e;
        return failed(c, e.message, retryableCode(e.code));
      }
    }),
  );
  // Savepoints cost a third of a first sync, and commands rarely fail inside SQLite (refusals such
  // as a missing record are found before writing): try the batch without them, and only when SQLite
  // rejects a command redo the batch with one savepoint per command.
  const optimistic = db.transaction((p: Prepared, commands: readonly Command[]): CommandOutcome[] =>
    commands.map((c) => applyCommand(p, c)),
  );
  const applyBatch = (p: Prepared, commands: readonly Command[]): CommandOutcome[] => {
    try {
      return optimistic.immediate(p, commands);
    } catch (e) {
      if (!(e instanceof Database.SqliteError) || e.code.startsWith('SQLITE_BUSY')) throw e;
      return confined.immediate(p, commands);
    }
  };

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

  return {
    describe: () => sqliteDescription,
    // Work happens when the task runs, so re-running a task repeats the call.
    lookup: (keys) => () => Promise.resolve(guarded(() => lookup(keys))),
    apply: (commands) => () =>
      Promise.resolve(
        guarded(() => E.map((p: Prepared | null) => applyBatch(p as Prepared, commands))(tables(true))),
      ),
    close: () => {
      if (db.open) db.close();
      return Promise.resolve();
    },
  };
};

const messageOf = (e: unknown): string => (e instanceof Error ? e.message : String(e));

const openDatabase = (config: DestinationConfig, path: string): E.Either<OpenError, Database.Database> =>
  E.tryCatch(
    () => {
      mkdirSync(dirname(resolve(path)), { recursive: true });
      const db = new Database(path);
      db.pragma('journal_mode = WAL');
      db.pragma('busy_timeout = 5000');
      // A sync writes in many small transactions at keys spread over the whole key index: a page
      // cache that holds the index (up to 64 MiB, grown only as needed) and rarer checkpoints (about
      // every 40 MiB of WAL) make that several times faster than SQLite's 2 MiB / 4 MiB defaults.
      db.pragma('cache_size = -65536');
      db.pragma('wal_autocheckpoint = 10000');
      // NORMAL survives a killed process; a power cut may lose the last commits, and the next sync
      // sees that in its observation and writes them again, so the destination still converges.
      db.pragma('synchronous = NORMAL');
      return db;
    },
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
            sqliteDestination(db, {
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
