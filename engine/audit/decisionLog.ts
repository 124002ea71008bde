// The decision log of a destination: each recorded decision, oldest first, with its outcome (applied,
// failed, skipped, superseded or pending), its three times and the input events that caused it.
import * as E from 'fp-ts/lib/Either.js';
import type { Decision, DecisionOperation } from '../../domain/decision.js';
import { resultsOf, syncStream, type CommandResult, type SyncEvent } from '../../domain/syncEvents.js';
import {
  changesOf,
  INDEX_READS_UP_TO,
  inputsOf,
  merged,
  readConfigs,
  readProfileHistory,
  type HistoryError,
} from './history.js';
import type { EventStore, StoredEvent } from '../ports.js';
import { eachChecked, type InvalidStoredEvent } from '../state/storedEvents.js';
import { failureOf } from '../../projections/settling.js';

export type Cause = {
  readonly type: string;
  readonly position: number;
  readonly occurredAt: string;
  readonly stream: string;
};

export type Outcome =
  | {
      readonly status: 'applied';
      readonly at: string;
      /** null when a later run found the destination already holding it (the outcome was lost) */
      readonly attempts: number | null;
      readonly confirmedByObservation: boolean;
    }
  | {
      readonly status: 'failed';
      readonly at: string;
      readonly attempts: number;
      readonly retryable: boolean;
      readonly message: string;
    }
  /** never got an outcome (a crash) and a later run decided afresh; `by` is that decision's command */
  | { readonly status: 'superseded'; readonly at: string; readonly by: string | null }
  | { readonly status: 'skipped' }
  | { readonly status: 'pending' };

/** A command's outcome once it has one: applied, failed, or superseded after a crash. */
export type Settled = Exclude<Outcome, { status: 'skipped' | 'pending' }>;

export const resultOutcome = (r: CommandResult): Settled =>
  r.status === 'ok'
    ? { status: 'applied', at: r.at, attempts: r.attempts, confirmedByObservation: false }
    : { status: 'failed', at: r.at, attempts: r.attempts, ...failureOf(r) };

/** A command left without outcome by a crash, settled when a later run looked again at `at`. */
export const settledOutcome = (status: 'confirmed' | 'superseded', at: string, by: string | null): Settled =>
  status === 'confirmed'
    ? { status: 'applied', at, attempts: null, confirmedByObservation: true }
    : { status: 'superseded', at, by };

/** An outcome in words, e.g. `failed after 5 attempts: timeout (retryable)`. */
export const outcomeWords = (o: Outcome): string => {
  switch (o.status) {
    case 'applied':
      return o.confirmedByObservation
        ? 'applied (its outcome was lost; a later run found the destination holding it)'
        : `applied (${o.attempts === 1 ? '1 attempt' : `${o.attempts} attempts`})`;
    case 'failed':
      return `failed after ${o.attempts} attempt${o.attempts === 1 ? '' : 's'}: ${o.message}${o.retryable ? ' (retryable)' : ''}`;
    case 'superseded':
      return 'superseded: never got an outcome, and a later run decided afresh';
    case 'skipped':
      return 'skipped';
    case 'pending':
      return 'pending';
  }
};

export type LogEntry = {
  readonly runId: string;
  readonly commandId: string;
  readonly profileId: string;
  /** the store position the decision was computed at */
  readonly position: number;
  readonly decision: Decision;
  /** the record's key once applied (differs from decision.key on a rename) */
  readonly keyAfter: string | null;
  outcome: Outcome;
  readonly times: { caused: string | null; readonly decided: string; accepted: string | null };
  causes: Cause[];
  /** the position of the batch that looked at this profile before, causes are events after it */
  readonly after: number;
};

export type LogFilter = {
  readonly profileId?: string;
  readonly runId?: string;
  readonly operation?: DecisionOperation;
  /** ISO times, compared with when the decision was made */
  readonly since?: string;
  readonly until?: string;
  /** only the newest N matching entries (still oldest first): causes are gathered for those alone */
  readonly last?: number;
};

export type DecisionLog = {
  readonly entries: LogEntry[];
  /** how many entries matched the filter before `last` kept the newest */
  readonly matched: number;
};

type Decided = Extract<SyncEvent, { type: 'BatchDecided' }>['data'];
type Applied = Extract<SyncEvent, { type: 'BatchApplied' }>['data'];

/**
 * Walks sync events in order, checking each, and pairs each decision with its outcome. A command id
 * is matched to the latest decision that carries it, so a result always lands on the decision it
 * answers.
 */
export const entriesOf = async (
  events: AsyncIterable<StoredEvent> | Iterable<StoredEvent>,
  wanted: (profileId: string) => boolean,
): Promise<E.Either<InvalidStoredEvent, LogEntry[]>> => {
  const entries: LogEntry[] = [];
  const open = new Map<string, LogEntry>();
  const lastLooked = new Map<string, number>();
  const invalid = await eachChecked(events, (e) => {
    if (e.type === 'BatchDecided') {
      const d = e.data as Decided;
      const byProfile = new Map(d.decisions.map((r) => [r.decision.profileId, r.commandId]));
      for (const s of d.settled ?? []) {
        const entry = open.get(s.commandId);
        if (!entry) continue;
        open.delete(s.commandId);
        entry.outcome = settledOutcome(s.status, d.decidedAt, byProfile.get(entry.profileId) ?? null);
      }
      for (const r of d.decisions) {
        const pid = r.decision.profileId;
        if (!wanted(pid)) continue;
        const skip = r.decision.operation === 'skip';
        const entry: LogEntry = {
          runId: d.runId,
          commandId: r.commandId,
          profileId: pid,
          position: d.position,
          decision: r.decision,
          keyAfter: r.keyAfter ?? r.decision.key ?? null,
          outcome: skip ? { status: 'skipped' } : { status: 'pending' },
          times: { caused: null, decided: d.decidedAt, accepted: null },
          causes: [],
          after: lastLooked.get(pid) ?? 0,
        };
        entries.push(entry);
        if (!skip) open.set(r.commandId, entry);
      }
      for (const pid of d.profileIds) if (wanted(pid)) lastLooked.set(pid, d.position);
    } else if (e.type === 'BatchApplied') {
      for (const r of resultsOf(e.data as Applied)) {
        const entry = open.get(r.commandId);
        if (!entry) continue;
        open.delete(r.commandId);
        entry.outcome = resultOutcome(r);
        if (r.status === 'ok') entry.times.accepted = r.at;
      }
    }
  });
  return invalid === undefined ? E.right(entries) : E.left(invalid);
};

const chosen = (all: readonly LogEntry[], f: LogFilter): DecisionLog => {
  const matched = all.filter(matches(f));
  const from = f.last === undefined ? 0 : Math.max(0, matched.length - f.last);
  return { entries: matched.slice(from), matched: matched.length };
};

const matches = (f: LogFilter) => (x: LogEntry) =>
  (f.runId === undefined || x.runId === f.runId) &&
  (f.operation === undefined || x.decision.operation === f.operation) &&
  (f.since === undefined || Date.parse(x.times.decided) >= Date.parse(f.since)) &&
  (f.until === undefined || Date.parse(x.times.decided) <= Date.parse(f.until));

/** Fills in each entry's causes: its profile's changes and config changes since it was last looked at. */
export const attachCauses = (
  entries: readonly LogEntry[],
  changes: ReadonlyMap<string, readonly StoredEvent[]>,
  configs: readonly StoredEvent[],
): void => {
  const byProfile = new Map<string, StoredEvent[]>();
  for (const x of entries) {
    let all = byProfile.get(x.profileId);
    if (all === undefined) {
      all = merged(changes.get(x.profileId) ?? [], configs);
      byProfile.set(x.profileId, all);
    }
    x.causes = all
      .filter((e) => e.position > x.after && e.position <= x.position)
      .map((e) => ({ type: e.type, position: e.position, occurredAt: e.occurredAt, stream: e.stream }));
    const latest = x.causes.reduce<string | null>(
      (t, c) => (t === null || Date.parse(c.occurredAt) > Date.parse(t) ? c.occurredAt : t),
      null,
    );
    x.times.caused = latest;
  }
};

/**
 * The recorded decisions of a destination, oldest first, each with its outcome, times and causes.
 * With a profile, only that profile's tagged events are read; without, the destination's sync stream.
 */
export const decisionLog = async (
  store: EventStore,
  destinationId: string,
  filter: LogFilter = {},
  indexReadsUpTo = INDEX_READS_UP_TO,
): Promise<E.Either<HistoryError, DecisionLog>> => {
  const pid = filter.profileId;
  if (pid !== undefined) {
    const history = await readProfileHistory(store, destinationId, pid);
    if (E.isLeft(history)) return history;
    const h = history.right;
    const entries = await entriesOf(h.sync, (p) => p === pid);
    if (E.isLeft(entries)) return entries;
    const log = chosen(entries.right, filter);
    attachCauses(log.entries, new Map([[pid, changesOf(h.inputs, pid)]]), h.configs);
    return E.right(log);
  }
  const configs = await readConfigs(store, destinationId);
  if (E.isLeft(configs)) return configs;
  if (configs.right.length === 0) return E.left({ _tag: 'UnknownDestination', destinationId });
  const entries = await entriesOf(store.readStream(syncStream(destinationId)), () => true);
  if (E.isLeft(entries)) return entries;
  const log = chosen(entries.right, filter);
  const inputs = await inputsOf(store, new Set(log.entries.map((x) => x.profileId)), indexReadsUpTo);
  if (E.isLeft(inputs)) return inputs;
  const changes = new Map([...inputs.right].map(([id, events]) => [id, changesOf(events, id)]));
  attachCauses(log.entries, changes, configs.right);
  return E.right(log);
};
