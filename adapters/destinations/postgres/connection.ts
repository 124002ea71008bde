// How the PostgreSQL destination reaches its server and says what went wrong: the pool, how the server
// is named in messages (never with a password), and which driver failures are retryable.
import pg from 'pg';
import type { DestinationError } from '../../../engine/ports.js';
import { redactor, type Redact, type Secret } from '../redaction.js';

/** Where a destination's messages come from, and what they must never hold. */
export type Server = {
  /** handed to the driver */
  readonly connectionString: string;
  /** `postgres://user@host:port/db`, or the option's label when the URL was read from a variable */
  readonly shown: string;
  /** the password (as given and URL-encoded), the URL when read from a variable, with their labels */
  readonly redact: Redact;
};

/**
 * The server a `connection` option names. `label` is how messages name a URL read from a variable
 * (the whole URL is then treated as a secret), undefined for a literal; `secrets` are the values
 * read from variables. The driver's own PGPASSWORD is as secret as a password in the URL.
 */
export const serverOf = (
  url: string,
  label: string | undefined,
  secrets: readonly Secret[],
  env: NodeJS.ProcessEnv,
): Server => {
  const parsed = new URL(url);
  const password = decodeURIComponent(parsed.password) || (env['PGPASSWORD'] ?? '');
  const user = decodeURIComponent(parsed.username) || env['PGUSER'] || env['USER'] || 'postgres';
  const host = parsed.hostname || env['PGHOST'] || 'localhost';
  const port = parsed.port || env['PGPORT'] || '5432';
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, ''));
  const hidden: Secret[] = [...secrets];
  if (password !== '') hidden.push([password, '***'], [encodeURIComponent(password), '***']);
  return {
    connectionString: url,
    shown: label ?? `postgres://${user}@${host}:${port}/${database}`,
    redact: redactor(hidden),
  };
};

/** A pool of a few connections: a run looks the next batch up while the current one applies. */
export const poolOf = (server: Server): pg.Pool => {
  const pool = new pg.Pool({
    connectionString: server.connectionString,
    max: 3,
    connectionTimeoutMillis: 10_000,
    idleTimeoutMillis: 10_000,
    allowExitOnIdle: true,
  });
  // An idle connection the server ends emits here; the next query finds out and says so.
  pool.on('error', () => undefined);
  return pool;
};

const codeOf = (error: unknown): string | undefined => {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
};

/** A SQLSTATE: the server refused a statement (else the driver or the network failed). */
const sqlState = (error: unknown): string | undefined => {
  const code = codeOf(error);
  return code !== undefined && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
};

/**
 * Whether `error` is about the connection or the moment rather than the statement: a socket error,
 * a server that ended the session (08, 57P0x), or one that cannot serve now (53 resources, 55P03
 * lock timeout, 57014 cancelled, 40 serialization and deadlock): the whole call is worth retrying.
 */
export const transient = (error: unknown): boolean => {
  const state = sqlState(error);
  if (state === undefined) return true;
  return /^(08|53|40|57P0)/.test(state) || state === '55P03' || state === '57014';
};

/** Whether the server refused a statement for what one row or command holds (split the call). */
export const refusedRow = (error: unknown): boolean => sqlState(error) !== undefined && !transient(error);

export const reasonOf = (error: unknown): string => {
  if (error instanceof AggregateError && error.errors.length > 0) return reasonOf(error.errors[0]);
  if (error instanceof Error) return error.message || codeOf(error) || error.name;
  return String(error);
};

/** What the database said about a refused row, with its detail when it gives one. */
export const refusalOf = (error: unknown, server: Server): string => {
  const detail = (error as { detail?: unknown }).detail;
  const said =
    typeof detail === 'string' && detail !== '' ? `${reasonOf(error)} (${detail})` : reasonOf(error);
  return server.redact(said);
};

/** A driver failure as the port's error: unreachable (retryable) or a statement refused. */
export const failureOf = (error: unknown, server: Server): DestinationError =>
  transient(error)
    ? {
        _tag: 'DestinationUnavailable',
        message: server.redact(`cannot reach PostgreSQL at ${server.shown}: ${reasonOf(error)}`),
        retryable: true,
      }
    : {
        _tag: 'DestinationUnavailable',
        message: server.redact(
          `PostgreSQL at ${server.shown} refused a statement: ${refusalOf(error, server)}`,
        ),
        retryable: false,
      };

/** Whether `error` came from the driver or the server (else it is a bug, and stays an exception). */
export const fromDriver = (error: unknown): boolean =>
  error instanceof pg.DatabaseError ||
  codeOf(error) !== undefined ||
  error instanceof AggregateError ||
  (error instanceof Error && /connect|connection|terminat|timeout|socket/i.test(error.message));
