// The MySQL/MariaDB server the suites run against, and databases of their own that they drop after.
// On a machine without a server the suites skip with one line; with CI=true a missing server fails them.
import mysql from 'mysql2/promise';
import { leftBehind, OWN_NAMES, ownName, serverAnswers, whyUnreachable } from './testServers.js';

/** The server to test against: SYNCLINE_TEST_MYSQL_URL, else the local one every CI machine runs. */
export const MYSQL_URL = process.env['SYNCLINE_TEST_MYSQL_URL'] ?? 'mysql://root@127.0.0.1:3306/mysql';

const connect = (database?: string) => {
  const url = new URL(MYSQL_URL);
  return mysql.createConnection({
    host: url.hostname,
    port: Number(url.port || 3306),
    user: decodeURIComponent(url.username) || 'root',
    ...(url.password === '' ? {} : { password: decodeURIComponent(url.password) }),
    ...(database === undefined ? {} : { database }),
    connectTimeout: 3000,
    charset: 'utf8mb4_bin',
  });
};

const probe = async (): Promise<string | undefined> => {
  try {
    const c = await connect();
    await c.query('SELECT 1');
    await c.end();
    return undefined;
  } catch (error) {
    return whyUnreachable(error);
  }
};

/** Whether the suites can run: describe.skipIf(!mysqlAnswers). */
export const mysqlAnswers = serverAnswers('MySQL', MYSQL_URL, await probe());

/** Runs `sql` on the test server (in `database`, if named), outside any destination. */
export const onMysql = async <R = Record<string, unknown>>(
  sql: string,
  values: unknown[] = [],
  database?: string,
): Promise<R[]> => {
  const c = await connect(database);
  try {
    const [rows] = await c.query(sql, values);
    return rows as R[];
  } finally {
    await c.end();
  }
};

// A run that was killed never reached its afterAll: its databases, named after its process, are
// dropped here once that process is gone, so that they do not pile up on the server.
if (mysqlAnswers) {
  const rows = await onMysql<{ name: string }>(
    `SELECT SCHEMA_NAME AS name FROM information_schema.SCHEMATA WHERE SCHEMA_NAME REGEXP ?`,
    [OWN_NAMES],
  );
  for (const { name } of rows)
    if (leftBehind(name)) await onMysql(`DROP DATABASE IF EXISTS \`${name}\``).catch(() => undefined);
}

/** A fresh database of its own; returns its name and URL (with `password` in it when given). */
export const freshMysqlDatabase = async (password?: string): Promise<{ name: string; url: string }> => {
  const name = ownName();
  await onMysql(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4`);
  const url = new URL(MYSQL_URL);
  url.pathname = `/${name}`;
  if (password !== undefined) url.password = password;
  return { name, url: url.toString() };
};

export const dropMysqlDatabase = async (name: string): Promise<void> => {
  if (!mysqlAnswers) return;
  await onMysql(`DROP DATABASE IF EXISTS \`${name}\``);
};
