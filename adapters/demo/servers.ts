// Where `syncline demo --destinations URL` puts its three destinations, as plain data: the server and
// schema or database the URL names, the configs that name it (never with a password), and the SQL.
import * as E from 'fp-ts/lib/Either.js';
import type { DestinationConfig } from '../../domain/destination.js';
import { parseMysqlUrl } from '../destinations/mysql/url.js';
import { demoDestinations, optionOf, UNMANAGED_TAG, type Contact } from './scenario.js';

/** The schema the PostgreSQL destinations' tables go in when the URL names none. */
export const DEMO_SCHEMA = 'syncline_demo';
/** A table the demo makes beside its own: its presence is what allows a later demo to empty them. */
export const MARKER_TABLE = 'syncline_demo';
/** The variable the config names as the connection when the URL holds a password. */
export const CONNECTION_VARIABLE = 'SYNCLINE_DEMO_DESTINATIONS';

type DemoDestination = (typeof demoDestinations)[number];

export type DemoServer = {
  readonly kind: 'postgres' | 'mysql';
  /** the URL the demo connects with, password included, without `?schema=` */
  readonly url: string;
  /** the PostgreSQL schema, or the MySQL database, the tables go in */
  readonly namespace: string;
  /** the server as messages name it: `postgres://user@host:port/db`, never with a password */
  readonly shown: string;
  /** the password the URL holds ('' when none): messages must never repeat it */
  readonly password: string;
  /** the destinations as the config file and the store record them */
  readonly destinations: readonly DemoDestination[];
};

const KINDS = 'postgres://USER@HOST:PORT/DB[?schema=NAME] or mysql://USER@HOST:PORT/DB';

/** Where the tables go, how the config names the connection, and the three destinations. */
const serverOf = (kind: DemoServer['kind'], url: URL, namespace: string, shown: string): DemoServer => {
  const password = decodeURIComponent(url.password);
  const connection: string | { env: string } =
    password === '' ? url.toString() : { env: CONNECTION_VARIABLE };
  return {
    kind,
    url: url.toString(),
    namespace,
    shown,
    password,
    destinations: demoDestinations.map((d) => ({
      ...d,
      type: kind,
      options: {
        connection,
        ...(kind === 'postgres' ? { schema: namespace } : {}),
        table: optionOf(d, 'table'),
      },
    })),
  };
};

/** The `--destinations` URL read, or why not (never repeating the URL, which may hold a password). */
export const parseDemoServer = (given: string): E.Either<string, DemoServer> => {
  let url: URL;
  try {
    url = new URL(given);
  } catch {
    return E.left(`--destinations takes a URL: ${KINDS}`);
  }
  if (url.protocol === 'mysql:') {
    const location = parseMysqlUrl(given);
    if (E.isLeft(location)) return E.left(`--destinations ${location.left}`);
    if (url.searchParams.has('schema'))
      return E.left('--destinations: a MySQL URL takes no ?schema=: the tables go in the database it names');
    return E.right(serverOf('mysql', url, location.right.database, location.right.shown));
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:')
    return E.left(`--destinations takes a URL: ${KINDS}`);
  const database = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (database === '') return E.left(`--destinations names no database: ${KINDS}`);
  const schema = url.searchParams.get('schema') ?? DEMO_SCHEMA;
  if (schema === '' || schema.includes('\u0000') || Buffer.byteLength(schema) > 63)
    return E.left('--destinations: ?schema= must name a schema of 1 to 63 bytes');
  url.searchParams.delete('schema');
  const user = decodeURIComponent(url.username) || 'postgres';
  const shown = `postgres://${user}@${url.hostname || 'localhost'}:${url.port || '5432'}/${database}`;
  return E.right(serverOf('postgres', url, schema, shown));
};

/** What the introduction calls the destinations, and where each one's table is. */
export const serverWords = (s: DemoServer) => ({
  intro:
    s.kind === 'postgres'
      ? `three PostgreSQL destinations (schema ${s.namespace} of ${s.shown})`
      : `three MySQL destinations (${s.shown})`,
  place: (d: DestinationConfig): string =>
    s.kind === 'postgres' ? `table ${s.namespace}.${optionOf(d, 'table')}` : `table ${optionOf(d, 'table')}`,
});

/** A quoted identifier in the server's dialect. */
export const identOf =
  (kind: DemoServer['kind']) =>
  (name: string): string =>
    kind === 'postgres' ? `"${name.replaceAll('"', '""')}"` : `\`${name.replaceAll('`', '``')}\``;

/**
 * The CRM's tables as they were before syncline, in the shape its adapter creates (the key as text,
 * mapped fields as JSON) plus `source`, a column of the CRM's own; `collation` is MySQL's exact one.
 */
export const crmTables = (s: DemoServer, collation: string): string[] => {
  const q = identOf(s.kind);
  const at = (t: string) => (s.kind === 'postgres' ? `${q(s.namespace)}.${q(t)}` : q(t));
  const text = (n: number) =>
    s.kind === 'postgres' ? 'text' : `VARCHAR(${n}) CHARACTER SET utf8mb4 COLLATE ${collation}`;
  const json = s.kind === 'postgres' ? 'jsonb' : 'JSON NULL';
  const engine = s.kind === 'postgres' ? '' : ' ENGINE=InnoDB DEFAULT CHARSET=utf8mb4';
  return [
    `CREATE TABLE ${at('contacts')} (email ${text(512)} NOT NULL PRIMARY KEY, first_name ${json}, ` +
      `ltv ${json}, source ${text(255)})${engine}`,
    `CREATE TABLE ${at('contacts_groups')} (record_key ${text(512)} NOT NULL, group_name ${text(255)} ` +
      `NOT NULL, PRIMARY KEY (record_key, group_name))${engine}`,
  ];
};

/** The CRM's contacts and their tags as two multi-row inserts, with their values in order. */
export const crmRows = (s: DemoServer, contacts: readonly Contact[]) => {
  const q = identOf(s.kind);
  const at = (t: string) => (s.kind === 'postgres' ? `${q(s.namespace)}.${q(t)}` : q(t));
  let n = 0;
  const slot = (json = false) => (s.kind === 'postgres' ? `$${++n}${json ? '::jsonb' : ''}` : '?');
  const contactRows = contacts.map(() => `(${slot()}, ${slot(true)}, ${slot()})`);
  const contactValues = contacts.flatMap((c) => [c.email, JSON.stringify(c.firstName), c.source]);
  n = 0;
  const tags = contacts.flatMap((c) => c.tags.map((t) => [c.email, t]));
  return [
    {
      sql: `INSERT INTO ${at('contacts')} (email, first_name, source) VALUES ${contactRows.join(', ')}`,
      values: contactValues,
    },
    {
      sql: `INSERT INTO ${at('contacts_groups')} (record_key, group_name) VALUES ${tags.map(() => `(${slot()}, ${slot()})`).join(', ')}`,
      values: tags.flat(),
    },
  ];
};

/**
 * The SQL that reads a destination back, as readBack does for SQLite: its row count, its Partner
 * tags, and the three records with the most lists, each field as text and its groups joined.
 */
export const serverReadBack = (s: DemoServer, d: DestinationConfig) => {
  const q = identOf(s.kind);
  const at = (t: string) => (s.kind === 'postgres' ? `${q(s.namespace)}.${q(t)}` : q(t));
  const table = at(optionOf(d, 'table'));
  const groups = at(`${optionOf(d, 'table')}_groups`);
  const own = `g.record_key = t.${q(d.keyField)}`;
  const fields = Object.keys(d.mapping);
  // Every mapped field but the key is a JSON column: shown as its value, not as JSON text.
  const shown = (f: string) =>
    f === d.keyField ? `t.${q(f)}` : s.kind === 'postgres' ? `t.${q(f)} #>> '{}'` : `JSON_UNQUOTE(t.${q(f)})`;
  const joined =
    s.kind === 'postgres'
      ? `(SELECT string_agg(group_name, ', ' ORDER BY group_name) FROM ${groups} g WHERE ${own})`
      : `(SELECT GROUP_CONCAT(group_name ORDER BY group_name SEPARATOR ', ') FROM ${groups} g WHERE ${own})`;
  return {
    fields,
    rows: `SELECT count(*) AS n FROM ${table}`,
    tagged: `SELECT count(*) AS n FROM ${groups} WHERE group_name = '${UNMANAGED_TAG}'`,
    sample:
      `SELECT ${[...fields.map(shown), joined].join(', ')} FROM ${table} t ` +
      `ORDER BY (SELECT count(*) FROM ${groups} g WHERE ${own}) DESC, t.${q(d.keyField)} LIMIT 3`,
  };
};
