// What the KurrentDB store's parts share: the client, the names, and how a client failure becomes a
// StoreError that names the server without its credentials.
import type { KurrentDBClient } from '@kurrent/kurrentdb-client';
import { StoreReadFailed, type StoreError } from '../../../engine/ports.js';
import type { Names } from './names.js';
import { withoutKurrentSecret, type KurrentLocation } from './url.js';

export type Kdb = {
  readonly client: KurrentDBClient;
  readonly names: Names;
  readonly location: KurrentLocation;
  readonly closed: () => boolean;
};

/**
 * The client's reason: its reads (through its native reader) say only the error's class, so that is
 * turned into the kind of failure it names ("UnavailableError": the server did not answer).
 */
const reasonOf = (error: unknown): string => {
  if (!(error instanceof Error)) return String(error);
  const type = errorType(error);
  if (type !== undefined && (error.message === '' || /^[A-Za-z]+Error$/.test(error.message)))
    return type === 'unavailable' ? 'the server did not answer (unavailable)' : type.replaceAll('-', ' ');
  return error.message || error.name;
};

/** `cannot reach the store at kurrentdb://host:port: <reason>`, never with the URL's credentials. */
export const unreachable = (location: KurrentLocation, error: unknown): string =>
  withoutKurrentSecret(location, `cannot reach the store at ${location.shown}: ${reasonOf(error)}`);

/** Why `error` (anything the client threw) stopped the store. */
export const failureOf = (k: Pick<Kdb, 'location' | 'closed'>, error: unknown): StoreError => ({
  _tag: 'StoreUnavailable',
  message: k.closed() ? 'the store is closed' : unreachable(k.location, error),
});

/** A read: its failure rejects (or ends an iteration) as StoreReadFailed, as the port asks. */
export const readFailure = (k: Kdb, error: unknown): StoreReadFailed =>
  error instanceof StoreReadFailed ? error : new StoreReadFailed(failureOf(k, error));

/** The client's error type name: its errors are classes of one family, told apart by `type`. */
export const errorType = (error: unknown): string | undefined => {
  const type = (error as { type?: unknown } | null)?.type;
  return typeof type === 'string' ? type : undefined;
};
