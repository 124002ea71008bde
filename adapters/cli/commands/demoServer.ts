// The demo's destinations on a PostgreSQL or MySQL server: whether the schema (or database) is free or
// an earlier demo's, emptying and marking it, seeding the CRM, and reading the tables back for the report.
import * as E from 'fp-ts/lib/Either.js';
import * as TE from 'fp-ts/lib/TaskEither.js';
import { pipe } from 'fp-ts/lib/function.js';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { exactCollation } from '../../destinations/mysql/tables.js';
import { parseMysqlUrl } from '../../destinations/mysql/url.js';
import { redactor } from '../../destinations/redaction.js';
import * as demo from '../../demo/scenario.js';
import {
  crmRows,
  crmTables,
  identOf,
  MARKER_TABLE,
  serverReadBack,
  serverWords,
  type DemoServer,
} from '../../demo/servers.js';
import { failed, type CliError } from '../errors.js';
import type { TableView } from './demoFiles.js';

type Cell = string | number | boolean | null;
/** One connection, rows as arrays; MySQL's without a database selected until `USE`. */
type Sql = {
  readonly query: (sql: string, values?: readonly unknown[]) => Promise<Cell[][]>;
  readonly close: () => Promise<void>;
};

const connect = async (s: DemoServer): Promise<Sql> => {
  if (s.kind === 'postgres') {
    const client = new pg.Client({ connectionString: s.url, connectionTimeoutMillis: 10_000 });
    client.on('error', () => undefined);
    await client.connect().catch(async (e: unknown) => {
      await client.end().catch(() => undefined);
      throw e;
    });
    return {
      query: async (sql, values = []) =>
        (await client.query<Cell[]>({ text: sql, values: [...values], rowMode: 'array' })).rows,
      close: () => client.end().catch(() => undefined),
    };
  }
  const at = parseMysqlUrl(s.url);
  if (E.isLeft(at)) throw new Error(`the URL ${at.left}`);
  const c = await mysql.createConnection({
    host: at.right.host,
    port: at.right.port,
    user: at.right.user,
    ...(at.right.password === '' ? {} : { password: at.right.password }),
    charset: 'utf8mb4_bin',
    connectTimeout: 10_000,
  });
  c.on('error', () => undefined);
  return {
    query: async (sql, values = []) => {
      const [rows] = await c.query({ sql, values: [...values], rowsAsArray: true });
      return Array.isArray(rows) ? (rows as Cell[][]) : [];
    },
    close: () => c.end().catch(() => undefined),
  };
};

/** Runs `work` on a connection, its failures as the CLI's, naming the server without its password. */
const onServer = <A>(s: DemoServer, work: (db: Sql) => Promise<A>): TE.TaskEither<CliError, A> => {
  const redact = redactor([
    [s.password, '***'],
    [encodeURIComponent(s.password), '***'],
  ]);
  const name = s.kind === 'postgres' ? 'PostgreSQL' : 'MySQL';
  return TE.tryCatch(
    async () => {
      const db = await connect(s);
      try {
        return await work(db);
      } finally {
        await db.close();
      }
    },
    (e) =>
      failed(
        redact(
          `the demo's destinations on ${name} at ${s.shown}: ${e instanceof Error ? e.message : String(e)}`,
        ),
      ),
  );
};

const where = (s: DemoServer): string =>
  s.kind === 'postgres' ? `the schema ${s.namespace} of ${s.shown}` : `the database ${s.shown}`;

/** The tables and views in the schema or database, or undefined when it does not exist. */
const tablesIn = async (db: Sql, s: DemoServer): Promise<string[] | undefined> => {
  const [exists, listed] =
    s.kind === 'postgres'
      ? [
          'SELECT 1 FROM pg_namespace WHERE nspname = $1',
          `SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = $1 AND c.relkind IN ('r', 'p', 'v', 'm', 'f') ORDER BY 1`,
        ]
      : [
          'SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?',
          'SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? ORDER BY 1',
        ];
  if ((await db.query(exists, [s.namespace])).length === 0) return undefined;
  return (await db.query(listed, [s.namespace])).map((r) => String(r[0]));
};

/**
 * Checks, before anything is written anywhere, that the destinations' schema (or database) is
 * missing, empty, or an earlier demo's (it holds the marker table); anything else is refused.
 */
export const checkServer = (s: DemoServer): TE.TaskEither<CliError, DemoServer> =>
  pipe(
    onServer(s, (db) => tablesIn(db, s)),
    TE.filterOrElse(
      (found) => found === undefined || found.length === 0 || found.includes(MARKER_TABLE),
      (found) =>
        failed(
          `${where(s)} already holds ${found?.slice(0, 5).join(', ') ?? ''}${(found?.length ?? 0) > 5 ? ', …' : ''} ` +
            `and is not the demo's (it has no ${MARKER_TABLE} table); ` +
            (s.kind === 'postgres'
              ? 'name another schema with ?schema=NAME, or drop it yourself'
              : 'name another database, or empty it yourself'),
        ),
    ),
    TE.map(() => s),
  );

/** Empties what an earlier demo made, marks the schema (or database) as the demo's, and seeds the CRM. */
export const setUpServer = (
  s: DemoServer,
  contacts: readonly demo.Contact[],
): TE.TaskEither<CliError, void> =>
  onServer(s, async (db) => {
    const q = identOf(s.kind);
    const found = await tablesIn(db, s);
    const marker = s.kind === 'postgres' ? `${q(s.namespace)}.${q(MARKER_TABLE)}` : q(MARKER_TABLE);
    let collation = '';
    if (s.kind === 'postgres') {
      if (found?.includes(MARKER_TABLE) === true) await db.query(`DROP SCHEMA ${q(s.namespace)} CASCADE`);
      await db.query(`CREATE SCHEMA IF NOT EXISTS ${q(s.namespace)}`);
    } else {
      await db.query(`CREATE DATABASE IF NOT EXISTS ${q(s.namespace)} CHARACTER SET utf8mb4`);
      await db.query(`USE ${q(s.namespace)}`);
      if (found?.includes(MARKER_TABLE) === true) {
        await db.query('SET FOREIGN_KEY_CHECKS = 0');
        for (const [name, type] of await db.query(
          'SELECT TABLE_NAME, TABLE_TYPE FROM information_schema.TABLES WHERE TABLE_SCHEMA = ?',
          [s.namespace],
        ))
          await db.query(`DROP ${type === 'VIEW' ? 'VIEW' : 'TABLE'} IF EXISTS ${q(String(name))}`);
        await db.query('SET FOREIGN_KEY_CHECKS = 1');
      }
      collation = exactCollation(String((await db.query('SELECT VERSION()'))[0]?.[0]));
    }
    await db.query(`CREATE TABLE ${marker} (note TEXT NOT NULL)`);
    await db.query(`INSERT INTO ${marker} (note) VALUES (${s.kind === 'postgres' ? '$1' : '?'})`, [
      `Created by \`syncline demo --destinations\`. A later demo naming ${where(s)} empties it and begins again.`,
    ]);
    for (const sql of crmTables(s, collation)) await db.query(sql);
    for (const insert of crmRows(s, contacts))
      if (insert.values.length > 0) await db.query(insert.sql, insert.values);
  });

/** Each destination's table read back for the report, as readTable reads an SQLite file. */
export const readServerTables = (s: DemoServer): TE.TaskEither<CliError, TableView[]> =>
  onServer(s, async (db) => {
    if (s.kind === 'mysql') await db.query(`USE ${identOf('mysql')(s.namespace)}`);
    const views: TableView[] = [];
    for (const d of s.destinations) {
      const sql = serverReadBack(s, d);
      const count = async (text: string) => Number((await db.query(text))[0]?.[0] ?? 0);
      const table = demo.optionOf(d, 'table');
      views.push({
        destinationId: d.destinationId,
        at: s.kind === 'postgres' ? { database: s.shown, schema: s.namespace } : { database: s.shown },
        where: serverWords(s).place(d),
        table,
        rows: await count(sql.rows),
        tagged: await count(sql.tagged),
        head: [...sql.fields, 'groups'],
        sample: (await db.query(sql.sample)).map((row) => row.map((v) => (v === null ? '' : String(v)))),
      });
    }
    return views;
  });
