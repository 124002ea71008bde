// Observing a destination: look up records by key with the same retry rules as delivery, so a
// flaky destination costs a few waits, and one that stays down fails the run with its reason.
import * as E from 'fp-ts/lib/Either.js';
import type { ObservedRecord } from '../../domain/decision.js';
import type { DeliveryOptions } from './deliver.js';
import type { Destination, DestinationError } from '../ports.js';

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
