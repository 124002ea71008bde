// How the SQLite destination writes: opening a connection, applying commands in one transaction, and
// turning SQLite failures into DestinationErrors. The applier worker (and, in-thread, destination.ts) use it.
//
// A command's failure is its own outcome and never undoes the others (see applyBatch). Statements are
// prepared once per column set and reused. Nothing here touches threads: the caller decides where it runs.
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import { keyOf, type Value } from '../../../domain/values.js';
import { switchToWal } from '../../walMode.js';
import type { DestinationError } from '../../../engine/ports.js';
import type { Wire, WireCommand, WireFailure } from './wire.js';
import { sqliteMessage, type Place } from './errors.js';
import {
  type Cell,
  checkTables,
  type Statement,
  encodeValue,
  prepare,
  type Prepared,
  type TableNames,
  type TableState,
} from './tables.js';

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
  switchToWal(db);
  db.pragma('busy_timeout = 5000');
  // A sync writes in many small transactions at keys spread over the whole key index: a page
  // cache that holds the index (up to 64 MiB, grown only as needed) and rarer checkpoints (about
  // every 40 MiB of WAL) make that several times faster than SQLite's 2 MiB / 4 MiB defaults.
  // Larger pages and checkpoints on a thread of their own were tried: they made a first sync's
  // writer commit less, but a sync of a few changes slower, and the first no faster.
  db.pragma('cache_size = -65536');
  db.pragma('wal_autocheckpoint = 10000');
  // FULL: an apply is acknowledged only once it would survive a power cut. The store records its
  // outcome as applied, and a run of changes never looks at that profile again: a commit lost after
  // that would leave the record missing until a full sync. One sync per apply call, on the writer's
  // thread, which the deciding thread does not wait for.
  db.pragma('synchronous = FULL');
};

/**
 * Copies the write-ahead log into the database file, so that the next run's writes start a fresh log.
 * Left to SQLite's autocheckpoint, a run of a few changes now and then paid for copying up to 40 MiB
 * the runs before it wrote (60–90 ms, in a sync of 2,000 changes taking 110–140 ms). PASSIVE: it never
 * waits for a reader, and copies what it can.
 */
export const checkpoint = (db: Database.Database): void => {
  db.pragma('wal_checkpoint(PASSIVE)');
};

/** Errors that go away by themselves (locks, a full or flaky disk) are worth retrying. */
const retryableCode = (code: string): boolean => /^SQLITE_(BUSY|LOCKED|IOERR|FULL|PROTOCOL)/.test(code);

/**
 * SQLite failures become values, said as sqliteMessage says them for `place`; anything else is a bug
 * and stays an exception.
 */
export const guarded = <A>(
  run: () => E.Either<DestinationError, A>,
  place: Place,
): E.Either<DestinationError, A> => {
  try {
    return run();
  } catch (e) {
    if (!(e instanceof Database.SqliteError)) throw e;
    return E.left({
      _tag: 'DestinationUnavailable',
      message: sqliteMessage(e, place),
      retryable: retryableCode(e.code),
    });
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

export type Apply = (wire: Wire) => E.Either<DestinationError, WireFailure[]>;

/** A shape's columns, worked out once: which values go to which columns, and where the key is. */
type Shape = {
  readonly names: readonly string[];
  /** the columns set besides the key column, and the positions of their values */
  readonly columns: readonly string[];
  readonly positions: readonly number[];
  /** the position of the key field's value, -1 when the command does not set it */
  readonly keyAt: number;
  /** a column the table lacks: commands of this shape fail naming it */
  readonly unknown: string | undefined;
  /** the shape's create and its update without unset fields, the statements nearly every command runs */
  readonly upsert: Statement;
  /** null when the shape sets no column besides the key */
  readonly update: Statement | null;
};

const NO_FAILURES: readonly WireFailure[] = Object.freeze([]);

/**
 * Applies batches of commands on `db`, the only connection that writes to these tables. Messages
 * name the file and tables by their labels (`place`, `names.shown`).
 */
export const applierOn = (db: Database.Database, names: TableNames, place: Place): Apply => {
  const tables = tablesOn(db, names);
  const keyField = names.keyField;
  const shapes = new Map<string, Shape>();
  const shapeOf = (p: Prepared, fields: readonly string[]): Shape => {
    const signature = fields.join('\u0000');
    let shape = shapes.get(signature);
    if (shape === undefined) {
      const columns: string[] = [];
      const positions: number[] = [];
      fields.forEach((f, i) => {
        if (f === keyField) return;
        columns.push(f);
        positions.push(i);
      });
      const unknown = columns.find((f) => !p.state.columns.has(f));
      shape = {
        names: fields,
        columns,
        positions,
        keyAt: fields.indexOf(keyField),
        unknown,
        upsert: p.upsert(columns),
        update: columns.length > 0 ? p.update(columns, []) : null,
      };
      shapes.set(signature, shape);
    }
    return shape;
  };

  /** Undefined when applied, else why not. Throws SqliteErrors (see applyBatch). */
  const applyCommand = (p: Prepared, shape: Shape, c: WireCommand): string | undefined => {
    const [operation, key, , given, unset, add, remove] = c;
    if (unset.includes(keyField)) return `cannot unset the key field ${keyField}`;
    const newKey = shape.keyAt < 0 ? key : keyOf(given[shape.keyAt]);
    if (newKey === undefined) return `cannot set the key field ${keyField} to no value`;
    // The key column holds the key itself; a rename is the only way it changes.
    const setCols = shape.columns;
    const unsetCols = unset.length === 0 ? unset : unset.filter((f) => !shape.names.includes(f));
    const unknown = shape.unknown ?? unsetCols.find((f) => !p.state.columns.has(f));
    if (unknown !== undefined) return `table ${names.shown.table} has no column ${unknown}`;
    const groups = p.groups;
    if (groups === null) throw new Error('apply runs only once the groups table exists');
    const positions = shape.positions;
    const values = new Array<Cell>(positions.length);
    for (let i = 0; i < positions.length; i++)
      values[i] = encodeValue(given[positions[i] as number] as Value);
    const exists = (k: string): boolean => p.exists.get(k) !== undefined;

    let target = key;
    switch (operation) {
      case 'd':
        groups.deleteAll.run(key);
        p.deleteRow.run(key);
        return undefined;
      case 'c':
        shape.upsert.run(key, ...values);
        if (unsetCols.length > 0) p.update([], unsetCols).run(key);
        break;
      case 'u':
        // Most updates set fields under the key they address: the update itself tells whether the
        // record is there, without a lookup first.
        if (newKey === key && shape.update !== null && unsetCols.length === 0) {
          if (shape.update.run(...values, key).changes === 0) return `no record with key ${key}`;
          break;
        }
        if (!exists(key)) {
          // A rename applied before left the record under its new key: finish the command there.
          if (newKey === key || !exists(newKey)) return `no record with key ${key}`;
          target = newKey;
        } else if (newKey !== key) {
          if (exists(newKey)) return `cannot rename ${key} to ${newKey}: that key is taken`;
          // Every group row moves, managed or not: a rename changes the key and nothing else.
          p.renameRow.run(newKey, key);
          groups.rename.run(newKey, key);
          target = newKey;
        }
        if (setCols.length + unsetCols.length > 0) p.update(setCols, unsetCols).run(...values, target);
        break;
    }
    for (const name of add) groups.add(target, name);
    for (const name of remove) groups.remove.run(target, name);
    return undefined;
  };

  const applyAll = (
    p: Prepared,
    wire: Wire,
    one: (p: Prepared, shape: Shape, c: WireCommand) => string | undefined,
    onError?: (e: unknown) => WireFailure[1] | undefined,
  ): WireFailure[] => {
    const batchShapes = wire.shapes.map((fields) => shapeOf(p, fields));
    let failures: WireFailure[] | undefined;
    wire.commands.forEach((c, i) => {
      let message: string | undefined;
      let retryable = false;
      try {
        message = one(p, batchShapes[c[2]] as Shape, c);
      } catch (e) {
        if (onError === undefined) throw e;
        message = onError(e);
        if (message === undefined) throw e;
        retryable = retryableCode((e as InstanceType<typeof Database.SqliteError>).code);
      }
      if (message !== undefined) (failures ??= []).push([i, message, retryable]);
    });
    return failures ?? (NO_FAILURES as WireFailure[]);
  };

  // Nested inside a transaction, better-sqlite3 runs this under a SAVEPOINT: a command that fails
  // half-way is undone alone.
  const applyOne = db.transaction(applyCommand);
  const confined = db.transaction((p: Prepared, wire: Wire) =>
    applyAll(p, wire, applyOne, (e) =>
      // Errors that end the whole transaction cannot be confined to one command.
      e instanceof Database.SqliteError && db.inTransaction ? sqliteMessage(e, place) : undefined,
    ),
  );
  // Savepoints cost a third of a first sync, and commands rarely fail inside SQLite (refusals such
  // as a missing record are found before writing): try the batch without them, and only when SQLite
  // rejects a command redo the batch with one savepoint per command.
  const optimistic = db.transaction((p: Prepared, wire: Wire) => applyAll(p, wire, applyCommand));
  const applyBatch = (p: Prepared, wire: Wire): WireFailure[] => {
    try {
      return optimistic.immediate(p, wire);
    } catch (e) {
      if (!(e instanceof Database.SqliteError) || e.code.startsWith('SQLITE_BUSY')) throw e;
      return confined.immediate(p, wire);
    }
  };

  // tables(true) never answers null: it creates the records table when missing.
  return (wire) =>
    guarded(() => E.map((p: Prepared | null) => applyBatch(p as Prepared, wire))(tables(true)), place);
};
