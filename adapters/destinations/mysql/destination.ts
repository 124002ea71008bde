// The MySQL destination (MySQL 8, MariaDB 10.11): one row per record in `table` (a column per mapped
// field, the key field as primary key) and its lists/tags as (record_key, group_name) rows in `groupsTable`.
//
// Column types and value fidelity are in columns.ts and tables.ts; how an apply call is one
// transaction of multi-row statements, with a refused row failing only its own command, in
// apply.ts, segments.ts and write.ts; lookups and counts in lookup.ts. The connection URL may hold a
// password: messages name the server as mysql://user@host:port/db, or by the option's label.
import mysql, { type Pool } from 'mysql2/promise';
import * as E from 'fp-ts/lib/Either.js';
import type { DestinationTypeDescription } from '../../../domain/command.js';
import type { DestinationConfig } from '../../../domain/destination.js';
import { SYNC_MODES } from '../../../domain/modes.js';
import type { Destination, DestinationError, DestinationType } from '../../../engine/ports.js';
import { openFailed, resolveOptions } from '../options.js';
import { withoutSecrets } from '../secrets.js';
import { applyOn } from './apply.js';
import { isDriverError, placeOf, unavailable, type Place } from './errors.js';
import { countOn, lookupOn } from './lookup.js';
import { MYSQL_OPTIONS, mysqlChecks, mysqlOptionDescriptions } from './options.js';
import { checkTables, exactCollation, type TableNames, type TableState } from './tables.js';
import { parseMysqlUrl, poolOptions } from './url.js';

export const mysqlDescription: DestinationTypeDescription = {
  type: 'mysql',
  description:
    'A table in a MySQL 8 or MariaDB 10.11 database: one row per record, one column per mapped field, plus a groups table. ' +
    'Missing tables are created: the key column VARCHAR(512) utf8mb4 with a binary no-pad collation (keys are exact ' +
    'strings: case and trailing spaces count), every other field a JSON column, which keeps each value and its type ' +
    '("100" and 100 stay apart); groups (record_key, group_name) with both as primary key. An existing table is used ' +
    'as it is: typed columns hold what reads back unchanged (whole numbers in integer columns, booleans in ' +
    'TINYINT(1), strings in text columns), and any other value fails its command naming the field and column type.',
  modes: [...SYNC_MODES],
  defaultMode: 'sync',
  options: mysqlOptionDescriptions,
};

// Strict: a value a column cannot hold is an error, never silently truncated or zeroed.
const SESSION =
  "SET SESSION sql_mode = 'STRICT_ALL_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_ZERO_DATE,NO_ZERO_IN_DATE," +
  "NO_ENGINE_SUBSTITUTION', time_zone = '+00:00'";

type Tables = (create: boolean) => Promise<E.Either<DestinationError, TableState | null>>;

/** The checked tables, remembered once both exist; until then asked again (another process may create them). */
const tablesOf = (pool: Pool, names: TableNames): Tables => {
  let complete: TableState | null = null;
  let collation: Promise<string> | null = null;
  const exact = () =>
    (collation ??= pool
      .query<mysql.RowDataPacket[]>('SELECT VERSION() AS v')
      .then(([rows]) => exactCollation(String(rows[0]?.['v'] ?? ''))));
  return async (create) => {
    if (complete !== null) return E.right(complete);
    const checked = await checkTables(pool, names, create, exact);
    if (E.isRight(checked) && checked.right?.groupsExist === true) complete = checked.right;
    return checked;
  };
};

/** A driver failure as the port's error; anything else is a bug and stays an exception. */
const guarded = async <A>(place: Place, run: () => Promise<E.Either<DestinationError, A>>) => {
  try {
    return await run();
  } catch (e) {
    if (!isDriverError(e)) throw e;
    return E.left(unavailable(e, place));
  }
};

const mysqlDestination = (pool: Pool, names: TableNames, place: Place): Destination => {
  const tables = tablesOf(pool, names);
  let closed: Promise<void> | null = null;
  return {
    describe: () => mysqlDescription,
    lookup: (keys) => () =>
      guarded(place, async () => {
        const state = await tables(false);
        return E.isLeft(state) ? state : lookupOn(pool, names, state.right, keys);
      }),
    count: (atMost) => () =>
      guarded(place, async () => {
        const state = await tables(false);
        return E.isLeft(state) ? state : countOn(pool, names, state.right, atMost);
      }),
    apply: (commands) => () =>
      applyOn(
        pool,
        names,
        place,
        // tables(true) never answers null: it creates the records table when missing.
        async () => E.map((s: TableState | null) => s as TableState)(await tables(true)),
        commands,
      ),
    close: () => (closed ??= pool.end().catch(() => undefined)),
  };
};

export const tableNamesOf = (
  config: DestinationConfig,
  database: string,
  table: string,
  groupsTable: string | undefined,
  labels: Readonly<Record<string, string>>,
): TableNames => {
  const shownTable = labels['table'] ?? table;
  return {
    database,
    table,
    groupsTable: groupsTable ?? `${table}_groups`,
    keyField: config.keyField,
    fields: Object.keys(config.mapping),
    shown: {
      table: shownTable,
      groupsTable:
        groupsTable === undefined ? `${shownTable}_groups` : (labels['groupsTable'] ?? groupsTable),
    },
  };
};

/** A pool for the options, whose connections are strict and UTC; with the place messages name. */
const connect = (config: DestinationConfig, env: NodeJS.ProcessEnv) => {
  const options = resolveOptions<typeof MYSQL_OPTIONS>(config, mysqlType, env);
  if (E.isLeft(options)) return options;
  const { values, labels, secrets } = options.right;
  const location = parseMysqlUrl(values.connection);
  if (E.isLeft(location)) return E.left(openFailed(config, `options.connection: ${location.left}`));
  const l = location.right;
  // A URL from a variable is named by its label; a literal one (never with a password) by itself.
  const label = labels['connection']?.startsWith('options.') === true ? labels['connection'] : l.shown;
  const place = placeOf(label, [...secrets, ...(l.password === '' ? [] : ([[l.password, '***']] as const))]);
  const pool = mysql.createPool(poolOptions(l));
  // The event hands over the driver's own connection, whose query takes a callback.
  pool.on('connection', (c) => {
    (c as unknown as { query: (sql: string, done: () => void) => void }).query(SESSION, () => undefined);
  });
  const names = tableNamesOf(config, l.database, values.table, values.groupsTable, labels);
  return E.right({ pool, place, names });
};

/**
 * Opening reaches the server and checks the tables that exist (a missing mapped column is an error
 * naming table and column), creating nothing: `plan` and `status` leave the database as it was.
 */
const open: DestinationType['open'] = (config, env) => async () => {
  const made = connect(config, env);
  if (E.isLeft(made)) return made;
  const { pool, place, names } = made.right;
  const checked = await guarded(place, () => tablesOf(pool, names)(false));
  if (E.isLeft(checked)) {
    await pool.end().catch(() => undefined);
    const why =
      checked.left._tag === 'DestinationUnavailable'
        ? `cannot reach ${checked.left.message}`
        : checked.left.message;
    return E.left(openFailed(config, why));
  }
  return E.right(mysqlDestination(pool, names, place));
};

/**
 * What `syncline validate` finds without writing: opening it (the server answers, the database is
 * there, existing tables have the mapped columns and a unique key), each problem as one line.
 */
const probe: NonNullable<DestinationType['probe']> = (config, env) => async () => {
  const opened = await open(config, env)();
  if (E.isRight(opened)) {
    await opened.right.close();
    return [];
  }
  const prefix = `destination ${config.destinationId}: `;
  const message = opened.left.message;
  return [message.startsWith(prefix) ? message.slice(prefix.length) : message];
};

const mysqlType: DestinationType = { description: mysqlDescription, checks: mysqlChecks, open, probe };

/** Wrapped (see secrets.ts): whatever slips past the labels above, no message holds a variable's value. */
export const mysqlDestinationType: DestinationType = withoutSecrets(mysqlType);
