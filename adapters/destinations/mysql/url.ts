// What a `mysql://` connection URL means: how mysql2 connects, the database the tables live in, and
// how messages name the server, which never includes the password.
import * as E from 'fp-ts/lib/Either.js';
import type { PoolOptions } from 'mysql2';

export type MysqlLocation = {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly database: string;
  /** `mysql://user@host:port/database`: for messages, never with the password */
  readonly shown: string;
  /** the password, if the URL holds one ('' when not) */
  readonly password: string;
};

const decoded = (s: string): string | undefined => {
  try {
    return decodeURIComponent(s);
  } catch {
    return undefined;
  }
};

/** The URL as a connection, or why not (without repeating the URL, which may hold a password). */
export const parseMysqlUrl = (url: string): E.Either<string, MysqlLocation> => {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return E.left('cannot be read as a URL');
  }
  if (parsed.protocol !== 'mysql:' && parsed.protocol !== 'mariadb:') return E.left('is not a mysql:// URL');
  const database = decoded(parsed.pathname.replace(/^\//, ''));
  if (database === undefined || database === '' || database.includes('/'))
    return E.left('names no database (mysql://USER@HOST:PORT/DATABASE)');
  const user = decoded(parsed.username) ?? '';
  const password = decoded(parsed.password) ?? '';
  const host = parsed.hostname === '' ? 'localhost' : parsed.hostname;
  const port = parsed.port === '' ? 3306 : Number(parsed.port);
  return E.right({
    host,
    port,
    user: user === '' ? 'root' : user,
    database,
    password,
    shown: `mysql://${user === '' ? 'root' : user}@${host}:${port}/${database}`,
  });
};

/** mysql2's pool options for a location: utf8mb4 both ways, and numbers left to the column kinds. */
export const poolOptions = (l: MysqlLocation): PoolOptions => ({
  host: l.host,
  port: l.port,
  user: l.user,
  database: l.database,
  ...(l.password === '' ? {} : { password: l.password }),
  charset: 'utf8mb4_bin',
  connectionLimit: 3,
  connectTimeout: 10_000,
  // Dates and big numbers come back as text too: columns.ts decodes every cell by its column's kind.
  dateStrings: true,
  supportBigNumbers: true,
  bigNumberStrings: true,
  multipleStatements: false,
});
