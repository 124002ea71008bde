// simulate(): the decisions for a scenario, with no store and no destination: a sync's path (fold, look
// up, decide) over state of its own, and the reference the engine's decisions must agree with.
import { claimedKeyOf, decide } from '../../domain/decide.js';
import {
  isDecision,
  type Decision,
  type LedgerEntry,
  type ObservedRecord,
  type Verdict,
} from '../../domain/decision.js';
import type { SyncModeName } from '../../domain/modes.js';
import type { Scenario } from '../../domain/scenario.js';
import { compareStrings } from '../../domain/values.js';
import { buildClaims, claimsFor } from '../../projections/claims.js';
import { foldWorld, initialWorld, profileOf } from '../../projections/world.js';

const profileIdOf = (data: unknown): string | undefined => {
  const id = (data as { profileId?: unknown }).profileId;
  return typeof id === 'string' ? id : undefined;
};

/** Every verdict, one per profile named in the events or the ledger, sorted by profile id. */
export const simulateVerdicts = (scenario: Scenario, mode: SyncModeName): Verdict[] => {
  const { destination } = scenario;
  const world = scenario.events.reduce(foldWorld, initialWorld());
  const claims = buildClaims(destination, world);
  const observed = new Map<string, ObservedRecord>();
  for (const r of scenario.observed ?? [])
    observed.set(r.key, { key: r.key, fields: r.fields ?? {}, groups: r.groups ?? [] });
  const ledger = new Map<string, LedgerEntry>();
  for (const l of scenario.ledger ?? []) {
    ledger.set(l.profileId, {
      profileId: l.profileId,
      key: l.key,
      fields: l.fields ?? {},
      groups: l.groups ?? [],
    });
  }
  const ids = new Set<string>(ledger.keys());
  for (const e of scenario.events) {
    const id = profileIdOf(e.data);
    if (id !== undefined) ids.add(id);
  }
  return [...ids].sort(compareStrings).map((profileId) => {
    const profile = profileOf(world, profileId);
    const entry = ledger.get(profileId) ?? null;
    const key = claimedKeyOf(destination, profile);
    const keys = entry === null || entry.key === key ? [key] : [key, entry.key];
    const records = keys.flatMap((k) => {
      const r = k === undefined ? undefined : observed.get(k);
      return r ? [r] : [];
    });
    return decide({
      destination,
      mode,
      profileId,
      profile,
      observed: records,
      ledger: entry,
      claims: claimsFor(claims, keys, profileId),
    });
  });
};

/** The decisions of a scenario, omitting profiles for which nothing is to be done. */
export const simulate = (scenario: Scenario, mode: SyncModeName): Decision[] =>
  simulateVerdicts(scenario, mode).filter(isDecision);
