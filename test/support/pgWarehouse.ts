// The fault worlds' warehouse as a `postgres` destination (test/support/faultWorld.ts): a schema of its
// own on the test server, read from outside syncline in SQL, both tables row by row.
import pg from 'pg';
import { compareStrings } from '../../domain/values.js';

/** Where a world's warehouse lives: the schema of a PostgreSQL database (`server`, a URL). */
export type PgWarehouse = {
  readonly server: string;
  readonly schema: string;
  /** a copy's: the schema belongs to the world copied, which drops it */
  readonly shared?: boolean;
};

/** The variable `launch` sets to the server's URL: a URL with a password may not be written in a config. */
export const WAREHOUSE_URL_VARIABLE = 'SYNCLINE_FAULT_WAREHOUSE_URL';

/** The `postgres` destination's options for the warehouse: table `contacts` in the world's schema. */
export const pgWarehouseOptions = (w: PgWarehouse): Record<string, unknown> => ({
  connection: { env: WAREHOUSE_URL_VARIABLE },
  schema: w.schema,
  table: 'contacts',
});

const qualified = (w: PgWarehouse, table: string): string => `"${w.schema}"."${table}"`;

/** Runs `work` on a session of the warehouse's server (not named 'syncline': nothing ends it). */
const onWarehouse = async <A>(w: PgWarehouse, work: (db: pg.Client) => Promise<A>): Promise<A> => {
  const client = new pg.Client({ connectionString: w.server, application_name: 'syncline-test' });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
};

/** Which of the two tables exist (the first apply creates both, the schema too). */
const existing = async (db: pg.Client, w: PgWarehouse): Promise<{ records: boolean; groups: boolean }> =>
  (
    await db.query<{ records: boolean; groups: boolean }>(
      'SELECT to_regclass($1) IS NOT NULL AS records, to_regclass($2) IS NOT NULL AS groups',
      [qualified(w, 'contacts'), qualified(w, 'contacts_groups')],
    )
  ).rows[0] as { records: boolean; groups: boolean };

/**
 * Both tables as SQL gives them (empty before the first apply): each row as `to_jsonb` of the whole
 * row, so every column is there with its JSON type (100 and "100" differ), and `key\tgroup` lines.
 */
export const pgTables = (w: PgWarehouse): Promise<{ rows: string[]; groups: string[] }> =>
  onWarehouse(w, async (db) => {
    const there = await existing(db, w);
    const rows = there.records
      ? await db.query<{ line: string }>(
          `SELECT to_jsonb(c)::text AS line FROM ${qualified(w, 'contacts')} c`,
        )
      : { rows: [] };
    const groups = there.groups
      ? await db.query<{ line: string }>(
          `SELECT record_key || E'\\t' || group_name AS line FROM ${qualified(w, 'contacts_groups')}`,
        )
      : { rows: [] };
    return {
      rows: rows.rows.map((r) => r.line).sort(compareStrings),
      groups: groups.rows.map((r) => r.line).sort(compareStrings),
    };
  });

type Row = Record<string, unknown>;

/**
 * The records (by key, each with its JSON-typed columns) and group names (by key) the warehouse holds,
 * for whereKilled; 'none' before its first apply created the records table, 'part' with it alone.
 */
export const pgHeld = (
  w: PgWarehouse,
): Promise<'none' | 'part' | { rows: Map<string, Row>; groups: Map<string, string[]> }> =>
  onWarehouse(w, async (db) => {
    const there = await existing(db, w);
    if (!there.records) return 'none';
    if (!there.groups) return 'part';
    const rows = new Map<string, Row>();
    const groups = new Map<string, string[]>();
    const records = await db.query<{ key: string; row: Row }>(
      `SELECT email AS key, to_jsonb(c) AS row FROM ${qualified(w, 'contacts')} c`,
    );
    for (const { key, row } of records.rows) rows.set(key, row);
    const members = await db.query<{ key: string; name: string }>(
      `SELECT record_key AS key, group_name AS name FROM ${qualified(w, 'contacts_groups')}`,
    );
    for (const { key, name } of members.rows) groups.set(key, [...(groups.get(key) ?? []), name]);
    return { rows, groups };
  });

/** A session counting the records table's rows (0 before the first apply creates it), for polling. */
export const pgRowCounter = async (
  w: PgWarehouse,
): Promise<{ readonly count: () => Promise<number>; readonly close: () => Promise<void> }> => {
  const client = new pg.Client({ connectionString: w.server, application_name: 'syncline-test' });
  await client.connect();
  return {
    count: async () =>
      (await existing(client, w)).records
        ? Number(
            (await client.query<{ n: string }>(`SELECT count(*) AS n FROM ${qualified(w, 'contacts')}`))
              .rows[0]?.n,
          )
        : 0,
    close: () => client.end(),
  };
};
