// What every part of the PostgreSQL store shares: its pool of connections, its schema and lock, and
// how a driver failure becomes a StoreError that names the store without ever naming its password.
import type pg from 'pg';
import { StoreReadFailed, type StoreError } from '../../../engine/ports.js';
import { LOCK_KEYS, quoted } from './schema.js';
import { withoutSecret, type PostgresLocation } from './url.js';

export type Pg = {
  readonly pool: pg.Pool;
  /** the schema, quoted for SQL */
  readonly s: string;
  /** the arguments of pg_advisory_xact_lock that make the store's write lock */
  readonly lock: string;
  /** the channel appends notify and subscriptions listen on */
  readonly channel: string;
  readonly location: PostgresLocation;
  /** whether close() has been called */
  readonly closed: () => boolean;
};

export const pgOver = (pool: pg.Pool, location: PostgresLocation, closed: () => boolean): Pg => ({
  pool,
  s: quoted(location.schema),
  lock: LOCK_KEYS(location.schema),
  channel: quoted(`${location.schema}_appended`),
  location,
  closed,
});

const reasonOf = (error: unknown): string => {
  if (error instanceof AggregateError && error.errors.length > 0) return reasonOf(error.errors[0]);
  if (error instanceof Error) return error.message || (error as { code?: string }).code || error.name;
  return String(error);
};

/**
 * Whether `error` is about the connection rather than the statement: a socket error, or a server
 * that ended the session (SQLSTATE class 08, or 57P0x: an administrator, a shutdown, a crash).
 */
const connectionLost = (error: unknown): boolean => {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return true;
  return code.length !== 5 || code.startsWith('08') || code.startsWith('57P0');
};

/** Why `error` (anything the driver threw) stopped the store, naming the store, never its password. */
export const failureOf = (p: Pick<Pg, 'location' | 'closed'>, error: unknown): StoreError => ({
  _tag: 'StoreUnavailable',
  message: p.closed()
    ? 'the store is closed'
    : connectionLost(error)
      ? unreachable(p.location, error)
      : withoutSecret(p.location, `the store at ${p.location.shown} refused a statement: ${reasonOf(error)}`),
});

/** `cannot reach the store at postgres://user@host:port/db: <reason>`, for a store that never answered. */
export const unreachable = (location: PostgresLocation, error: unknown): string =>
  withoutSecret(location, `cannot reach the store at ${location.shown}: ${reasonOf(error)}`);

/** A read's query: its failure rejects as StoreReadFailed (see ports.ts), anything else passes. */
export const reading =
  <A extends unknown[], R>(p: Pg, read: (...args: A) => Promise<R>) =>
  async (...args: A): Promise<R> => {
    if (p.closed()) throw new StoreReadFailed({ _tag: 'StoreUnavailable', message: 'the store is closed' });
    try {
      return await read(...args);
    } catch (error) {
      if (error instanceof StoreReadFailed) throw error;
      throw new StoreReadFailed(failureOf(p, error));
    }
  };
