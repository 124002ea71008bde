// How the SQLite destination writes: opening a connection, applying commands in one transaction, and
// turning SQLite failures into DestinationErrors. The applier worker (and, in-thread, sqlite.ts) use it.
//
// A command's failure is its own outcome and never undoes the others (see applyBatch). Statements are
// prepared once per column set and reused. Nothing here touches threads: the caller decides where it runs.
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import type { Command, CommandOutcome } from '../../domain/command.js';
import { keyOf, type Value } from '../../domain/values.js';
import type { DestinationError } from '../../engine/ports.js';
import {
  checkTables,
  encodeValue,
  prepare,
  type Prepared,
  type TableNames,
  type TableState,
} from './sqliteTables.js';

/** Opens (creating it and its directory if missing) a connection tuned for a sync's writes. Throws. */
export const connect = (path: string): Database.Database => {
  mkdirSync(dirname(resolve(path)), { recursive: true });
  const db = new Database(path);
  try {
    tune(db);
  } catch (e) {
    db.close();
    throw e;
  }
  return db;
};

const tune = (db: Database.Database): void => {
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
export const guarded = <A>(run: () => E.Either<DestinationError, A>): E.Either<DestinationError, A> => {
  try {
    return run();
  } catch (e) {
    if (!(e instanceof Database.SqliteError)) throw e;
    return E.left({ _tag: 'DestinationUnavailable', message: e.message, retryable: retryableCode(e.code) });
  }
};

export type Tables = (create: boolean) => E.Either<DestinationError, Prepared | null>;

/**
 * The checked tables and their statements on this connection, creating missing tables when `create`.
 * Remembered once both tables exist; until then each call looks again, as another connection may
 * have created them meanwhile.
 */
export const tablesOn = (db: Database.Database, names: TableNames): Tables => {
  let complete: Prepared | null = null;
  return (create) => {
    if (complete !== null) return E.right(complete);
    return E.map((state: TableState | null) => {
      if (state === null) return null;
      const p = prepare(db, names, state);
      if (state.groupsExist) complete = p;
      return p;
    })(checkTables(db, names, create));
  };
};

export type Apply = (commands: readonly Command[]) => E.Either<DestinationError, CommandOutcome[]>;

/** Applies batches of commands on `db`, the only connection that writes to these tables. */
export const applierOn = (db: Database.Database, names: TableNames): Apply => {
  const tables = tablesOn(db, names);

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

  // tables(true) never answers null: it creates the records table when missing.
  return (commands) =>
    guarded(() => E.map((p: Prepared | null) => applyBatch(p as Prepared, commands))(tables(true)));
};
