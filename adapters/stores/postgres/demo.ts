// What the demo needs of a PostgreSQL server beyond the EventStore port: whether a schema is free or
// an earlier demo's (marked by a named checkpoint), and dropping such a schema to begin again.
import * as E from 'fp-ts/lib/Either.js';
import pg from 'pg';
import { failureOf } from './connection.js';
import { quoted } from './schema.js';
import type { PostgresLocation } from './url.js';

/** The checkpoint the demo sets in a store it made: its schema may be dropped by the next demo. */
export const DEMO_CHECKPOINT = 'syncline-demo';

const onServer = async <A>(
  location: PostgresLocation,
  work: (client: pg.Client) => Promise<A>,
): Promise<E.Either<string, A>> => {
  const client = new pg.Client({
    connectionString: location.connectionString,
    connectionTimeoutMillis: 10_000,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return E.right(await work(client));
  } catch (error) {
    const failure = failureOf({ location, closed: () => false }, error);
    return E.left('message' in failure ? failure.message : failure._tag);
  } finally {
    await client.end().catch(() => undefined);
  }
};

/** 'none' when the schema does not exist, 'demo' when an earlier demo made it, else 'other'. */
export const isDemoStore = (
  location: PostgresLocation,
): Promise<E.Either<string, 'none' | 'demo' | 'other'>> =>
  onServer(location, async (client) => {
    const s = quoted(location.schema);
    const { rows } = await client.query<{ exists: boolean; marked: boolean | null }>(
      `SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1) AS exists,
              to_regclass($2) IS NOT NULL AS marked`,
      [location.schema, `${s}.checkpoints`],
    );
    if (rows[0]?.exists !== true) return 'none';
    if (rows[0].marked !== true) return 'other';
    const marked = await client.query(`SELECT 1 FROM ${s}.checkpoints WHERE name = $1`, [DEMO_CHECKPOINT]);
    return marked.rowCount === 1 ? 'demo' : 'other';
  });

/** Drops the schema and everything in it: only for a schema isDemoStore called 'demo'. */
export const dropPostgresSchema = (location: PostgresLocation): Promise<E.Either<string, void>> =>
  onServer(location, async (client) => {
    await client.query(`DROP SCHEMA IF EXISTS ${quoted(location.schema)} CASCADE`);
  });
