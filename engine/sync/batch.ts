// One batch of a run or a plan: the keys to look up for some profiles, and, given what the
// destination holds under them, the verdict for each profile with the inputs it was made from.
import { adoption, type Adoption } from '../../domain/adopt.js';
import { claimedKeyOf, decide } from '../../domain/decide.js';
import type { DecisionInput, ObservedRecord, Verdict } from '../../domain/decision.js';
import type { DestinationConfig } from '../../domain/destination.js';
import type { Settlement } from '../../domain/syncEvents.js';
import type { SyncModeName } from '../../domain/modes.js';
import { NO_CLAIMS, claimsFor } from '../../projections/claims.js';
import { pendingBefore, pendingMark, type PendingCommand } from '../../projections/pending.js';
import { applyToEntry, showsEffect } from '../../projections/settling.js';
import { profileOf } from '../../projections/world.js';
import type { DestinationView, EngineState } from '../state/engineState.js';

/** Below this batch size a run is not tapered: a quarter of it would be a few profiles. */
const TAPERED_FROM = 100;
/**
 * A run of at most this many batches is short: what nothing overlaps (its first lookup, its last
 * apply) weighs on it, so it is tapered and hands each batch over at once (see gatherFor).
 */
const SHORT_RUN = 16;

export const isShortRun = (profiles: number, batchSize: number): boolean => profiles <= SHORT_RUN * batchSize;

/**
 * Where a run's batches start, and its end: batches of `batchSize`, except that a run of two to
 * sixteen batches starts and ends with a quarter of one. Nothing overlaps a run's first lookup (the
 * engine has nothing decided yet) or its last apply (it has nothing left to decide): a sync of
 * 2,000 changed profiles in batches of 500 waits about 10 ms for each, and takes 11% less time in
 * batches of 125, 500, 500, 500, 250 and 125 (median of eleven alternating runs). A run of two
 * batches gains as much: a sync of 1,000 changed profiles waits 4–7 ms for its first lookup and
 * 6–9 ms for its last apply, and takes 39 ms instead of 44 in batches of 125, 500, 250 and 125
 * rather than two of 500 (median of 30 in alternating processes).
 */
export const batchBounds = (profiles: number, batchSize: number): number[] => {
  if (profiles === 0) return [0];
  const quarter = Math.ceil(batchSize / 4);
  const tapered = batchSize >= TAPERED_FROM && profiles > batchSize && isShortRun(profiles, batchSize);
  const bounds = [0];
  let next = tapered ? quarter : batchSize;
  const lastFrom = tapered ? profiles - quarter : profiles;
  for (; next < lastFrom; next += batchSize) bounds.push(next);
  if (tapered) bounds.push(lastFrom);
  bounds.push(profiles);
  return bounds;
};

export type Prepared = {
  readonly profileId: string;
  readonly keys: readonly string[];
  readonly input: Omit<DecisionInput, 'observed'>;
  /** the profile's commands that never got an outcome (a crash), in the order they were decided */
  readonly pending: readonly PendingCommand[];
};

/**
 * The profiles' desired keys and ledger keys, and what decide needs besides the observation. A
 * command left without outcome adds its keys (before and after), so the lookup shows whether it
 * was applied even when the profile has changed since.
 *
 * A run passes the ledger's pending mark as it was when the run started (see pendingBefore): it
 * decides each profile once, so a profile it prepares has no command of the run's own, and the
 * run's commands need no index by profile. Anyone else (plan, replay) asks about every command.
 */
export const prepare = (
  s: EngineState,
  v: DestinationView,
  config: DestinationConfig,
  mode: SyncModeName,
  profileIds: readonly string[],
  decidedBefore: number = pendingMark(v.ledger.pending),
): Prepared[] => {
  return profileIds.map((profileId) => {
    const profile = profileOf(s.world, profileId);
    const ledger = v.ledger.entries.get(profileId) ?? null;
    const key = claimedKeyOf(config, profile);
    const keys: string[] = [];
    if (key !== undefined) keys.push(key);
    if (ledger !== null && ledger.key !== key) keys.push(ledger.key);
    // In decision order: the ledger fold settles them in that order too.
    const pending = pendingBefore(v.ledger.pending, decidedBefore, profileId);
    for (const cmd of pending)
      for (const k of [cmd.decision.key ?? '', cmd.keyAfter]) if (k !== '' && !keys.includes(k)) keys.push(k);
    const claims = v.claims ? claimsFor(v.claims, keys, profileId) : NO_CLAIMS;
    return {
      profileId,
      keys,
      input: { destination: config, mode, profileId, profile, ledger, claims },
      pending,
    };
  });
};

export const keysOf = (batch: readonly Prepared[]): string[] => {
  const keys = new Set<string>();
  for (const p of batch) for (const k of p.keys) keys.add(k);
  // The default order of strings is compareStrings' (UTF-16 code units), without a call per comparison.
  return [...keys].sort();
};

export type Judged = {
  readonly prepared: Prepared;
  readonly observed: ObservedRecord[];
  /** the profile's commands left without outcome: confirmed if the observation shows them applied */
  readonly settled: readonly Settlement[];
  readonly verdict: Verdict;
  /** the record the verdict matched, when the ledger did not yet hold it as the profile's */
  readonly adopted: Adoption | undefined;
};

const NONE_FOUND: readonly ObservedRecord[] = Object.freeze([]);
const NONE_SETTLED: readonly Settlement[] = Object.freeze([]);

/**
 * Decides every profile of the batch against the records found for its keys. Commands a crash left
 * without outcome are settled first, by what the destination shows, and the decision is made from
 * the ledger as those settlements leave it (as the ledger fold applies them: settled, then decided),
 * so a record written just before the crash is known, and deleted or renamed if the profile has since
 * left the collection, been deleted or changed its key.
 */
export const judge = (batch: readonly Prepared[], records: readonly ObservedRecord[]): Judged[] => {
  const byKey = new Map(records.map((r) => [r.key, r]));
  // Loops rather than flatMap and spreads: this runs for every profile of every batch.
  return batch.map((prepared) => {
    // A first sync finds no record for anyone, and few profiles have unsettled commands: those
    // share one frozen empty list instead of two fresh ones each.
    let observed: ObservedRecord[] = NONE_FOUND as ObservedRecord[];
    for (const k of prepared.keys) {
      const r = byKey.get(k);
      if (r) (observed === NONE_FOUND ? (observed = []) : observed).push(r);
    }
    const input = prepared.input;
    let ledger = input.ledger;
    const settled: Settlement[] = prepared.pending.length === 0 ? (NONE_SETTLED as Settlement[]) : [];
    for (const cmd of prepared.pending) {
      if (!showsEffect(cmd, input.destination.keyField, observed)) {
        settled.push({ commandId: cmd.commandId, status: 'superseded' });
        continue;
      }
      ledger = applyToEntry(ledger ?? undefined, cmd) ?? null;
      settled.push({ commandId: cmd.commandId, status: 'confirmed' });
    }
    const decided: DecisionInput = {
      destination: input.destination,
      mode: input.mode,
      profileId: input.profileId,
      profile: input.profile,
      ledger,
      claims: input.claims,
      observed,
    };
    const verdict = decide(decided);
    return { prepared, observed, settled, verdict, adopted: adoption(decided, verdict) };
  });
};
