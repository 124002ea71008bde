// The PostgreSQL destination's tables: reading an existing table's columns from the catalog, checking
// it (never altering it), and creating missing ones: the key as text, every other field as jsonb.
//
// Why those types: syncline does not know a field's type before values arrive, and a property may
// hold a string in one profile and a number in another. jsonb keeps every JSON value with its type
// ("100" and 100, true and "true", lists), so a lookup reads back exactly what apply wrote; the key is
// text because keys identify records as strings. A table created by the user keeps the types it has.
import type pg from 'pg';
import * as E from 'fp-ts/lib/Either.js';
import type { DestinationError } from '../../../engine/ports.js';
import { ident, type TableNames } from '../sqlite/tables.js';
import { columnOf, type Column } from './columns.js';

export type Names = TableNames & {
  readonly schema: string;
  /** the schema as messages name it: by name, or by its option's label when read from a variable */
  readonly shownSchema: string;
};

export type TableState = {
  /** every column of the records table, by name (an update may unset a field that left the mapping) */
  readonly columns: ReadonlyMap<string, Column>;
  readonly key: Column;
  readonly groupsExist: boolean;
};

/** A pool or one of its connections: whatever runs a query. */
export type Queryable = pg.Pool | pg.ClientBase;

export const qualified = (names: Names, table: string): string => `${ident(names.schema)}.${ident(table)}`;

const misconfigured = (message: string): DestinationError => ({ _tag: 'DestinationMisconfigured', message });

const COLUMNS = `SELECT a.attname AS name, format_type(a.atttypid, NULL) AS cast,
    format_type(a.atttypid, a.atttypmod) AS shown,
    CASE WHEN t.typtype = 'd' THEN t.typtypmod ELSE a.atttypmod END AS typmod,
    b.typname AS base, e.typname AS elem,
    EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisunique AND i.indpred IS NULL
      AND i.indexprs IS NULL AND i.indnkeyatts = 1 AND i.indkey[0] = a.attnum) AS "unique"
  FROM pg_attribute a
  JOIN pg_class c ON c.oid = a.attrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_type t ON t.oid = a.atttypid
  JOIN pg_type b ON b.oid = CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE t.oid END
  LEFT JOIN pg_type e ON e.oid = b.typelem AND b.typcategory = 'A'
  WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p', 'f')
    AND a.attnum > 0 AND NOT a.attisdropped
  ORDER BY a.attnum`;

type ColumnRow = Parameters<typeof columnOf>[0] & { unique: boolean };

const columnsOf = async (db: Queryable, schema: string, table: string): Promise<ColumnRow[]> =>
  (await db.query<ColumnRow>(COLUMNS, [schema, table])).rows;

/** `shown`: the table as messages name it (see TableNames.shown). */
const lacking = (
  shown: string,
  have: ReadonlySet<string>,
  need: readonly string[],
): DestinationError | null => {
  const missing = need.filter((c) => !have.has(c));
  if (missing.length === 0) return null;
  return misconfigured(
    `table ${shown} has no ${missing.length === 1 ? 'column' : 'columns'} ${missing.join(', ')}`,
  );
};

const GROUP_COLUMNS = ['record_key', 'group_name'];

/** The statements that create what is missing: the schema, the records table, the groups table. */
const creations = async (
  db: Queryable,
  names: Names,
  records: boolean,
  groups: boolean,
): Promise<string[]> => {
  const sql: string[] = [];
  const schema = await db.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [names.schema]);
  if (schema.rowCount === 0) sql.push(`CREATE SCHEMA IF NOT EXISTS ${ident(names.schema)}`);
  if (records) {
    const others = names.fields.filter((f) => f !== names.keyField).map((f) => `${ident(f)} jsonb`);
    const key = `${ident(names.keyField)} text PRIMARY KEY`;
    sql.push(`CREATE TABLE IF NOT EXISTS ${qualified(names, names.table)} (${[key, ...others].join(', ')})`);
  }
  if (groups)
    sql.push(
      `CREATE TABLE IF NOT EXISTS ${qualified(names, names.groupsTable)} (record_key text NOT NULL, ` +
        `group_name text NOT NULL, PRIMARY KEY (record_key, group_name))`,
    );
  return sql;
};

/**
 * Checks the tables as they are, creating missing ones (and the schema) when `create`: apply does,
 * lookup, count and validate do not, so that they write nothing. Never alters an existing table: a
 * mapped field without a column is an error naming table and column. Right(null) when the records
 * table does not exist and `create` is false.
 */
export const checkTables = async (
  db: Queryable,
  names: Names,
  create: boolean,
): Promise<E.Either<DestinationError, TableState | null>> => {
  let rows = await columnsOf(db, names.schema, names.table);
  let groupRows = await columnsOf(db, names.schema, names.groupsTable);
  if (create && (rows.length === 0 || groupRows.length === 0)) {
    for (const sql of await creations(db, names, rows.length === 0, groupRows.length === 0))
      await db.query(sql);
    if (rows.length === 0) rows = await columnsOf(db, names.schema, names.table);
    if (groupRows.length === 0) groupRows = await columnsOf(db, names.schema, names.groupsTable);
  }
  if (rows.length === 0) return E.right(null);
  const columns = new Map(rows.map((r) => [r.name, columnOf(r)]));
  const missing = lacking(names.shown.table, new Set(columns.keys()), names.fields);
  if (missing !== null) return E.left(missing);
  if (!rows.some((r) => r.name === names.keyField && r.unique))
    return E.left(
      misconfigured(
        `table ${names.shown.table}: column ${names.keyField} must be its PRIMARY KEY or have a UNIQUE index of its own`,
      ),
    );
  if (groupRows.length > 0) {
    const problem = lacking(names.shown.groupsTable, new Set(groupRows.map((r) => r.name)), GROUP_COLUMNS);
    if (problem !== null) return E.left(problem);
  }
  return E.right({ columns, key: columns.get(names.keyField) as Column, groupsExist: groupRows.length > 0 });
};

/**
 * What the connected role may not do that a sync needs, found without writing: write the tables, or
 * create them where they are missing.
 */
export const privilegeProblems = async (
  db: Queryable,
  names: Names,
  state: TableState | null,
): Promise<string[]> => {
  const problems: string[] = [];
  const lacks = async (sql: string, values: unknown[]): Promise<boolean> =>
    (await db.query<{ ok: boolean }>(`SELECT (${sql}) AS ok`, values)).rows[0]?.ok !== true;
  const tables: [string, string][] = [[names.table, names.shown.table]];
  if (state?.groupsExist === true) tables.push([names.groupsTable, names.shown.groupsTable]);
  if (state !== null)
    for (const [table, shown] of tables)
      for (const privilege of ['SELECT', 'INSERT', 'UPDATE', 'DELETE'])
        if (await lacks('has_table_privilege($1, $2)', [qualified(names, table), privilege]))
          problems.push(`table ${shown}: the connected role may not ${privilege} there`);
  if (state === null || !state.groupsExist) {
    const schema = await db.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [names.schema]);
    const may =
      schema.rowCount === 0
        ? await lacks(`has_database_privilege(current_database(), 'CREATE')`, [])
        : await lacks(`has_schema_privilege($1, 'CREATE')`, [names.schema]);
    if (may)
      problems.push(`the connected role may not create the missing tables in schema ${names.shownSchema}`);
  }
  return problems;
};
