// Observing a destination: look up records by key with the same retry rules as delivery, so a
// flaky destination costs a few waits, and one that stays down fails the run with its reason; or,
// for one that cannot be asked, read what syncline last wrote there from the ledger.
import * as E from 'fp-ts/lib/Either.js';
import type { ObservedRecord } from '../../domain/decision.js';
import type { DeliveryOptions } from './deliver.js';
import type { Destination, DestinationError } from '../ports.js';
import type { Ledger } from '../../projections/ledger.js';

/** The records under `keys`, or the destination's error once it is not retryable or retries ran out. */
export const lookupWithRetry = async (
  destination: Destination,
  keys: readonly string[],
  opts: DeliveryOptions,
): Promise<E.Either<DestinationError, readonly ObservedRecord[]>> => {
  if (keys.length === 0) return E.right([]);
  for (let attempt = 1; ; attempt++) {
    const r = await destination.lookup(keys)();
    if (E.isRight(r)) return r;
    const retryable = r.left._tag === 'DestinationUnavailable' && r.left.retryable;
    if (!retryable || attempt >= opts.maxAttempts) return r;
    await opts.sleep(opts.backoffMs * 2 ** (attempt - 1));
  }
};

/** The records syncline last wrote under `keys`, as the ledger holds them (each key once). */
export const ledgerRecords = (ledger: Ledger, keys: readonly string[]): ObservedRecord[] =>
  [...new Set(keys)].flatMap((key) => {
    const owner = ledger.owners.get(key);
    const entry = owner === undefined ? undefined : ledger.entries.get(owner);
    return entry === undefined || entry.key !== key
      ? []
      : [{ key, fields: structuredClone(entry.fields), groups: [...entry.groups] }];
  });

/**
 * The destination as runs and plans observe it. One that cannot be asked what it holds
 * (`observes: 'ledger'`) answers lookups from the ledger as it stands when asked: a run's own
 * outcomes are folded into it as they come, as they would be into a destination's records.
 */
export const observedThrough = (destination: Destination, ledger: Ledger): Destination =>
  destination.observes !== 'ledger'
    ? destination
    : { ...destination, lookup: (keys) => () => Promise.resolve(E.right(ledgerRecords(ledger, keys))) };
