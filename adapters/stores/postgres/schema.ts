// The PostgreSQL store's tables, made and migrated by numbered steps recorded in the schema itself,
// and refused when a newer syncline wrote them or when the schema already holds someone else's tables.
import * as E from 'fp-ts/lib/Either.js';
import type pg from 'pg';

/*
 * position comes from the `positions` sequence, taken only while the append holds the store's write
 * lock (see writing.ts), so positions grow in commit order. data is `json`, which keeps the text as
 * written (jsonb would reorder keys and drop duplicates), so an event reads back exactly as appended
 * and people can still query it with ->>. Times are the ISO strings syncline wrote, for the same reason.
 * An event's tags are an array in its row with a GIN index, not rows of a table of their own: a
 * recorded batch tags every profile it decided for, and five hundred rows of a tags table, each in a
 * b-tree, took about half of such an append's time.
 */
const STEPS: readonly { readonly description: string; readonly sql: (schema: string) => string }[] = [
  {
    description: 'events with their tags, named checkpoints',
    sql: (s) => `
      CREATE SEQUENCE ${s}.positions AS bigint;
      CREATE TABLE ${s}.events (
        position    bigint  PRIMARY KEY,
        stream      text    NOT NULL,
        revision    integer NOT NULL,
        id          text    NOT NULL UNIQUE,
        type        text    NOT NULL,
        data        json    NOT NULL,
        occurred_at text    NOT NULL,
        recorded_at text    NOT NULL,
        tags        text[]  NOT NULL DEFAULT '{}',
        UNIQUE (stream, revision)
      );
      CREATE INDEX events_by_tag ON ${s}.events USING gin (tags);
      CREATE TABLE ${s}.checkpoints (
        name  text   PRIMARY KEY,
        value bigint NOT NULL
      );
      CREATE VIEW ${s}.streams AS
        SELECT stream, max(revision) AS revision, count(*) AS events FROM ${s}.events GROUP BY stream;`,
  },
];

/** The newest step this syncline knows. */
export const SCHEMA_VERSION = STEPS.length;

/** The schema name as SQL: schema names are checked plain (url.ts), so quoting needs no escaping. */
export const quoted = (schema: string): string => `"${schema}"`;

/**
 * The two keys of the store's advisory lock: one for syncline, one for the schema, so that two
 * stores in one database never wait for each other.
 */
export const LOCK_KEYS = (schema: string): string => `1937337956, hashtext('${schema}')`;

type Found = { readonly version: number; readonly tables: number };

/** The version recorded in the schema (0 when it has none) and how many tables it holds. */
const found = async (client: pg.ClientBase, schema: string): Promise<Found> => {
  const { rows } = await client.query<{ migrations: string | null; tables: string }>(
    `SELECT to_regclass($1) AS migrations,
            (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
              WHERE n.nspname = $2 AND c.relkind IN ('r', 'v', 'p')) AS tables`,
    [`${quoted(schema)}.migrations`, schema],
  );
  const row = rows[0];
  if (row?.migrations === null || row === undefined) return { version: 0, tables: Number(row?.tables ?? 0) };
  const version = await client.query<{ step: number | null }>(
    `SELECT max(step) AS step FROM ${quoted(schema)}.migrations`,
  );
  // A migrations table makes the schema syncline's, whatever step it reached.
  return { version: version.rows[0]?.step ?? 0, tables: 0 };
};

export type Where = { readonly schema: string; readonly shown: string };

const tooNew = (w: Where, version: number): string =>
  `the PostgreSQL store at ${w.shown} (schema ${w.schema}) has schema version ${version}, but this ` +
  `syncline understands versions up to ${SCHEMA_VERSION}; it was written by a newer syncline — upgrade ` +
  'syncline to use it';

/**
 * Brings the schema to SCHEMA_VERSION. A missing schema is made only when `create` says so (apply
 * and ingest): a command that only reads never leaves tables behind. Steps run under the store's
 * advisory lock, so two processes arriving at once migrate it exactly once; each step is recorded
 * with its number in the same transaction as its tables.
 */
export const prepareSchema = async (
  client: pg.ClientBase,
  w: Where,
  create: boolean,
): Promise<E.Either<string, void>> => {
  const before = await found(client, w.schema);
  if (before.version > SCHEMA_VERSION) return E.left(tooNew(w, before.version));
  if (before.version === SCHEMA_VERSION) return E.right(undefined);
  if (before.version === 0 && before.tables > 0)
    return E.left(
      `the schema ${w.schema} of ${w.shown} holds tables that are not syncline's; ` +
        'name another schema with ?schema=NAME in the store URL',
    );
  if (before.version === 0 && !create)
    return E.left(
      `there is no syncline store in the schema ${w.schema} of ${w.shown} yet: record a configuration ` +
        'with `syncline apply` and events with `syncline ingest` first, or point --store at an existing store',
    );
  const s = quoted(w.schema);
  await client.query('BEGIN');
  try {
    await client.query(`SELECT pg_advisory_xact_lock(${LOCK_KEYS(w.schema)})`);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${s}`);
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${s}.migrations (
         step        integer PRIMARY KEY,
         description text NOT NULL,
         applied_at  timestamptz NOT NULL DEFAULT now()
       )`,
    );
    // Again under the lock: another process may have migrated while this one waited.
    const now = await found(client, w.schema);
    if (now.version > SCHEMA_VERSION) {
      await client.query('ROLLBACK');
      return E.left(tooNew(w, now.version));
    }
    for (let step = now.version + 1; step <= SCHEMA_VERSION; step++) {
      const { sql, description } = STEPS[step - 1] as (typeof STEPS)[number];
      await client.query(sql(s));
      await client.query(`INSERT INTO ${s}.migrations (step, description) VALUES ($1, $2)`, [
        step,
        description,
      ]);
    }
    await client.query('COMMIT');
    return E.right(undefined);
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
};
