// explain: one profile's story at one destination, replayed from its indexed history: the events
// that moved it, config changes, each run's observation and decision with its reason, and outcomes.
import * as E from 'fp-ts/lib/Either.js';
import type { SyncModeName } from '../../domain/modes.js';
import type { EventStore, StoredEvent } from '../ports.js';
import { atState, cutoffOf, type AtState } from './explainAt.js';
import { readProfileHistory, type HistoryError, type ProfileHistory } from './history.js';
import { pendingCommands } from '../../projections/pending.js';
import { tellInput, telling, tellSync, type TimelineItem } from './timeline.js';

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

type Origin = 'input' | 'config' | 'sync';

/**
 * The profile's history told in position order, up to what the store held at `opts.at`. A function
 * of the history alone: nothing is read or written.
 */
export const explainProfile = (h: ProfileHistory, opts: ExplainOptions): Explanation => {
  const cutoff = opts.at === undefined ? Number.POSITIVE_INFINITY : cutoffOf(h, opts.at);
  const all: [Origin, StoredEvent][] = [
    ...h.inputs.map((e) => ['input', e] as [Origin, StoredEvent]),
    ...h.configs.map((e) => ['config', e] as [Origin, StoredEvent]),
    ...h.sync.map((e) => ['sync', e] as [Origin, StoredEvent]),
  ]
    .filter(([, e]) => e.position <= cutoff)
    .sort((a, b) => a[1].position - b[1].position);
  const t = telling(h, opts.defaultMode);
  for (const [origin, e] of all) {
    if (origin === 'sync') tellSync(t, e);
    else tellInput(t, e, origin);
  }
  return {
    destinationId: h.destinationId,
    profileId: h.profileId,
    timeline: t.items,
    omittedEvents: t.omitted,
    pending: [...pendingCommands(t.pending)].map((c) => c.commandId),
    at:
      opts.at === undefined
        ? null
        : atState({
            at: opts.at,
            position: all.at(-1)?.[1].position ?? 0,
            cursor: t.now,
            mode: opts.defaultMode,
            profileId: h.profileId,
            ledger: t.ledger,
            claims: t.claims,
            observation: t.observation,
            appliedSince: t.appliedSince,
            known: t.known,
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
