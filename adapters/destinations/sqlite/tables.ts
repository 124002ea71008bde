// The SQLite destination's tables, cells and statements: value encoding, checking a user's existing
// tables, creating missing ones, and the prepared SQL. destination.ts keeps the command semantics.
//
// Value encoding. Columns syncline creates have no declared type (affinity BLOB/"none"), so SQLite
// stores each value as given: strings as TEXT, integers as INTEGER, other numbers as REAL, null as
// NULL — "100" and 100 stay distinct and a person reading the table sees plain values. Booleans and
// arrays have no SQLite type; they are stored as BLOBs holding their JSON (`true`, `["a","b"]`). The
// sqlite3 shell prints those bytes as that text and `json(col)` reads them, while the BLOB storage
// class keeps them apart from a string that merely looks like JSON; the trade-off is that a plain
// `WHERE active = 'true'` does not match (use `CAST(active AS TEXT)`). The alternatives lose type
// (booleans as 0/1 read back as numbers) or clutter the user's table (a type column per field).
// Reading maps TEXT → string, INTEGER/REAL → number, NULL → null and a BLOB to the value its JSON
// holds (any other BLOB, written by something else, reads as its UTF-8 text). A column the user
// declared with TEXT/NUMERIC/INTEGER/REAL affinity converts values by SQLite's rules (100 into a TEXT
// column reads back "100"); syncline leaves such columns as they are, so declare them untyped.
import type Database from 'better-sqlite3';
import * as E from 'fp-ts/lib/Either.js';
import type { DestinationConfig } from '../../../domain/destination.js';
import { Value } from '../../../domain/values.js';
import type { DestinationError } from '../../../engine/ports.js';

export type Cell = string | number | bigint | Buffer | null;

/** A quoted SQL identifier: table and field names come from the config and may hold anything. */
export const ident = (name: string): string => `"${name.replaceAll('"', '""')}"`;

export const encodeValue = (v: Value): Cell => {
  if (v === null || typeof v === 'string') return v;
  // better-sqlite3 binds every JS number as REAL; a bigint makes whole numbers INTEGER, as people expect.
  if (typeof v === 'number') return Number.isSafeInteger(v) ? BigInt(v) : v;
  return Buffer.from(JSON.stringify(v), 'utf8');
};

export const decodeValue = (cell: unknown): Value => {
  if (cell === null || cell === undefined) return null;
  if (typeof cell === 'string' || typeof cell === 'number') return cell;
  if (typeof cell === 'bigint') return Number(cell);
  if (Buffer.isBuffer(cell)) {
    const text = cell.toString('utf8');
    try {
      const parsed: unknown = JSON.parse(text);
      if (Value.is(parsed)) return parsed;
    } catch {
      // not JSON: a BLOB someone else wrote; its text is the most faithful Value we can give
    }
    return text;
  }
  throw new Error(`unexpected SQLite cell ${typeof cell}`);
};

/** A record key as read from the key column (a user's table may hold numbers there). */
export const keyFromCell = (cell: unknown): string =>
  typeof cell === 'string' ? cell : Buffer.isBuffer(cell) ? cell.toString('utf8') : String(cell);

export type TableNames = {
  readonly table: string;
  readonly groupsTable: string;
  readonly keyField: string;
  /** the destination fields of the mapping: one column each */
  readonly fields: readonly string[];
  /**
   * How messages name the two tables: by name, or by the option and variable a name was read from
   * (`options.table (from env T)`), since a variable's value may be a secret.
   */
  readonly shown: { readonly table: string; readonly groupsTable: string };
};

/**
 * The tables a destination writes, from its `table` and `groupsTable` options (by default
 * `<table>_groups`), and their labels (see TableNames.shown; by default the names themselves).
 */
export const tableNamesOf = (
  config: DestinationConfig,
  table: string,
  groupsTable?: string,
  labels: { readonly table?: string; readonly groupsTable?: string } = {},
): TableNames => {
  const shownTable = labels.table ?? table;
  return {
    table,
    groupsTable: groupsTable ?? `${table}_groups`,
    keyField: config.keyField,
    fields: Object.keys(config.mapping),
    shown: {
      table: shownTable,
      groupsTable: groupsTable === undefined ? `${shownTable}_groups` : (labels.groupsTable ?? groupsTable),
    },
  };
};

const misconfigured = (message: string): DestinationError => ({ _tag: 'DestinationMisconfigured', message });

type ColumnInfo = { name: string; pk: number };
type IndexInfo = { name: string; unique: number; partial: number };

const columnsOf = (db: Database.Database, table: string): ColumnInfo[] =>
  db.pragma(`table_info(${ident(table)})`) as ColumnInfo[];

const sameSet = (a: readonly (string | null)[], b: readonly string[]): boolean =>
  a.length === b.length && b.every((x) => a.includes(x));

/** Whether these columns together are the primary key or carry a unique index. */
const isUnique = (
  db: Database.Database,
  table: string,
  columns: ColumnInfo[],
  names: readonly string[],
): boolean => {
  if (
    sameSet(
      columns.filter((c) => c.pk > 0).map((c) => c.name),
      names,
    )
  )
    return true;
  const indexes = db.pragma(`index_list(${ident(table)})`) as IndexInfo[];
  return indexes.some((ix) => {
    if (ix.unique !== 1 || ix.partial === 1) return false;
    const cols = db.pragma(`index_info(${ident(ix.name)})`) as { name: string | null }[];
    return sameSet(
      cols.map((c) => c.name),
      names,
    );
  });
};

/** `shown`: the table as messages name it (see TableNames.shown). */
const lacking = (
  shown: string,
  have: ReadonlySet<string>,
  need: readonly string[],
): DestinationError | null => {
  const missing = need.filter((c) => !have.has(c));
  if (missing.length === 0) return null;
  const noun = missing.length === 1 ? 'column' : 'columns';
  return misconfigured(`table ${shown} has no ${noun} ${missing.join(', ')}`);
};

const GROUP_COLUMNS = ['record_key', 'group_name'];

export type TableState = {
  /** every column of the records table (updates may name fields that left the mapping) */
  readonly columns: ReadonlySet<string>;
  readonly groupsExist: boolean;
  /** whether (record_key, group_name) is unique, so adding a group can be a plain INSERT OR IGNORE */
  readonly groupsUnique: boolean;
};

/**
 * Checks the tables as they are, creating missing ones when `create` (apply does; lookup does not, so
 * a dry run writes nothing). Never alters an existing table: a missing column is an error naming it.
 * Right(null) when the records table does not exist and `create` is false.
 */
export const checkTables = (
  db: Database.Database,
  t: TableNames,
  create: boolean,
): E.Either<DestinationError, TableState | null> => {
  let columns = columnsOf(db, t.table);
  if (columns.length === 0) {
    if (!create) return E.right(null);
    // Untyped columns (BLOB affinity) store each value as given; see the encoding note above.
    const others = t.fields.filter((f) => f !== t.keyField).map(ident);
    db.exec(
      `CREATE TABLE IF NOT EXISTS ${ident(t.table)} (${[`${ident(t.keyField)} TEXT PRIMARY KEY NOT NULL`, ...others].join(', ')})`,
    );
    columns = columnsOf(db, t.table);
  }
  const names = new Set(columns.map((c) => c.name));
  const missing = lacking(t.shown.table, names, t.fields);
  if (missing !== null) return E.left(missing);
  if (!isUnique(db, t.table, columns, [t.keyField])) {
    return E.left(
      misconfigured(
        `table ${t.shown.table}: column ${t.keyField} must be its PRIMARY KEY or have a UNIQUE index`,
      ),
    );
  }
  let groupColumns = columnsOf(db, t.groupsTable);
  if (groupColumns.length === 0 && create) {
    db.exec(
      `CREATE TABLE IF NOT EXISTS ${ident(t.groupsTable)} (record_key TEXT NOT NULL, group_name TEXT NOT NULL, ` +
        `PRIMARY KEY (record_key, group_name)) WITHOUT ROWID`,
    );
    groupColumns = columnsOf(db, t.groupsTable);
  }
  if (groupColumns.length > 0) {
    const problem = lacking(t.shown.groupsTable, new Set(groupColumns.map((c) => c.name)), GROUP_COLUMNS);
    if (problem !== null) return E.left(problem);
  }
  const groupsUnique = groupColumns.length > 0 && isUnique(db, t.groupsTable, groupColumns, GROUP_COLUMNS);
  return E.right({ columns: names, groupsExist: groupColumns.length > 0, groupsUnique });
};

export type Statement = Database.Statement<unknown[]>;

export type Prepared = {
  readonly state: TableState;
  readonly lookupRows: Statement;
  readonly lookupGroups: Statement | null;
  readonly exists: Statement;
  readonly countRows: Statement;
  readonly renameRow: Statement;
  readonly deleteRow: Statement;
  /** null until the groups table exists (lookup never creates it) */
  readonly groups: {
    readonly add: (key: string, name: string) => void;
    readonly remove: Statement;
    readonly rename: Statement;
    readonly deleteAll: Statement;
  } | null;
  readonly upsert: (fields: readonly string[]) => Statement;
  readonly update: (set: readonly string[], unset: readonly string[]) => Statement;
};

/** Statements by the columns they write: a sync uses a handful of shapes, each prepared once. */
const memo = <A>(): ((id: string, make: () => A) => A) => {
  const cache = new Map<string, A>();
  return (id, make) => {
    let hit = cache.get(id);
    if (hit === undefined) cache.set(id, (hit = make()));
    return hit;
  };
};

const bind2 =
  (s: Statement) =>
  (key: string, name: string): void =>
    void s.run(key, name);
const bind4 =
  (s: Statement) =>
  (key: string, name: string): void =>
    void s.run(key, name, key, name);

export const prepare = (db: Database.Database, names: TableNames, state: TableState): Prepared => {
  const t = ident(names.table);
  const g = ident(names.groupsTable);
  const k = ident(names.keyField);
  const columns = [names.keyField, ...names.fields.filter((f) => f !== names.keyField)];
  // json_each takes any number of keys in one parameter: no chunking by SQLite's variable limit.
  const inKeys = `IN (SELECT value FROM json_each(?))`;
  const stmt = (sql: string): Statement => db.prepare<unknown[]>(sql);
  const upserts = memo<Statement>();
  const upsert = (fields: readonly string[]): Statement => {
    const cols = [k, ...fields.map(ident)];
    const onConflict =
      fields.length === 0
        ? 'DO NOTHING'
        : `DO UPDATE SET ${fields.map((f) => `${ident(f)} = excluded.${ident(f)}`).join(', ')}`;
    return stmt(
      `INSERT INTO ${t} (${cols.join(', ')}) VALUES (${cols.map(() => '?').join(', ')}) ON CONFLICT (${k}) ${onConflict}`,
    );
  };
  const updates = memo<Statement>();
  const update = (set: readonly string[], unset: readonly string[]): Statement => {
    const parts = [...set.map((f) => `${ident(f)} = ?`), ...unset.map((f) => `${ident(f)} = NULL`)];
    return stmt(`UPDATE ${t} SET ${parts.join(', ')} WHERE ${k} = ?`);
  };
  return {
    state,
    lookupRows: stmt(`SELECT ${columns.map(ident).join(', ')} FROM ${t} WHERE ${k} ${inKeys}`).raw(true),
    lookupGroups: state.groupsExist
      ? stmt(`SELECT record_key, group_name FROM ${g} WHERE record_key ${inKeys}`).raw(true)
      : null,
    exists: stmt(`SELECT 1 FROM ${t} WHERE ${k} = ?`).pluck(true),
    // A limit of -1 is none: a whole count for status, a look at one row for a run.
    countRows: stmt(`SELECT count(*) FROM (SELECT 1 FROM ${t} LIMIT ?)`).pluck(true),
    renameRow: stmt(`UPDATE ${t} SET ${k} = ? WHERE ${k} = ?`),
    deleteRow: stmt(`DELETE FROM ${t} WHERE ${k} = ?`),
    groups: state.groupsExist
      ? {
          // A user's groups table need not have a unique key; without one, check before inserting.
          add: state.groupsUnique
            ? bind2(stmt(`INSERT OR IGNORE INTO ${g} (record_key, group_name) VALUES (?, ?)`))
            : bind4(
                stmt(
                  `INSERT INTO ${g} (record_key, group_name) SELECT ?, ? ` +
                    `WHERE NOT EXISTS (SELECT 1 FROM ${g} WHERE record_key = ? AND group_name = ?)`,
                ),
              ),
          remove: stmt(`DELETE FROM ${g} WHERE record_key = ? AND group_name = ?`),
          rename: stmt(`UPDATE OR REPLACE ${g} SET record_key = ? WHERE record_key = ?`),
          deleteAll: stmt(`DELETE FROM ${g} WHERE record_key = ?`),
        }
      : null,
    // Field names cannot hold NUL (SQLite identifiers end there), so these ids are unambiguous.
    upsert: (fields) => upserts(fields.join('\u0000'), () => upsert(fields)),
    update: (set, unset) =>
      updates(`${set.join('\u0000')}\u0000\u0000${unset.join('\u0000')}`, () => update(set, unset)),
  };
};
