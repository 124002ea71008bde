// A dry run: the decisions a sync would make now (or under another mode), from a fresh look at the
// destination, with nothing written anywhere. The same candidates and batches as a real run.
import * as E from 'fp-ts/lib/Either.js';
import { isDecision, type Decision } from '../../domain/decision.js';
import type { SyncModeName } from '../../domain/modes.js';
import { judge, keysOf, prepare } from './batch.js';
import { candidates, type CandidateReason } from './candidates.js';
import { holdingOf, lostEverything } from './lost.js';
import type { DeliveryOptions } from './deliver.js';
import { lookupWithRetry, observedThrough } from './observe.js';
import type { Destination, DestinationError } from '../ports.js';
import type { EngineState } from '../state/engineState.js';

export type Plan = {
  readonly destinationId: string;
  readonly mode: SyncModeName;
  readonly reason: CandidateReason;
  /** why the plan looks at everyone unasked (the destination lost its records), in words */
  readonly notice?: string;
  readonly considered: number;
  readonly decisions: Decision[];
  readonly unchanged: number;
};

/** Why no plan: the destination is not configured, or looking its records up failed. */
export type PlanError =
  | { readonly _tag: 'UnknownDestination'; readonly destinationId: string }
  | { readonly _tag: 'LookupFailed'; readonly destinationId: string; readonly failure: DestinationError };

export type PlanOptions = {
  readonly batchSize: number;
  /** decide under this mode instead of the configured one; every profile is looked at */
  readonly mode?: SyncModeName;
  readonly full: boolean;
  readonly delivery: DeliveryOptions;
};

export const planDestination = async (
  s: EngineState,
  destinationId: string,
  asked: Destination,
  opts: PlanOptions,
): Promise<E.Either<PlanError, Plan>> => {
  const v = s.destinations.get(destinationId);
  if (!v?.config) return E.left({ _tag: 'UnknownDestination', destinationId });
  const destination = observedThrough(asked, v.ledger);
  const config = v.config;
  const mode = opts.mode ?? config.syncMode ?? destination.describe().defaultMode;
  // Another mode changes what is owed to every profile, not only to those that changed.
  // As a sync would: everyone when the destination lost its records.
  const lost = lostEverything(await holdingOf(destination, v, 1));
  const picked = candidates(
    s,
    v,
    lost !== undefined
      ? 'records-lost'
      : opts.full || (opts.mode !== undefined && opts.mode !== config.syncMode),
  );
  destination.expect?.(picked.count);
  const decisions: Decision[] = [];
  let unchanged = 0;
  try {
    for (let ids = picked.take(opts.batchSize); ids.length > 0; ids = picked.take(opts.batchSize)) {
      const batch = prepare(s, v, config, mode, ids);
      const found = await lookupWithRetry(destination, keysOf(batch), opts.delivery);
      if (E.isLeft(found)) return E.left({ _tag: 'LookupFailed', destinationId, failure: found.left });
      for (const { verdict } of judge(batch, found.right)) {
        if (isDecision(verdict)) decisions.push(verdict);
        else unchanged++;
      }
    }
  } finally {
    picked.close();
  }
  return E.right({
    destinationId,
    mode,
    reason: picked.reason,
    ...(lost === undefined ? {} : { notice: lost }),
    considered: picked.count,
    decisions,
    unchanged,
  });
};
