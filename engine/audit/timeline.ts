// The timeline explain tells of one profile at one destination: its items, what the telling knows
// as it goes (an explicit Telling), and how each stored event is told: inputs, configs, batches, outcomes.
import { decide } from '../../domain/decide.js';
import type { Decision, DecisionOperation, LedgerEntry, ObservedRecord } from '../../domain/decision.js';
import type { DestinationConfig } from '../../domain/destination.js';
import type { SyncModeName } from '../../domain/modes.js';
import { resultsOf, type RecordedDecision, type SyncEvent } from '../../domain/syncEvents.js';
import {
  addPending,
  emptyPending,
  takePending,
  type Pending,
  type PendingCommand,
} from '../../projections/pending.js';
import { adoptedEntry, applyToEntry, pendingCommandOf, takeSettled } from '../../projections/settling.js';
import { profileOf } from '../../projections/world.js';
import type { StoredEvent } from '../ports.js';
import { outcomeWords, resultOutcome, settledOutcome, type Outcome, type Settled } from './decisionLog.js';
import type { ProfileHistory } from './history.js';
import { reasonFor, type ReasonContext } from './reasons.js';
import {
  advance,
  applyToKnown,
  configWords,
  cursor,
  effectOf,
  effectWords,
  eventWords,
  keysFor,
  modeOf,
  desiredOf,
  type Cursor,
  type Effect,
  type Known,
} from './story.js';

type Base = { readonly position: number; readonly at: string; readonly summary: string };

export type TimelineItem =
  | (Base & {
      readonly kind: 'event';
      readonly type: string;
      readonly stream: string;
      readonly effect: Effect;
    })
  | (Base & { readonly kind: 'config'; readonly type: string; readonly effect: Effect | null })
  | (Base & {
      readonly kind: 'observation';
      readonly runId: string;
      /** the store position the run decided at (its inputs), not where the batch was recorded */
      readonly decidedAtPosition: number;
      readonly keys: readonly string[];
      readonly records: readonly ObservedRecord[];
    })
  | (Base & {
      readonly kind: 'decision';
      readonly runId: string;
      readonly decidedAtPosition: number;
      readonly commandId: string | null;
      readonly operation: DecisionOperation | 'nothing';
      readonly decision: Decision | null;
      readonly reason: string;
    })
  | (Base & {
      readonly kind: 'outcome';
      readonly runId: string;
      readonly commandId: string;
      readonly outcome: Outcome;
    });

/**
 * What the telling knows of the profile at the destination, as of the event being told. Two cursors
 * fold the same inputs: `now` up to the event told, `then` up to the position a batch was decided at
 * (a batch is recorded after the inputs it was decided from, and sometimes after later ones).
 */
export type Telling = {
  readonly history: ProfileHistory;
  /** the mode of a destination whose config leaves it to its type */
  readonly defaultMode: (type: string) => SyncModeName;
  readonly now: Cursor;
  readonly then: Cursor;
  readonly items: TimelineItem[];
  /** the profile's commands decided and not yet settled, as the ledger keeps them */
  readonly pending: Pending;
  /** the destination's records under the profile's keys, as syncline last knew them */
  readonly known: Known;
  /** what syncline last wrote for the profile, as the ledger fold has it */
  ledger: LedgerEntry | undefined;
  /** other profiles' claims on its keys, as recorded with its latest decision */
  claims: Readonly<Record<string, string>>;
  observation: { readonly runId: string; readonly at: string; readonly position: number } | null;
  /** the profile's commands applied since that observation */
  appliedSince: number;
  /** input events that changed nothing this destination sees */
  omitted: number;
};

export const telling = (history: ProfileHistory, defaultMode: (type: string) => SyncModeName): Telling => ({
  history,
  defaultMode,
  now: cursor(),
  then: cursor(),
  items: [],
  pending: emptyPending(),
  known: new Map(),
  ledger: undefined,
  claims: {},
  observation: null,
  appliedSince: 0,
  omitted: 0,
});

type Decided = Extract<SyncEvent, { type: 'BatchDecided' }>['data'];
type Applied = Extract<SyncEvent, { type: 'BatchApplied' }>['data'];

const short = (id: string): string => id.slice(0, 8);

/** An input or config event: how it moved what the destination should hold, if at all. */
export const tellInput = (t: Telling, e: StoredEvent, source: 'input' | 'config'): void => {
  const pid = t.history.profileId;
  const configBefore = t.now.config;
  const before = desiredOf(t.now.config, t.now.world, pid);
  advance(t.now, pid, t.history.inputs, t.history.configs, e.position);
  const effect = effectOf(before, desiredOf(t.now.config, t.now.world, pid));
  const moved = effect === null ? '' : ` → ${effectWords(effect)}`;
  const at = { position: e.position, at: e.occurredAt, type: e.type };
  if (source === 'config') {
    const words = configWords(configBefore, t.now.config, t.defaultMode);
    t.items.push({ kind: 'config', ...at, effect, summary: `${words}${moved}` });
  } else if (effect === null) t.omitted++;
  else t.items.push({ kind: 'event', ...at, stream: e.stream, effect, summary: `${eventWords(e)}${moved}` });
};

/** An event of the destination's sync stream: a batch that looked at the profile, or outcomes. */
export const tellSync = (t: Telling, e: StoredEvent): void => {
  if (e.type === 'BatchDecided') tellBatch(t, e, e.data as Decided);
  else if (e.type === 'BatchApplied')
    for (const r of resultsOf(e.data as Applied)) {
      const cmd = takePending(t.pending, r.commandId);
      if (cmd) settle(t, cmd, resultOutcome(r), e.position);
    }
};

/** A command taken from the pending ones gets its outcome: applied, it is what syncline wrote. */
const settle = (t: Telling, cmd: PendingCommand, outcome: Settled, position: number): void => {
  if (outcome.status === 'applied') {
    t.ledger = applyToEntry(t.ledger, cmd);
    applyToKnown(t.known, cmd);
    t.appliedSince++;
  }
  const summary = `${cmd.decision.operation} ${cmd.decision.key ?? ''}: ${outcomeWords(outcome)}`;
  t.items.push({
    kind: 'outcome',
    position,
    at: outcome.at,
    summary,
    runId: cmd.runId,
    commandId: cmd.commandId,
    outcome,
  });
};

const tellBatch = (t: Telling, e: StoredEvent, d: Decided): void => {
  const pid = t.history.profileId;
  const mine = d.decisions.filter((r) => r.decision.profileId === pid);
  const settledKeys = settleCrashed(t, e, d, mine[0]?.commandId ?? null);
  if (!d.profileIds.includes(pid)) return;
  const config = advance(t.then, pid, t.history.inputs, t.history.configs, d.position).config;
  if (config === null) return;
  const ctx = observe(t, e, d, config, settledKeys, mine);
  tellDecisions(t, e, d, ctx, mine);
};

/** Commands a crash left without outcome, settled by this batch: their keys were looked up too. */
const settleCrashed = (t: Telling, e: StoredEvent, d: Decided, by: string | null): string[] => {
  const keys: string[] = [];
  takeSettled(t.pending, d.settled, (cmd, status) => {
    keys.push(cmd.decision.key ?? '', cmd.keyAfter);
    settle(t, cmd, settledOutcome(status, d.decidedAt, by), e.position);
  });
  return keys;
};

/** What the run looked up for the profile and found: from now on, what syncline knows of its records. */
const observe = (
  t: Telling,
  e: StoredEvent,
  d: Decided,
  config: DestinationConfig,
  settledKeys: readonly string[],
  mine: readonly RecordedDecision[],
): ReasonContext => {
  const pid = t.history.profileId;
  const view = desiredOf(config, t.then.world, pid);
  const ledger = t.ledger ?? null;
  const keys = [...new Set([...keysFor(view, ledger), ...settledKeys.filter((k) => k !== '')])];
  const observed = d.observed.filter((r) => keys.includes(r.key));
  t.known.clear();
  for (const k of keys) t.known.set(k, observed.find((r) => r.key === k) ?? null);
  t.observation = { runId: d.runId, at: d.decidedAt, position: e.position };
  t.appliedSince = 0;
  const claims = mine[0]?.claims ?? {};
  if (mine.length > 0) t.claims = claims;
  const seen = keys.map((k) => {
    const r = observed.find((x) => x.key === k);
    return r ? `${k}: found (${[...Object.keys(r.fields), ...r.groups].join(', ')})` : `${k}: no record`;
  });
  t.items.push({
    kind: 'observation',
    position: e.position,
    at: d.decidedAt,
    runId: d.runId,
    decidedAtPosition: d.position,
    keys,
    records: observed,
    summary: `run ${short(d.runId)} looked up ${seen.length > 0 ? seen.join('; ') : 'nothing (no key, nothing written)'}`,
  });
  return {
    destination: config,
    mode: modeOf(config, t.defaultMode),
    profileId: pid,
    world: t.then.world,
    everJoined: t.then.everJoined,
    key: view.inScope ? (view.key ?? undefined) : undefined,
    ledger,
    observed,
    claims,
  };
};

/** The decisions recorded for the profile, each with its reason; or why nothing was decided. */
const tellDecisions = (
  t: Telling,
  e: StoredEvent,
  d: Decided,
  ctx: ReasonContext,
  mine: readonly RecordedDecision[],
): void => {
  const adopted = d.adopted?.find((a) => a.profileId === ctx.profileId);
  const adoptedWords =
    adopted === undefined ? '' : `; the ledger now holds record ${adopted.key} as this profile's (matched)`;
  const base = { position: e.position, at: d.decidedAt, runId: d.runId, decidedAtPosition: d.position };
  const decided = (commandId: string | null, decision: Decision | null, reason: string) =>
    t.items.push({
      kind: 'decision',
      ...base,
      commandId,
      operation: decision?.operation ?? 'nothing',
      decision,
      reason: `${reason}${adoptedWords}`,
      summary: `${reason}${adoptedWords}`,
    });
  if (mine.length === 0) decided(null, null, nothingReason(ctx));
  // As the ledger fold does: the match is the profile's entry from now on, with the values the
  // record held, and an update decided here settles onto it.
  if (adopted !== undefined)
    t.ledger = adoptedEntry(
      adopted,
      ctx.observed.find((r) => r.key === adopted.key),
    );
  for (const r of mine) {
    decided(r.commandId, r.decision, reasonFor(ctx, r.decision));
    const cmd = pendingCommandOf(d.runId, r);
    if (cmd) addPending(t.pending, cmd);
  }
};

/**
 * Why a batch that looked at the profile decided nothing for it. Claims on other keys are recorded
 * only with decisions, so a "nothing" that this profile's story alone does not give was decided by
 * another profile holding its key.
 */
const nothingReason = (ctx: ReasonContext): string => {
  const verdict = decide({
    destination: ctx.destination,
    mode: ctx.mode,
    profileId: ctx.profileId,
    profile: profileOf(ctx.world, ctx.profileId),
    observed: ctx.observed as ObservedRecord[],
    ledger: ctx.ledger,
    claims: ctx.claims,
  });
  return verdict.operation === 'nothing'
    ? reasonFor(ctx, verdict)
    : `nothing to do, as recorded; from this profile alone it would be ${verdict.operation}, so another profile's claim on its key decided it`;
};
