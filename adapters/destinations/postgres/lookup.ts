// How the PostgreSQL destination reads: the records under some keys with their group rows, in one
// query per batch, read back as the values apply wrote; and how many records it holds.
import * as E from 'fp-ts/lib/Either.js';
import type { ObservedRecord } from '../../../domain/decision.js';
import { compareStrings, putNamed, type Properties, type Value } from '../../../domain/values.js';
import type { DestinationError } from '../../../engine/ports.js';
import { ident } from '../sqlite/tables.js';
import { decodeFor, readExpression } from './columns.js';
import { qualified, type Names, type Queryable, type TableState } from './tables.js';

/** The records under `keys` (each once), with their groups sorted; none while the table is missing. */
export const lookupRecords = async (
  db: Queryable,
  names: Names,
  state: TableState | null,
  keys: readonly string[],
): Promise<E.Either<DestinationError, readonly ObservedRecord[]>> => {
  if (keys.length === 0 || state === null) return E.right([]);
  const t = qualified(names, names.table);
  const k = ident(names.keyField);
  const fields = names.fields.filter((f) => f !== names.keyField);
  const reads = fields.map(
    (f) => `${readExpression(state.columns.get(f) ?? state.key, 'r')} AS c${fields.indexOf(f)}`,
  );
  const groups = state.groupsExist
    ? `ARRAY(SELECT g.group_name FROM ${qualified(names, names.groupsTable)} g WHERE g.record_key = r.${k}::text)`
    : `'{}'::text[]`;
  const sql =
    `SELECT r.${k}::text AS key, ${[...reads, `${groups} AS groups`].join(', ')} ` +
    `FROM ${t} r WHERE r.${k} = ANY($1::${state.key.cast}[])`;
  const { rows } = await db.query<Record<string, unknown>>(sql, [[...new Set(keys)]]);
  return E.right(
    rows.map((row) => {
      const key = row['key'] as string;
      const record: Properties = {};
      putNamed<Value>(record, names.keyField, key);
      fields.forEach((f, i) => {
        const column = state.columns.get(f);
        if (column !== undefined) putNamed(record, f, decodeFor(column, row[`c${i}`]));
      });
      const held = [...new Set(row['groups'] as string[])].sort(compareStrings);
      return { key, fields: record, groups: held };
    }),
  );
};

/** The rows of the records table (stopping at `atMost`), or null when it does not exist. */
export const countRecords = async (
  db: Queryable,
  names: Names,
  state: TableState | null,
  atMost?: number,
): Promise<number | null> => {
  if (state === null) return null;
  const { rows } = await db.query<{ n: number }>(
    `SELECT count(*)::float8 AS n FROM (SELECT 1 FROM ${qualified(names, names.table)} LIMIT $1) x`,
    [atMost ?? null],
  );
  return rows[0]?.n ?? 0;
};
