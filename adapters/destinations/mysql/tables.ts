// The MySQL destination's tables: reading a table's columns and keys from information_schema, and
// creating missing tables with the column types syncline chooses. An existing table is never altered.
//
// Created tables: the key column VARCHAR(512), utf8mb4 with a binary collation that does not pad
// (MariaDB utf8mb4_nopad_bin, MySQL 8 utf8mb4_0900_bin), so keys that differ only in case or in
// trailing spaces are different records, as syncline's keys are exact strings; 512 characters of
// 4 bytes keep the primary key within InnoDB's 3,072-byte index limit. Every other mapped field is a
// JSON column, which keeps each value's JSON type. The groups table's key (record_key VARCHAR(512),
// group_name VARCHAR(255)) fits that limit too: 767 characters of 4 bytes.
import type { Pool, PoolConnection, RowDataPacket } from 'mysql2/promise';
import * as E from 'fp-ts/lib/Either.js';
import type { DestinationError } from '../../../engine/ports.js';
import { columnOf, type Column } from './columns.js';

/** A quoted identifier: table and field names come from the config and may hold anything. */
export const ident = (name: string): string => `\`${name.replaceAll('`', '``')}\``;

export type TableNames = {
  readonly database: string;
  readonly table: string;
  readonly groupsTable: string;
  readonly keyField: string;
  /** the destination fields of the mapping: one column each */
  readonly fields: readonly string[];
  /** how messages name the two tables (a name read from a variable is named by its label) */
  readonly shown: { readonly table: string; readonly groupsTable: string };
};

export type TableState = {
  /** every column of the records table, by name (updates may name fields that left the mapping) */
  readonly columns: ReadonlyMap<string, Column>;
  readonly groupsExist: boolean;
  /** whether (record_key, group_name) is unique, so adding a group is one multi-row upsert */
  readonly groupsUnique: boolean;
};

type Queryable = Pool | PoolConnection;

const misconfigured = (message: string): DestinationError => ({ _tag: 'DestinationMisconfigured', message });

type ColumnInfo = RowDataPacket & {
  name: string;
  dataType: string;
  columnType: string;
  scale: number | null;
  nullable: string;
  hasDefault: number;
  extra: string;
  jsonChecked: number;
};

const columnsOf = async (db: Queryable, database: string, table: string): Promise<Map<string, Column>> => {
  const [rows] = await db.query<ColumnInfo[]>(
    `SELECT c.COLUMN_NAME AS name, c.DATA_TYPE AS dataType, c.COLUMN_TYPE AS columnType,
            c.NUMERIC_SCALE AS scale, c.IS_NULLABLE AS nullable, c.COLUMN_DEFAULT IS NOT NULL AS hasDefault,
            c.EXTRA AS extra,
            EXISTS (SELECT 1 FROM information_schema.CHECK_CONSTRAINTS k
                      JOIN information_schema.TABLE_CONSTRAINTS tc
                        ON tc.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA AND tc.CONSTRAINT_NAME = k.CONSTRAINT_NAME
                    WHERE k.CONSTRAINT_SCHEMA = c.TABLE_SCHEMA AND tc.TABLE_NAME = c.TABLE_NAME
                      AND tc.CONSTRAINT_TYPE = 'CHECK' AND k.CHECK_CLAUSE LIKE CONCAT('%json_valid(', CHAR(96), c.COLUMN_NAME, CHAR(96), ')%')) AS jsonChecked
       FROM information_schema.COLUMNS c
      WHERE c.TABLE_SCHEMA = ? AND c.TABLE_NAME = ? ORDER BY c.ORDINAL_POSITION`,
    [database, table],
  );
  return new Map(
    rows.map((r) => [
      r.name,
      columnOf({
        name: r.name,
        dataType: r.dataType,
        columnType: r.columnType,
        scale: r.scale === null ? null : Number(r.scale),
        jsonChecked: Number(r.jsonChecked) !== 0,
        // NOT NULL without a default, and not filled in by the server: an INSERT must give it
        required:
          r.nullable === 'NO' && Number(r.hasDefault) === 0 && !/auto_increment|generated/i.test(r.extra),
      }),
    ]),
  );
};

/** Whether these columns (exactly) are the primary key or a unique index of the table. */
const isUnique = async (
  db: Queryable,
  database: string,
  table: string,
  names: readonly string[],
): Promise<boolean> => {
  const [rows] = await db.query<RowDataPacket[]>(
    `SELECT INDEX_NAME AS ix, GROUP_CONCAT(COLUMN_NAME ORDER BY SEQ_IN_INDEX SEPARATOR '\\0') AS cols,
            MAX(SUB_PART IS NOT NULL) AS partial
       FROM information_schema.STATISTICS
      WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND NON_UNIQUE = 0 GROUP BY INDEX_NAME`,
    [database, table],
  );
  const wanted = [...names].sort().join('\u0000');
  return rows.some(
    (r) => Number(r['partial']) === 0 && String(r['cols']).split('\u0000').sort().join('\u0000') === wanted,
  );
};

const lacking = (shown: string, have: ReadonlyMap<string, unknown>, need: readonly string[]) => {
  const missing = need.filter((c) => !have.has(c));
  if (missing.length === 0) return null;
  return misconfigured(
    `table ${shown} has no ${missing.length === 1 ? 'column' : 'columns'} ${missing.join(', ')}`,
  );
};

const GROUP_COLUMNS = ['record_key', 'group_name'];

/** The binary collation that does not pad: keys are exact strings, trailing spaces included. */
export const exactCollation = (version: string): string =>
  /mariadb/i.test(version) ? 'utf8mb4_nopad_bin' : 'utf8mb4_0900_bin';

/**
 * Checks the tables as they are, creating missing ones when `create` (apply does; lookup, count and
 * open do not, so a dry run writes nothing). Right(null): the records table does not exist yet.
 */
export const checkTables = async (
  db: Queryable,
  t: TableNames,
  create: boolean,
  collation: () => Promise<string>,
): Promise<E.Either<DestinationError, TableState | null>> => {
  let columns = await columnsOf(db, t.database, t.table);
  if (columns.size === 0) {
    if (!create) return E.right(null);
    const exact = `CHARACTER SET utf8mb4 COLLATE ${await collation()}`;
    const others = t.fields.filter((f) => f !== t.keyField).map((f) => `${ident(f)} JSON NULL`);
    await db.query(
      `CREATE TABLE IF NOT EXISTS ${ident(t.table)} (${[`${ident(t.keyField)} VARCHAR(512) ${exact} NOT NULL PRIMARY KEY`, ...others].join(', ')}) ` +
        `ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
    );
    columns = await columnsOf(db, t.database, t.table);
  }
  const missing = lacking(t.shown.table, columns, t.fields);
  if (missing !== null) return E.left(missing);
  if (!(await isUnique(db, t.database, t.table, [t.keyField])))
    return E.left(
      misconfigured(
        `table ${t.shown.table}: column ${t.keyField} must be its PRIMARY KEY or have a UNIQUE index`,
      ),
    );
  let groupColumns = await columnsOf(db, t.database, t.groupsTable);
  if (groupColumns.size === 0 && create) {
    const exact = `CHARACTER SET utf8mb4 COLLATE ${await collation()}`;
    await db.query(
      `CREATE TABLE IF NOT EXISTS ${ident(t.groupsTable)} (record_key VARCHAR(512) ${exact} NOT NULL, ` +
        `group_name VARCHAR(255) ${exact} NOT NULL, PRIMARY KEY (record_key, group_name)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
    );
    groupColumns = await columnsOf(db, t.database, t.groupsTable);
  }
  if (groupColumns.size > 0) {
    const problem = lacking(t.shown.groupsTable, groupColumns, GROUP_COLUMNS);
    if (problem !== null) return E.left(problem);
  }
  const groupsUnique =
    groupColumns.size > 0 && (await isUnique(db, t.database, t.groupsTable, GROUP_COLUMNS));
  return E.right({ columns, groupsExist: groupColumns.size > 0, groupsUnique });
};
