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
import { coverEveryEntry, type Candidates } from './candidates.js';

export type TooManyDeletes = {
  readonly _tag: 'TooManyDeletes';
  readonly destinationId: string;
  readonly deletes: number;
  readonly limit: number;
  readonly owned: number;
};

/** Records the guardrail asks the destination about in one lookup. */
const ASKED_AT_ONCE = 10_000;

/** The default limit: a mode switch or a bad upstream event should not empty a destination unasked. */
export const defaultMaxDeletes = (owned: number): number => Math.max(10, Math.floor(owned * 0.25));

/**
 * Refuses a run that would delete more than the limit. It counts the profiles a run would delete: out
 * of scope, written by syncline, not claimed by an in-scope profile, and (checked only when that
 * count is over the limit) still present at the destination. A run with no more candidates than the
 * limit cannot exceed it, and is not counted: looking at each of 2,000 candidates' profile and entry
 * cost a sync of 1% changes at 100k 7 ms, most of it reading memory nothing had touched yet. Only a
 * profile with an entry can be deleted: a run over everyone looks at the ledger's entries, not at
 * candidates it may not hold (see candidates), and one over the changes at those.
 */
export const checkDeletes = async (
  s: EngineState,
  v: DestinationView,
  mode: SyncModeName,
  candidates: Candidates,
  destination: Destination,
  maxDeletes: number | undefined,
  delivery: DeliveryOptions,
): Promise<E.Either<TooManyDeletes | DestinationError, void>> => {
  const config = v.config;
  if (!config || !allows(mode, 'delete')) return E.right(undefined);
  const owned = v.ledger.entries.size;
  const limit = maxDeletes ?? defaultMaxDeletes(owned);
  if (candidates.count <= limit || owned <= limit) return E.right(undefined);
  const deletable = coverEveryEntry(candidates)
    ? v.ledger.entries.keys()
    : (candidates.listed ?? []).filter((pid) => v.ledger.entries.has(pid));
  // Over the limit on paper, the destination is asked which of those records still exist, a chunk
  // at a time: a mode switch at ten million would otherwise hold and send them all at once.
  let onPaper = 0;
  let deletes = 0;
  let keys: string[] = [];
  const ask = async (): Promise<E.Either<DestinationError, void>> => {
    const found = await lookupWithRetry(destination, keys, delivery);
    keys = [];
    if (E.isLeft(found)) return found;
    deletes += found.right.length;
    return E.right(undefined);
  };
  for (const pid of deletable) {
    const entry = v.ledger.entries.get(pid);
    if (!entry || inScope(config, profileOf(s.world, pid))) continue;
    if (v.claims && otherClaimant(v.claims, entry.key, pid) !== undefined) continue;
    keys.push(entry.key);
    onPaper++;
    if (keys.length >= ASKED_AT_ONCE) {
      const asked = await ask();
      if (E.isLeft(asked)) return asked;
    }
  }
  if (onPaper <= limit) return E.right(undefined);
  if (keys.length > 0) {
    const asked = await ask();
    if (E.isLeft(asked)) return asked;
  }
  return deletes > limit
    ? E.left({ _tag: 'TooManyDeletes', destinationId: v.destinationId, deletes, limit, owned })
    : E.right(undefined);
};
