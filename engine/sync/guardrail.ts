// The delete guardrail: before a run applies anything, count the records it would delete and refuse
// above a limit (default: the larger of 10 and 25% of the records syncline owns at the destination).
import * as E from 'fp-ts/lib/Either.js';
import { inScope } from '../../domain/decide.js';
import { allows, type SyncModeName } from '../../domain/modes.js';
import { otherClaimant } from '../../projections/claims.js';
import { profileOf } from '../../projections/world.js';
import type { DeliveryOptions } from './deliver.js';
import { lookupWithRetry } from './observe.js';
import type { Destination, DestinationError } from '../ports.js';
import type { DestinationView, EngineState } from '../state/engineState.js';

export type TooManyDeletes = {
  readonly _tag: 'TooManyDeletes';
  readonly destinationId: string;
  readonly deletes: number;
  readonly limit: number;
  readonly owned: number;
};

/** The default limit: a mode switch or a bad upstream event should not empty a destination unasked. */
export const defaultMaxDeletes = (owned: number): number => Math.max(10, Math.floor(owned * 0.25));

/**
 * Refuses a run that would delete more than the limit. It counts the profiles a run would delete: out
 * of scope, written by syncline, not claimed by an in-scope profile, and (checked only when that
 * count is over the limit) still present at the destination. A run with no more candidates than the
 * limit cannot exceed it, and is not counted: looking at each of 2,000 candidates' profile and entry
 * cost a sync of 1% changes at 100k 7 ms, most of it reading memory nothing had touched yet.
 */
export const checkDeletes = async (
  s: EngineState,
  v: DestinationView,
  mode: SyncModeName,
  profileIds: readonly string[],
  destination: Destination,
  maxDeletes: number | undefined,
  delivery: DeliveryOptions,
): Promise<E.Either<TooManyDeletes | DestinationError, void>> => {
  const config = v.config;
  if (!config || !allows(mode, 'delete')) return E.right(undefined);
  const owned = v.ledger.entries.size;
  const limit = maxDeletes ?? defaultMaxDeletes(owned);
  if (profileIds.length <= limit) return E.right(undefined);
  const keys: string[] = [];
  for (const pid of profileIds) {
    const entry = v.ledger.entries.get(pid);
    if (!entry || inScope(config, profileOf(s.world, pid))) continue;
    if (v.claims && otherClaimant(v.claims, entry.key, pid) !== undefined) continue;
    keys.push(entry.key);
  }
  if (keys.length <= limit) return E.right(undefined);
  // Over the limit on paper: ask the destination which of those records still exist.
  const found = await lookupWithRetry(destination, keys, delivery);
  if (E.isLeft(found)) return found;
  const deletes = found.right.length;
  return deletes > limit
    ? E.left({ _tag: 'TooManyDeletes', destinationId: v.destinationId, deletes, limit, owned })
    : E.right(undefined);
};
