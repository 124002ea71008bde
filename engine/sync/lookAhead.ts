// Looking a batch up ahead: the run looks up the next batch's keys while it decides and records the
// current one, and before deciding makes that preparation good against the ledger as recording left it.
import * as E from 'fp-ts/lib/Either.js';
import type { ObservedRecord } from '../../domain/decision.js';
import type { DestinationConfig } from '../../domain/destination.js';
import type { SyncModeName } from '../../domain/modes.js';
import { pendingBefore } from '../../projections/pending.js';
import { keysOf, prepare, type Prepared } from './batch.js';
import type { DestinationError } from '../ports.js';
import type { DestinationView, EngineState } from '../state/engineState.js';

export type LookAhead = {
  /** the batch's place among the run's batches (see batchBounds) */
  readonly index: number;
  readonly batch: readonly Prepared[];
  readonly keys: string[];
  readonly found: Promise<E.Either<DestinationError, readonly ObservedRecord[]>>;
  /** the run's count of catch-ups on events written by others, when the batch was prepared */
  readonly foreign: number;
  /** the ledger's count of entries taken by the owners rule, when the batch was prepared */
  readonly taken: number;
  /** the ledger's pending mark at the run's start, as the batch was prepared with (see prepare) */
  readonly decidedBefore: number;
};

export type LookedUp = {
  readonly batch: readonly Prepared[];
  /** the keys the batch needs, all of them looked up */
  readonly keys: string[];
  /** what the destination held under those keys */
  readonly records: readonly ObservedRecord[];
};

/**
 * The batch, its keys and what the destination holds under them, as if prepared and looked up now.
 *
 * Prepared before the previous batch was recorded, a profile's preparation can be stale in one way:
 * that append folded outcomes, and an outcome gives a record to the profile that wrote it last (the
 * owners rule), dropping another profile's ledger entry (the ledger counts those: when none was
 * dropped meanwhile, nothing is checked). Such a profile is prepared again; its keys
 * can only lose the entry's key, so the records looked up still cover them, and the observation
 * keeps only the records under the keys that remain. A profile's pending commands change only with
 * its own decisions, and its claims only with the world; if events written by others were folded
 * meanwhile (`foreign` moved on), the world may have changed, and the batch is prepared and looked
 * up again. The observation may predate the apply of commands recorded just before it, as it
 * already may whenever the destination is busy: decisions rely on the ledger and claims for those.
 */
export const resolveLookAhead = async (
  ahead: LookAhead,
  foreign: number,
  again: () => LookAhead,
  s: EngineState,
  v: DestinationView,
  config: DestinationConfig,
  mode: SyncModeName,
): Promise<E.Either<DestinationError, LookedUp>> => {
  if (foreign !== ahead.foreign) return whole(again());
  const found = await ahead.found;
  if (E.isLeft(found)) return found;
  // Nearly always no entry was taken meanwhile, and then no profile needs a second look.
  if (v.ledger.taken === ahead.taken)
    return E.right({ batch: ahead.batch, keys: ahead.keys, records: found.right });
  let batch = ahead.batch;
  for (let i = 0; i < batch.length; i++) {
    const p = batch[i] as Prepared;
    if (!stale(v, p, ahead.decidedBefore)) continue;
    if (batch === ahead.batch) batch = [...batch];
    (batch as Prepared[])[i] = prepare(s, v, config, mode, [p.profileId], ahead.decidedBefore)[0] as Prepared;
  }
  if (batch === ahead.batch) return E.right({ batch, keys: ahead.keys, records: found.right });
  const keys = keysOf(batch);
  const looked = new Set(ahead.keys);
  if (!keys.every((k) => looked.has(k))) return whole(again());
  const wanted = new Set(keys);
  return E.right({ batch, keys, records: found.right.filter((r) => wanted.has(r.key)) });
};

/** Whether the ledger has moved for this profile since it was prepared. */
const stale = (v: DestinationView, p: Prepared, decidedBefore: number): boolean => {
  if ((v.ledger.entries.get(p.profileId) ?? null) !== p.input.ledger) return true;
  const now = pendingBefore(v.ledger.pending, decidedBefore, p.profileId);
  return now.length !== p.pending.length || now.some((c, i) => c !== p.pending[i]);
};

const whole = async (ahead: LookAhead): Promise<E.Either<DestinationError, LookedUp>> => {
  const found = await ahead.found;
  if (E.isLeft(found)) return found;
  return E.right({ batch: ahead.batch, keys: ahead.keys, records: found.right });
};
