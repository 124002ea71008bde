// Replaying one recorded batch against the engine state at the position it was decided at: verify
// recomputes every part of it with the live engine's own code; what-if decides under another mode.
import type { Adoption } from '../../domain/adopt.js';
import { isDecision, type Decision, type Verdict } from '../../domain/decision.js';
import type { DestinationConfig } from '../../domain/destination.js';
import type { SyncModeName } from '../../domain/modes.js';
import type { RecordedDecision, SyncEvent } from '../../domain/syncEvents.js';
import { compareStrings } from '../../domain/values.js';
import type { Claims } from '../../projections/claims.js';
import { judge, keysOf, prepare, type Prepared } from '../sync/batch.js';
import { recordOf } from '../sync/batchRecord.js';
import { kindOf, type Difference } from './replayDiff.js';
import type { DestinationView, EngineState } from '../state/engineState.js';

export type BatchData = Extract<SyncEvent, { type: 'BatchDecided' }>['data'];

/** The part of a recording that did not follow from its inputs. */
export type Aspect =
  | 'decision'
  | 'commandId'
  | 'keyAfter'
  | 'claims'
  | 'keys'
  | 'settled'
  | 'cleared'
  | 'adopted'
  | 'unchanged'
  | 'config'
  | 'mode'
  | 'order'
  | 'run';

export type Mismatch = {
  /** the store position the batch (or run) was decided at */
  readonly position: number;
  /** null when the mismatch is about the batch or the run, not one profile */
  readonly profileId: string | null;
  readonly aspect: Aspect;
  /** for `decision`: the recorded Decision, or null when nothing was recorded */
  readonly recorded: unknown;
  /** for `decision`: the recomputed Verdict, or null when the profile was not in the batch */
  readonly recomputed: unknown;
};

/** The config and mode a run decided under (from its RunStarted). */
export type RunContext = { readonly config: DestinationConfig; readonly mode: SyncModeName };

/**
 * Equality of JSON data, key order aside: a recorded decision went through the store's JSON, the
 * recomputed one was built in memory. Cheaper than canonical strings, which matters at 100k decisions.
 */
export const sameData = (a: unknown, b: unknown): boolean => {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((x, i) => sameData(x, b[i]));
  }
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  const ka = Object.keys(ra).filter((k) => ra[k] !== undefined);
  const kb = Object.keys(rb).filter((k) => rb[k] !== undefined);
  return ka.length === kb.length && ka.every((k) => Object.hasOwn(rb, k) && sameData(ra[k], rb[k]));
};

const byProfile = (decisions: readonly RecordedDecision[]): Map<string, RecordedDecision[]> => {
  const out = new Map<string, RecordedDecision[]>();
  for (const r of decisions) {
    const list = out.get(r.decision.profileId);
    if (list) list.push(r);
    else out.set(r.decision.profileId, [r]);
  }
  return out;
};

export type Verified = {
  readonly profiles: number;
  readonly matched: number;
  readonly mismatches: Mismatch[];
};

/**
 * Recomputes a batch as a run makes it (engine/sync/run.ts): `prepare` on the state at the batch's
 * position (world, claims, ledger and pending commands), `judge` against the recorded observation
 * (settlements and verdicts), then `recordOf` (command ids, keys, claims, settlements, cleared
 * failures, adoptions and counts). A profile matches when nothing recorded about it differs.
 */
export const verifyBatch = (s: EngineState, v: DestinationView, run: RunContext, b: BatchData): Verified => {
  const mismatches: Mismatch[] = [];
  const add = (profileId: string | null, aspect: Aspect, recorded: unknown, recomputed: unknown): void => {
    mismatches.push({ position: b.position, profileId, aspect, recorded, recomputed });
  };
  const batch = prepare(s, v, run.config, run.mode, b.profileIds);
  const keys = keysOf(batch);
  if (!sameData(keys, b.keys)) add(null, 'keys', b.keys, keys);
  const recorded = byProfile(b.decisions);
  const looked = new Set(b.profileIds);
  for (const [pid, rs] of recorded)
    if (!looked.has(pid)) for (const r of rs) add(pid, 'decision', r.decision, null);

  const judged = judge(batch, b.observed);
  const record = recordOf(judged, v, run.config.keyField, b.position);
  const derived = new Map(record.decisions.map((r) => [r.decision.profileId, r]));
  let matched = 0;
  for (const { prepared, verdict } of judged) {
    const pid = prepared.profileId;
    const before = mismatches.length;
    const [first, ...extra] = recorded.get(pid) ?? [];
    const mine = derived.get(pid);
    if (mine === undefined) {
      if (first) add(pid, 'decision', first.decision, verdict);
    } else if (!first) add(pid, 'decision', null, verdict);
    else if (!sameData(first.decision, verdict)) add(pid, 'decision', first.decision, verdict);
    // Same decision: then everything derived from it and its inputs must be the same too.
    else derivedMismatches(first, mine).forEach(([aspect, was, is]) => add(pid, aspect, was, is));
    for (const r of extra) add(pid, 'decision', r.decision, verdict);
    if (mismatches.length === before) matched++;
  }
  const byId = (a: { commandId: string }, z: { commandId: string }) =>
    compareStrings(a.commandId, z.commandId);
  const recordedSettled = [...(b.settled ?? [])].sort(byId);
  const settled = record.settled.sort(byId);
  if (!sameData(recordedSettled, settled)) add(null, 'settled', recordedSettled, settled);
  const recordedCleared = [...(b.cleared ?? [])].sort(compareStrings);
  const cleared = record.cleared.sort(compareStrings);
  if (!sameData(recordedCleared, cleared)) add(null, 'cleared', recordedCleared, cleared);
  // Batches are recorded in profile order; the sort makes the comparison independent of it.
  const byPid = (a: Adoption, z: Adoption) => compareStrings(a.profileId, z.profileId);
  const recordedAdopted = [...(b.adopted ?? [])].sort(byPid);
  const adopted = record.adopted.sort(byPid);
  if (!sameData(recordedAdopted, adopted)) add(null, 'adopted', recordedAdopted, adopted);
  if (b.unchanged !== undefined && b.unchanged !== record.unchanged)
    add(null, 'unchanged', b.unchanged, record.unchanged);
  return { profiles: b.profileIds.length, matched, mismatches };
};

/** Where a recorded decision's command id, key after and claims differ from those recomputed. */
const derivedMismatches = (was: RecordedDecision, is: RecordedDecision): [Aspect, unknown, unknown][] => {
  const out: [Aspect, unknown, unknown][] = [];
  if (was.commandId !== is.commandId) out.push(['commandId', was.commandId, is.commandId]);
  // A run records keyAfter only for a rename; older stores recorded it for every decision.
  const wasKey = was.keyAfter ?? was.decision.key;
  const isKey = is.keyAfter ?? is.decision.key;
  if (wasKey !== isKey) out.push(['keyAfter', wasKey ?? null, isKey ?? null]);
  if (!sameData(was.claims ?? {}, is.claims ?? {})) out.push(['claims', was.claims ?? {}, is.claims ?? {}]);
  return out;
};

/** The alternative a what-if replay decides under; `claims` replaces the view's when the config differs. */
export type WhatIf = {
  readonly config: DestinationConfig;
  readonly mode: SyncModeName;
  readonly claims: Claims | null;
};

/** A profile the alternative could not judge: it would have looked up keys the run never did. */
export type Unobserved = { readonly profileId: string; readonly keys: readonly string[] };

export type WhatIfBatch = { readonly differences: Difference[]; readonly notObserved: Unobserved[] };

/**
 * The decisions of a batch under the alternative that differ from those recorded. Only recorded
 * lookups are used: a key the run did not look up might or might not have had a record.
 */
export const whatIfBatch = (s: EngineState, v: DestinationView, b: BatchData, alt: WhatIf): WhatIfBatch => {
  const view = alt.claims === null ? v : { ...v, claims: alt.claims };
  const looked = new Set(b.keys);
  const observable: Prepared[] = [];
  const notObserved: Unobserved[] = [];
  for (const p of prepare(s, view, alt.config, alt.mode, b.profileIds)) {
    const missing = p.keys.filter((k) => !looked.has(k));
    if (missing.length > 0) notObserved.push({ profileId: p.profileId, keys: missing });
    else observable.push(p);
  }
  const recorded = new Map(b.decisions.map((r) => [r.decision.profileId, r.decision]));
  const differences: Difference[] = [];
  for (const { prepared, verdict } of judge(observable, b.observed)) {
    const was = recorded.get(prepared.profileId) ?? null;
    if (same(was, verdict)) continue;
    differences.push({
      profileId: prepared.profileId,
      kind: kindOf(was, verdict),
      recorded: was,
      would: verdict,
    });
  }
  return { differences, notObserved };
};

const same = (recorded: Decision | null, would: Verdict): boolean =>
  recorded === null ? !isDecision(would) : isDecision(would) && sameData(recorded, would);
