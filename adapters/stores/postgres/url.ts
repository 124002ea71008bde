// What a `postgres://` store URL means: how to connect, which schema holds syncline's tables, and how
// the store is named to people, which never includes a password, whatever reason a message gives.
import * as E from 'fp-ts/lib/Either.js';

export type PostgresLocation = {
  readonly kind: 'postgres';
  /** the URL as given, less syncline's own `schema` parameter: handed to the driver */
  readonly connectionString: string;
  /** the schema syncline's tables live in (default `syncline`) */
  readonly schema: string;
  /** `postgres://user@host:port/db`, every part filled in, never a password: for messages */
  readonly shown: string;
  /** the password the URL carries, if any: removed from every message that could repeat it */
  readonly secret?: string;
};

export const DEFAULT_SCHEMA = 'syncline';

/*
 * A schema name is put into SQL as a quoted identifier; allowing only these characters keeps it one
 * that needs no escaping and that people can type unquoted in psql. 63 bytes is PostgreSQL's limit.
 */
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** `url` as a PostgreSQL store, or why it is not one; `env` supplies the driver's own defaults. */
export const parsePostgresUrl = (
  url: string,
  env: NodeJS.ProcessEnv = process.env,
): E.Either<string, PostgresLocation> => {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    // The URL may hold a password: the message names its form, not the text.
    return E.left('the PostgreSQL store URL cannot be read; use postgres://USER@HOST:PORT/DB[?schema=NAME]');
  }
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, ''));
  if (database === '' || database.includes('/'))
    return E.left(
      'the PostgreSQL store URL names no database; use postgres://USER@HOST:PORT/DB[?schema=NAME]',
    );
  const schemas = parsed.searchParams.getAll('schema');
  const schema = schemas[0] ?? DEFAULT_SCHEMA;
  if (schemas.length > 1) return E.left('the PostgreSQL store URL names more than one schema');
  if (!SCHEMA_NAME.test(schema))
    return E.left(
      `the PostgreSQL store URL's schema "${schema}" is not a plain name: use lower-case letters, ` +
        'digits and underscores, not starting with a digit, at most 63 of them',
    );
  parsed.searchParams.delete('schema');
  // The driver falls back on PGPASSWORD: that one is as secret as a password in the URL.
  const password = decodeURIComponent(parsed.password) || env['PGPASSWORD'] || '';
  const user = decodeURIComponent(parsed.username) || env['PGUSER'] || env['USER'] || 'postgres';
  const host = parsed.hostname || env['PGHOST'] || 'localhost';
  const port = parsed.port || env['PGPORT'] || '5432';
  return E.right({
    kind: 'postgres',
    connectionString: parsed.toString(),
    schema,
    shown: `postgres://${user}@${host}:${port}/${database}`,
    ...(password === '' ? {} : { secret: password }),
  });
};

/** `text` with every occurrence of the store's password (as given, and as the URL encodes it) removed. */
export const withoutSecret = (location: Pick<PostgresLocation, 'secret'>, text: string): string => {
  const secret = location.secret;
  if (secret === undefined || secret === '') return text;
  return text.split(secret).join('***').split(encodeURIComponent(secret)).join('***');
};
