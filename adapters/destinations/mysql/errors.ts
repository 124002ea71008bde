// What the MySQL destination says when the server refuses it: a lost or refused connection is a
// retryable DestinationUnavailable; a refused row names its field and column type; no message holds the password.
import type { DestinationError } from '../../../engine/ports.js';
import { redactor, type Redact, type Secret } from '../redaction.js';
import type { Column } from './columns.js';

/** Where a destination's messages come from: the server as named, and the values that must not appear. */
export type Place = {
  /** `mysql://user@host:port/db`, or `options.connection (from env VAR)` */
  readonly label: string;
  readonly redact: Redact;
};

export const placeOf = (label: string, secrets: readonly Secret[]): Place => ({
  label,
  redact: redactor(secrets),
});

/** A mysql2 error: a server's (errno, sqlMessage) or the client's (code, fatal). */
type DriverError = Error & {
  readonly code?: string;
  readonly errno?: number;
  readonly sqlMessage?: string;
  readonly fatal?: boolean;
};

export const isDriverError = (e: unknown): e is DriverError =>
  e instanceof Error &&
  (typeof (e as DriverError).code === 'string' || typeof (e as DriverError).errno === 'number');

// Deadlock, lock wait timeout, query interrupted, too many connections, server shutting down, read-only.
const RETRYABLE_ERRNO = new Set([1213, 1205, 1317, 1040, 1053, 1290, 1836, 2006, 2013]);

/** Errors that end the connection or the transaction: the call as a whole fails, and may be retried. */
export const isCallFailure = (e: DriverError): boolean =>
  e.fatal === true || e.errno === undefined || RETRYABLE_ERRNO.has(e.errno) || e.sqlMessage === undefined;

/** The server's words (or the client's), with every secret replaced by its label. */
export const said = (e: DriverError, place: Place): string =>
  place.redact(e.sqlMessage ?? (e.message || e.code || 'unknown error'));

/** A failure of the whole call: reaching the server, or an error that undoes the transaction. */
export const unavailable = (e: DriverError, place: Place): DestinationError => ({
  _tag: 'DestinationUnavailable',
  message: `${place.label}: ${said(e, place)}`,
  retryable: isCallFailure(e),
});

/**
 * A row the server refused, in words that name the field and its column type when the server named
 * a column (`Data too long for column 'name' at row 1`), and always the server's own message.
 */
export const refusedRow = (e: DriverError, place: Place, columns: ReadonlyMap<string, Column>): string => {
  const message = said(e, place);
  const named = /column '([^']*)'/i.exec(message) ?? /CONSTRAINT `[^`]*\.`?([^`]*)`? failed/i.exec(message);
  const column = named?.[1] === undefined ? undefined : columns.get(named[1]);
  return column === undefined ? message : `field ${column.name} (column type ${column.type}): ${message}`;
};
