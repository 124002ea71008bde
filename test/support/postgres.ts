// The PostgreSQL server the suites run against, and schemas of their own that they drop after. On a
// machine without a server the suites skip with one line; with CI=true a missing server fails them.
import pg from 'pg';
import { leftBehind, OWN_NAMES, ownName, serverAnswers, whyUnreachable } from './testServers.js';

/** The server to test against: SYNCLINE_TEST_POSTGRES_URL, else the local one every CI machine runs. */
export const POSTGRES_URL =
  process.env['SYNCLINE_TEST_POSTGRES_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';

const probe = async (): Promise<string | undefined> => {
  const client = new pg.Client({ connectionString: POSTGRES_URL, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return undefined;
  } catch (error) {
    return whyUnreachable(error);
  } finally {
    await client.end().catch(() => undefined);
  }
};

/** Whether the suites can run: describe.skipIf(!postgresAnswers). */
export const postgresAnswers = serverAnswers('PostgreSQL', POSTGRES_URL, await probe());

// The schemas and databases a killed run left (testServers.ts, leftBehind) are dropped here.
if (postgresAnswers) {
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  await client.connect();
  try {
    const { rows } = await client.query<{ nspname: string }>(
      `SELECT nspname FROM pg_namespace WHERE nspname ~ $1`,
      [OWN_NAMES],
    );
    for (const { nspname } of rows)
      if (leftBehind(nspname))
        await client.query(`DROP SCHEMA IF EXISTS "${nspname}" CASCADE`).catch(() => undefined);
    const databases = await client.query<{ datname: string }>(
      `SELECT datname FROM pg_database WHERE datname ~ $1`,
      [OWN_NAMES],
    );
    for (const { datname } of databases.rows)
      if (leftBehind(datname))
        await client.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`).catch(() => undefined);
  } finally {
    await client.end();
  }
}

const made = new Set<string>();

/** A schema name no other test uses; dropped by dropSchemas. */
export const freshSchema = (): string => {
  const name = ownName();
  made.add(name);
  return name;
};

/** The store URL of a fresh schema (or of `schema`), in the test database (or the one `server` names). */
export const postgresStoreUrl = (schema: string = freshSchema(), server: string = POSTGRES_URL): string => {
  const url = new URL(server);
  url.searchParams.set('schema', schema);
  return url.toString();
};

/** Runs `sql` on the test server (in the database `server` names), outside any store. */
export const onServer = async <R extends pg.QueryResultRow = pg.QueryResultRow>(
  sql: string,
  values: unknown[] = [],
  server: string = POSTGRES_URL,
): Promise<R[]> => {
  const client = new pg.Client({ connectionString: server });
  await client.connect();
  try {
    return (await client.query<R>(sql, values)).rows;
  } finally {
    await client.end();
  }
};

/** Drops every schema freshSchema made (and the ones named), whatever they hold. */
export const dropSchemas = async (...others: string[]): Promise<void> => {
  if (!postgresAnswers) return;
  const names = [...made, ...others];
  made.clear();
  for (const name of names) await onServer(`DROP SCHEMA IF EXISTS "${name}" CASCADE`);
};

/**
 * A database of its own on the test server, for a test whose statements reach every connection of
 * a database (pg_terminate_backend): other suites' stores live in the test database, not in this one.
 * Returns its URL (with `password` in it, when given: the server trusts local connections, and the
 * test can look for it in what syncline prints). Dropped by dropDatabase.
 */
export const freshDatabase = async (password?: string): Promise<string> => {
  const name = ownName();
  await onServer(`CREATE DATABASE "${name}"`);
  const url = new URL(POSTGRES_URL);
  url.pathname = `/${name}`;
  if (password !== undefined) url.password = password;
  return url.toString();
};

/** Drops the database `url` names, ending the sessions still connected to it. */
export const dropDatabase = async (url: string): Promise<void> => {
  const name = decodeURIComponent(new URL(url).pathname.slice(1));
  await onServer(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
};
