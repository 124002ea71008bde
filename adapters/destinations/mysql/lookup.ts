// How the MySQL destination reads: the records under some keys with their group rows, read back as
// the values apply wrote (each cell decoded by its column's kind), and a count that creates nothing.
import type { Pool, RowDataPacket } from 'mysql2/promise';
import type { TypeCast } from 'mysql2';
import * as E from 'fp-ts/lib/Either.js';
import type { ObservedRecord } from '../../../domain/decision.js';
import { compareStrings, putNamed, type Properties } from '../../../domain/values.js';
import type { DestinationError } from '../../../engine/ports.js';
import { decodeFrom, keyFromCell } from './columns.js';
import { ident, type TableNames, type TableState } from './tables.js';

/**
 * Every cell as UTF-8 text (mysql2 would turn DECIMAL into strings, TINYINT(1) into numbers and, on
 * MySQL 8 only, JSON into objects), and BIT as its bytes: columns.ts decodes each by its column's kind.
 */
export const asText: TypeCast = (field) => (field.type === 'BIT' ? field.buffer() : field.string('utf8'));

const KEYS_PER_QUERY = 5_000;

/** The records held under `keys`, or none when the table does not exist (lookup never creates it). */
export const lookupOn = async (
  pool: Pool,
  names: TableNames,
  state: TableState | null,
  keys: readonly string[],
): Promise<E.Either<DestinationError, readonly ObservedRecord[]>> => {
  const wanted = [...new Set(keys)];
  if (state === null || wanted.length === 0) return E.right([]);
  const columns = [names.keyField, ...names.fields.filter((f) => f !== names.keyField)];
  const t = ident(names.table);
  const rows: unknown[][] = [];
  for (let i = 0; i < wanted.length; i += KEYS_PER_QUERY) {
    const [found] = await pool.query<RowDataPacket[]>({
      sql: `SELECT ${columns.map(ident).join(', ')} FROM ${t} WHERE ${ident(names.keyField)} IN (?)`,
      values: [wanted.slice(i, i + KEYS_PER_QUERY)],
      rowsAsArray: true,
      typeCast: asText,
    });
    rows.push(...(found as unknown as unknown[][]));
  }
  const found = rows.map((row) => keyFromCell(row[0]));
  const groups = new Map<string, string[]>();
  // Group rows matter only for records that exist, and a first sync finds none: ask only for those.
  if (found.length > 0 && state.groupsExist)
    for (let i = 0; i < found.length; i += KEYS_PER_QUERY) {
      const [pairs] = await pool.query<RowDataPacket[]>({
        sql: `SELECT record_key, group_name FROM ${ident(names.groupsTable)} WHERE record_key IN (?)`,
        values: [found.slice(i, i + KEYS_PER_QUERY)],
        rowsAsArray: true,
        typeCast: asText,
      });
      for (const [k, name] of pairs as unknown as [unknown, unknown][]) {
        const key = keyFromCell(k);
        const list = groups.get(key) ?? [];
        groups.set(key, list);
        list.push(keyFromCell(name));
      }
    }
  return E.right(
    rows.map((row, r) => {
      const key = found[r] as string;
      const fields: Properties = {};
      columns.forEach((f, i) => putNamed(fields, f, decodeFrom(state.columns.get(f), row[i])));
      return { key, fields, groups: [...new Set(groups.get(key) ?? [])].sort(compareStrings) };
    }),
  );
};

/** The rows of the records table (at most `atMost`), or null when it does not exist. */
export const countOn = async (
  pool: Pool,
  names: TableNames,
  state: TableState | null,
  atMost?: number,
): Promise<E.Either<DestinationError, number | null>> => {
  if (state === null) return E.right(null);
  const limit = atMost === undefined ? '' : ` LIMIT ${Math.max(0, Math.floor(atMost))}`;
  const [rows] = await pool.query<RowDataPacket[]>({
    sql: `SELECT COUNT(*) FROM (SELECT 1 FROM ${ident(names.table)}${limit}) AS held`,
    rowsAsArray: true,
  });
  return E.right(Number((rows as unknown as unknown[][])[0]?.[0] ?? 0));
};
