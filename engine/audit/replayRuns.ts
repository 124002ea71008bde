// Which recorded runs a replay follows and what it reports of each: the destination's sync stream
// read in order, each run start or batch of a selected run handed on as an item to replay there.
import type { SyncModeName } from '../../domain/modes.js';
import type { SyncEvent } from '../../domain/syncEvents.js';
import type { StoredEvent } from '../ports.js';
import type { Aspect, BatchData, Mismatch, RunContext, Unobserved } from './replayBatch.js';
import type { Difference, DifferenceCount } from './replayDiff.js';

/** Which runs to replay: one by id, or those started within a window (ISO times, inclusive). */
export type RunFilter = { readonly runId?: string; readonly since?: string; readonly until?: string };

export type Counterfactual = {
  readonly mode: SyncModeName;
  readonly differences: Difference[];
  readonly counts: DifferenceCount[];
  readonly notObserved: Unobserved[];
  /** what the recorded observations cannot tell about this alternative */
  readonly notes: string[];
};

export type RunReplay = {
  readonly runId: string;
  /** null for a batch whose run was never started: a stream written by something else */
  readonly mode: SyncModeName | null;
  readonly startedAt: string | null;
  readonly position: number | null;
  outcome: 'finished' | 'failed' | 'unfinished';
  batches: number;
  /** profiles whose decisions were recomputed (every profile each batch looked at) */
  decisions: number;
  /** null when not verifying */
  matched: number | null;
  readonly mismatches: Mismatch[];
  counterfactual: Counterfactual | null;
};

export type RunStartedData = Extract<SyncEvent, { type: 'RunStarted' }>['data'];

/** A selected run as the replay goes: its report, and what its what-if found so far. */
export type Track = {
  readonly report: RunReplay;
  /** the config and mode it recorded at its start; null for a run never started */
  readonly context: RunContext | null;
  readonly differences: Difference[];
  readonly notObserved: Unobserved[];
};

/** A run start or batch to replay: `at` is the position it was decided at, `stored` its own. */
export type Item = { readonly at: number; readonly stored: number; readonly track: Track } & (
  | { readonly kind: 'start'; readonly data: RunStartedData }
  | { readonly kind: 'batch'; readonly data: BatchData }
);

/** A run start or batch of the destination's stream, and the item to handle there if selected. */
export type Stop = { readonly at: number; readonly item: Item | null };

const selected = (f: RunFilter, d: RunStartedData): boolean =>
  (f.runId === undefined || f.runId === d.runId) &&
  (f.since === undefined || Date.parse(d.startedAt) >= Date.parse(f.since)) &&
  (f.until === undefined || Date.parse(d.startedAt) <= Date.parse(f.until));

const newTrack = (verify: boolean, runId: string, started: RunStartedData | null): Track => ({
  report: {
    runId,
    mode: started?.mode ?? null,
    startedAt: started?.startedAt ?? null,
    position: started?.position ?? null,
    outcome: 'unfinished',
    batches: 0,
    decisions: 0,
    matched: verify ? 0 : null,
    mismatches: [],
    counterfactual: null,
  },
  context: started ? { config: started.config, mode: started.mode } : null,
  differences: [],
  notObserved: [],
});

/** Notes a mismatch of the run or batch as a whole (no one profile's). */
export const flag = (
  t: Track,
  position: number,
  aspect: Aspect,
  recorded: unknown,
  recomputed: unknown,
): void => {
  t.report.mismatches.push({ position, profileId: null, aspect, recorded, recomputed });
};

export type Scanner = {
  /** The stop an event of the sync stream is, if a run start or batch; else undefined. */
  readonly stopAt: (e: StoredEvent) => Stop | undefined;
  /** every run met, by id; null for a run not selected */
  readonly tracks: ReadonlyMap<string, Track | null>;
  /** whether any run start or batch was met */
  readonly seen: () => boolean;
};

/**
 * Follows the sync stream in order: which runs are selected, each start or batch as an item (or
 * null when its run is not selected), and runs' outcomes noted on the way.
 */
export const scanner = (filter: RunFilter, verify: boolean): Scanner => {
  const tracks = new Map<string, Track | null>();
  // The engine prepares a batch only after folding the previous start or batch it wrote.
  let lastDecided = 0;
  const trackFor = (ev: SyncEvent & { type: 'RunStarted' | 'BatchDecided' }, stored: number) => {
    const runId = ev.data.runId;
    if (ev.type === 'RunStarted') {
      const started = selected(filter, ev.data) ? newTrack(verify, runId, ev.data) : null;
      tracks.set(runId, started);
      return started;
    }
    if (tracks.has(runId)) return tracks.get(runId);
    // A batch of a run that never started: no window can place it, but it is shown unless excluded.
    const orphan =
      filter.since === undefined && filter.until === undefined && (filter.runId ?? runId) === runId
        ? newTrack(verify, runId, null)
        : null;
    if (orphan) flag(orphan, ev.data.position, 'run', stored, null);
    tracks.set(runId, orphan);
    return orphan;
  };
  const stopAt = (e: StoredEvent): Stop | undefined => {
    const ev = { type: e.type, data: e.data } as SyncEvent;
    if (ev.type === 'RunStarted' || ev.type === 'BatchDecided') {
      const at = ev.data.position;
      const outOfOrder = at < lastDecided;
      lastDecided = e.position;
      const track = trackFor(ev, e.position);
      if (!track) return { at, item: null };
      if (outOfOrder) flag(track, at, 'order', e.position, null);
      return {
        at,
        item:
          ev.type === 'RunStarted'
            ? { kind: 'start', at, stored: e.position, track, data: ev.data }
            : { kind: 'batch', at, stored: e.position, track, data: ev.data },
      };
    }
    if (ev.type === 'RunFinished' || ev.type === 'RunFailed') {
      const t = tracks.get(ev.data.runId);
      if (t) t.report.outcome = ev.type === 'RunFinished' ? 'finished' : 'failed';
    }
    return undefined;
  };
  return { stopAt, tracks, seen: () => lastDecided > 0 };
};
