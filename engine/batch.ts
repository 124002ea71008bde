// One batch of a run or a plan: the keys to look up for some profiles, and, given what the
// destination holds under them, the verdict for each profile with the inputs it was made from.
import { decide, desiredFields, desiredKey, inScope } from '../domain/decide.js';
import type { DecisionInput, ObservedRecord, Verdict } from '../domain/decision.js';
import type { Destination } from '../domain/destination.js';
import type { SyncModeName } from '../domain/modes.js';
import { compareStrings } from '../domain/values.js';
import { claimsFor } from '../projections/claims.js';
import { profileSnapshot } from '../projections/world.js';
import type { DestinationView, EngineState } from './state.js';

export type Prepared = {
  readonly profileId: string;
  readonly keys: readonly string[];
  readonly input: Omit<DecisionInput, 'observed'>;
};

/** The profiles' desired keys and ledger keys, and what decide needs besides the observation. */
export const prepare = (
  s: EngineState,
  v: DestinationView,
  config: Destination,
  mode: SyncModeName,
  profileIds: readonly string[],
): Prepared[] =>
  profileIds.map((profileId) => {
    const profile = profileSnapshot(s.world, profileId);
    const ledger = v.ledger.entries.get(profileId) ?? null;
    const key = inScope(config, profile) ? desiredKey(config, desiredFields(config, profile)) : undefined;
    const keys: string[] = [];
    if (key !== undefined) keys.push(key);
    if (ledger !== null && ledger.key !== key) keys.push(ledger.key);
    const claims = v.claims ? claimsFor(v.claims, keys, profileId) : {};
    return { profileId, keys, input: { destination: config, mode, profileId, profile, ledger, claims } };
  });

export const keysOf = (batch: readonly Prepared[]): string[] =>
  [...new Set(batch.flatMap((p) => p.keys))].sort(compareStrings);

export type Judged = {
  readonly prepared: Prepared;
  readonly observed: ObservedRecord[];
  readonly verdict: Verdict;
};

/** Decides every profile of the batch against the records found for its keys. */
export const judge = (batch: readonly Prepared[], records: readonly ObservedRecord[]): Judged[] => {
  const byKey = new Map(records.map((r) => [r.key, r]));
  return batch.map((prepared) => {
    const observed = prepared.keys.flatMap((k) => {
      const r = byKey.get(k);
      return r ? [r] : [];
    });
    return { prepared, observed, verdict: decide({ ...prepared.input, observed }) };
  });
};
