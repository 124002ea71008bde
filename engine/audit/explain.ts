// explain: one profile's story at one destination, replayed from its indexed history: the events
// that moved it, config changes, each run's observation and decision with its reason, and outcomes.
import * as E from 'fp-ts/lib/Either.js';
import { decide } from '../../domain/decide.js';
import type { Decision, DecisionOperation, LedgerEntry, ObservedRecord } from '../../domain/decision.js';
import type { SyncModeName } from '../../domain/modes.js';
import { resultsOf, type SyncEvent } from '../../domain/syncEvents.js';
import { applyToEntry, type PendingCommand } from '../../projections/ledger.js';
import { profileSnapshot } from '../../projections/world.js';
import { outcomeWords, resultOutcome, settledOutcome, type Outcome, type Settled } from './decisionLog.js';
import { readProfileHistory, type HistoryError, type ProfileHistory } from './history.js';
import type { EventStore, StoredEvent } from '../ports.js';
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
  viewOf,
  type Effect,
  type Known,
} from './story.js';
import { atState, cutoffOf, type AtState } from './explainAt.js';

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

export type Explanation = {
  readonly destinationId: string;
  readonly profileId: string;
  readonly timeline: readonly TimelineItem[];
  /** the profile's events that changed nothing this destination sees (not listed) */
  readonly omittedEvents: number;
  /** commands decided but without an outcome yet */
  readonly pending: readonly string[];
  readonly at: AtState | null;
};

export type ExplainOptions = {
  readonly at?: string;
  /** the mode of a destination whose config leaves it to its type */
  readonly defaultMode: (type: string) => SyncModeName;
};

export type ExplainError =
  | HistoryError
  | { readonly _tag: 'UnknownProfile'; readonly destinationId: string; readonly profileId: string };

type Decided = Extract<SyncEvent, { type: 'BatchDecided' }>['data'];
type Applied = Extract<SyncEvent, { type: 'BatchApplied' }>['data'];
type Source = 'input' | 'config' | 'sync';

const short = (id: string): string => id.slice(0, 8);

/** The replay of a profile's history in position order, up to `cutoff`. Pure. */
export const explainProfile = (h: ProfileHistory, opts: ExplainOptions): Explanation => {
  const pid = h.profileId;
  const cutoff = opts.at === undefined ? Number.POSITIVE_INFINITY : cutoffOf(h, opts.at);
  const now = cursor();
  const then = cursor();
  const items: TimelineItem[] = [];
  const pending = new Map<string, PendingCommand>();
  const known: Known = new Map();
  const s = {
    ledger: undefined as LedgerEntry | undefined,
    claims: {} as Record<string, string>,
    observation: null as { runId: string; at: string; position: number } | null,
    appliedSince: 0,
    omitted: 0,
  };
  const all: [Source, StoredEvent][] = [
    ...h.inputs.map((e) => ['input', e] as [Source, StoredEvent]),
    ...h.configs.map((e) => ['config', e] as [Source, StoredEvent]),
    ...h.sync.map((e) => ['sync', e] as [Source, StoredEvent]),
  ]
    .filter(([, e]) => e.position <= cutoff)
    .sort((a, b) => a[1].position - b[1].position);

  const settle = (cmd: PendingCommand, outcome: Settled, position: number) => {
    pending.delete(cmd.commandId);
    if (outcome.status === 'applied') {
      s.ledger = applyToEntry(s.ledger, cmd);
      applyToKnown(known, cmd);
      s.appliedSince++;
    }
    const summary = `${cmd.decision.operation} ${cmd.decision.key ?? ''}: ${outcomeWords(outcome)}`;
    items.push({
      kind: 'outcome',
      position,
      at: outcome.at,
      summary,
      runId: cmd.runId,
      commandId: cmd.commandId,
      outcome,
    });
  };

  const batch = (e: StoredEvent, d: Decided) => {
    const mine = d.decisions.filter((r) => r.decision.profileId === pid);
    // A run looks up the keys of commands a crash left without outcome too, to settle them.
    const settledKeys: string[] = [];
    for (const st of d.settled ?? []) {
      const cmd = pending.get(st.commandId);
      if (cmd === undefined) continue;
      settledKeys.push(cmd.decision.key ?? '', cmd.keyAfter);
      settle(cmd, settledOutcome(st.status, d.decidedAt, mine[0]?.commandId ?? null), e.position);
    }
    if (!d.profileIds.includes(pid)) return;
    const config = advance(then, pid, h.inputs, h.configs, d.position).config;
    if (config === null) return;
    const mode = modeOf(config, opts.defaultMode);
    const view = viewOf(config, then.world, pid);
    const ledger = s.ledger ?? null;
    const keys = [...new Set([...keysFor(view, ledger), ...settledKeys.filter((k) => k !== '')])];
    const observed = d.observed.filter((r) => keys.includes(r.key));
    known.clear();
    for (const k of keys) known.set(k, observed.find((r) => r.key === k) ?? null);
    s.observation = { runId: d.runId, at: d.decidedAt, position: e.position };
    s.appliedSince = 0;
    const claims = mine[0]?.claims ?? {};
    if (mine.length > 0) s.claims = claims;
    const ctx: ReasonContext = {
      destination: config,
      mode,
      profileId: pid,
      world: then.world,
      everJoined: then.everJoined,
      key: view.inScope ? (view.key ?? undefined) : undefined,
      ledger,
      observed,
      claims,
    };
    const base = { position: e.position, at: d.decidedAt, runId: d.runId, decidedAtPosition: d.position };
    const seen = keys.map((k) => {
      const r = observed.find((x) => x.key === k);
      return r ? `${k}: found (${[...Object.keys(r.fields), ...r.groups].join(', ')})` : `${k}: no record`;
    });
    items.push({
      kind: 'observation',
      ...base,
      keys,
      records: observed,
      summary: `run ${short(d.runId)} looked up ${seen.length > 0 ? seen.join('; ') : 'nothing (no key, nothing written)'}`,
    });
    const adopted = d.adopted?.find((a) => a.profileId === pid);
    const adoptedWords =
      adopted === undefined ? '' : `; the ledger now holds record ${adopted.key} as this profile's (matched)`;
    const decided = (commandId: string | null, decision: Decision | null, reason: string) =>
      items.push({
        kind: 'decision',
        ...base,
        commandId,
        operation: decision?.operation ?? 'nothing',
        decision,
        reason: `${reason}${adoptedWords}`,
        summary: `${reason}${adoptedWords}`,
      });
    if (mine.length === 0) {
      const profile = profileSnapshot(then.world, pid);
      const verdict = decide({
        destination: config,
        mode,
        profileId: pid,
        profile,
        observed,
        ledger,
        claims,
      });
      // Claims on other keys are recorded only with decisions, so a "nothing" that this profile's
      // story alone does not give was decided by another profile holding its key.
      decided(
        null,
        null,
        verdict.operation === 'nothing'
          ? reasonFor(ctx, verdict)
          : `nothing to do, as recorded; from this profile alone it would be ${verdict.operation}, so another profile's claim on its key decided it`,
      );
    }
    // As the ledger fold does: the match is the profile's entry from now on, with the values the
    // record held, and an update decided here settles onto it.
    if (adopted !== undefined) {
      const record = observed.find((r) => r.key === adopted.key);
      s.ledger = {
        profileId: pid,
        key: adopted.key,
        fields: Object.fromEntries(adopted.fields.map((f) => [f, record?.fields[f] ?? null])),
        groups: adopted.groups,
      };
    }
    for (const r of mine) {
      decided(r.commandId, r.decision, reasonFor(ctx, r.decision));
      if (r.decision.operation !== 'skip')
        pending.set(r.commandId, {
          runId: d.runId,
          commandId: r.commandId,
          decision: r.decision,
          keyAfter: r.keyAfter ?? r.decision.key ?? '',
        });
    }
  };

  for (const [source, e] of all) {
    if (source === 'sync') {
      if (e.type === 'BatchDecided') batch(e, e.data as Decided);
      else if (e.type === 'BatchApplied')
        for (const r of resultsOf(e.data as Applied)) {
          const cmd = pending.get(r.commandId);
          if (cmd) settle(cmd, resultOutcome(r), e.position);
        }
      continue;
    }
    const configBefore = now.config;
    const before = viewOf(now.config, now.world, pid);
    advance(now, pid, h.inputs, h.configs, e.position);
    const effect = effectOf(before, viewOf(now.config, now.world, pid));
    const moved = effect === null ? '' : ` → ${effectWords(effect)}`;
    if (source === 'config') {
      const words = configWords(configBefore, now.config, opts.defaultMode);
      items.push({
        kind: 'config',
        position: e.position,
        at: e.occurredAt,
        type: e.type,
        effect,
        summary: `${words}${moved}`,
      });
    } else if (effect === null) s.omitted++;
    else
      items.push({
        kind: 'event',
        position: e.position,
        at: e.occurredAt,
        type: e.type,
        stream: e.stream,
        effect,
        summary: `${eventWords(e)}${moved}`,
      });
  }

  return {
    destinationId: h.destinationId,
    profileId: pid,
    timeline: items,
    omittedEvents: s.omitted,
    pending: [...pending.keys()],
    at:
      opts.at === undefined
        ? null
        : atState({
            at: opts.at,
            position: all.at(-1)?.[1].position ?? 0,
            cursor: now,
            mode: opts.defaultMode,
            profileId: pid,
            ...s,
            known,
          }),
  };
};

/** Reads the profile's history through indexes and explains it. */
export const explain = async (
  store: EventStore,
  destinationId: string,
  profileId: string,
  opts: ExplainOptions,
): Promise<E.Either<ExplainError, Explanation>> => {
  const history = await readProfileHistory(store, destinationId, profileId);
  if (E.isLeft(history)) return history;
  if (history.right.inputs.length === 0 && history.right.sync.length === 0)
    return E.left({ _tag: 'UnknownProfile', destinationId, profileId });
  return E.right(explainProfile(history.right, opts));
};
