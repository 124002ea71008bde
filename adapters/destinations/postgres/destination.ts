// The PostgreSQL destination: one row per record in `schema.table` (the key field as primary key, a
// column per mapped field) and its lists/tags as (record_key, group_name) rows in `groupsTable`.
//
// Column types and value fidelity are in tables.ts and columns.ts, a call's transaction and how a
// refused row fails alone in apply.ts, reads in lookup.ts. Opening connects to nothing: the pool
// connects with the first lookup, count or apply, and only an apply creates tables (and the schema).
import type pg from 'pg';
import * as E from 'fp-ts/lib/Either.js';
import { pipe } from 'fp-ts/lib/function.js';
import type { DestinationTypeDescription } from '../../../domain/command.js';
import type { DestinationConfig } from '../../../domain/destination.js';
import { SYNC_MODES } from '../../../domain/modes.js';
import type { Destination, DestinationError, DestinationType, OpenError } from '../../../engine/ports.js';
import { resolveOptions, type ResolvedOptions } from '../options.js';
import { withoutSecrets } from '../secrets.js';
import { tableNamesOf } from '../sqlite/tables.js';
import { applyCommands, type TablesOn } from './apply.js';
import { failureOf, fromDriver, poolOf, serverOf, type Server } from './connection.js';
import { countRecords, lookupRecords } from './lookup.js';
import { POSTGRES_OPTIONS, postgresChecks, postgresOptionDescriptions } from './options.js';
import { probe } from './probe.js';
import { statisticsOf } from './statistics.js';
import { checkTables, type Names, type TableState } from './tables.js';

export const postgresDescription: DestinationTypeDescription = {
  type: 'postgres',
  description:
    'A table in a PostgreSQL database: one row per record, one column per mapped field, plus a groups ' +
    'table of (record_key, group_name). Missing tables are created with the key as text (keys ' +
    'identify records as strings) and every other field as jsonb, which keeps each JSON value with ' +
    'its type ("100" and 100, true, lists), so a lookup reads back what was written; an existing ' +
    'table is used as it is, each value going into its column only if the column type keeps it ' +
    '(integer, numeric, double precision, boolean, text, arrays, jsonb). A row the database refuses ' +
    'fails only its own command.',
  modes: [...SYNC_MODES],
  defaultMode: 'sync',
  options: postgresOptionDescriptions,
};

type Opened = {
  readonly names: Names;
  readonly server: Server;
};

/** The tables and server a configured destination names, once its options are read and checked. */
export const openedOf = (config: DestinationConfig, env: NodeJS.ProcessEnv): E.Either<OpenError, Opened> =>
  E.map(({ values, labels, secrets }: ResolvedOptions<typeof POSTGRES_OPTIONS>) => {
    const { connection, schema, table, groupsTable } = values;
    const fromEnv = labels.connection?.startsWith('options.connection (from env') === true;
    return {
      names: {
        ...tableNamesOf(config, table, groupsTable, labels),
        schema: schema ?? 'public',
        shownSchema: labels.schema ?? schema ?? 'public',
      },
      server: serverOf(connection, fromEnv ? labels.connection : undefined, secrets, env),
    };
  })(resolveOptions<typeof POSTGRES_OPTIONS>(config, postgresType, env));

/**
 * The tables' state, remembered once both tables are seen to exist outside an apply (until then,
 * looked at again). An apply creates missing tables inside its transaction: remembered there, they
 * would be taken as existing by a lookup on another connection (a run looks the next batch up while
 * it applies this one) before the transaction commits, and the lookup would fail on a missing table.
 */
const tablesOf = (names: Names): TablesOn => {
  let complete: TableState | null = null;
  return async (db, create) => {
    if (complete !== null) return E.right(complete);
    const checked = await checkTables(db, names, create);
    if (!create && E.isRight(checked) && checked.right?.groupsExist === true) complete = checked.right;
    return checked;
  };
};

/** A driver failure as a value (anything else is a bug, and rejects). */
const guarded = async <A>(server: Server, run: () => Promise<E.Either<DestinationError, A>>) => {
  try {
    return await run();
  } catch (error) {
    if (!fromDriver(error)) throw error;
    return E.left(failureOf(error, server));
  }
};

const postgresDestination = ({ names, server }: Opened): Destination => {
  const pool: pg.Pool = poolOf(server);
  const tables = tablesOf(names);
  const statistics = statisticsOf(names);
  let closed: Promise<void> | null = null;
  return {
    describe: () => postgresDescription,
    lookup: (keys) => () =>
      guarded(server, async () => {
        if (keys.length === 0) return E.right([]);
        const state = await tables(pool, false);
        return E.isLeft(state) ? state : lookupRecords(pool, names, state.right, keys);
      }),
    count: (atMost) => () =>
      guarded(server, async () => {
        const state = await tables(pool, false);
        return E.isLeft(state) ? state : E.right(await countRecords(pool, names, state.right, atMost));
      }),
    apply: (commands) => () =>
      guarded(server, async () => {
        const applied = await applyCommands(pool, names, tables, server, commands);
        if (E.isRight(applied)) statistics.applied(applied.right);
        return applied;
      }),
    tidy: () => (closed === null ? statistics.refresh(pool) : Promise.resolve()),
    // pool.end waits for a tidy under way to give its connection back.
    close: () => (closed ??= pool.end().catch(() => undefined)),
  };
};

/** Options are read and checked as `validate` checks them; nothing connects until the first call. */
const open: DestinationType['open'] = (config, env) => () =>
  Promise.resolve(pipe(openedOf(config, env), E.map(postgresDestination)));

const postgresType: DestinationType = {
  description: postgresDescription,
  checks: postgresChecks,
  open,
  probe: (config, env) => () => probe(openedOf(config, env)),
};

/** Wrapped (see secrets.ts): whatever slips past the labels above, no message holds a variable's value. */
export const postgresDestinationType: DestinationType = withoutSecrets(postgresType);
