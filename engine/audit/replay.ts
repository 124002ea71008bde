// `replay`: every recorded run of a destination recomputed from the inputs recorded with it. The
// store is folded once, pausing at each batch's position; the destination is never touched.
import * as E from 'fp-ts/lib/Either.js';
import type { DestinationConfig } from '../../domain/destination.js';
import type { InputEvent } from '../../domain/events.js';
import type { SyncModeName } from '../../domain/modes.js';
import { SYNC_PREFIX, syncStream, type SyncEvent } from '../../domain/syncEvents.js';
import { compareStrings } from '../../domain/values.js';
import { claimedKey, emptyClaims, updateClaim, type Claims } from '../../projections/claims.js';
import { initialLedger } from '../../projections/ledger.js';
import { touchedProfiles } from '../../projections/world.js';
import type { EventStore, StoredEvent } from '../ports.js';
import {
  sameData,
  verifyBatch,
  whatIfBatch,
  type Aspect,
  type BatchData,
  type Mismatch,
  type RunContext,
  type Unobserved,
} from './replayBatch.js';
import { caveats, countKinds, type Difference, type DifferenceCount } from './replayDiff.js';
import { applyStored, initialState, type DestinationView, type EngineState } from '../state/engineState.js';
import { invalidStored, type InvalidStoredEvent } from '../state/storedEvents.js';

type RunStartedData = Extract<SyncEvent, { type: 'RunStarted' }>['data'];

/** Which runs to replay: one by id, or those started within a window (ISO times, inclusive). */
export type RunFilter = { readonly runId?: string; readonly since?: string; readonly until?: string };

export type ReplayOptions = {
  readonly runs?: RunFilter;
  /** check every recorded decision against its recomputation; the default without a what-if */
  readonly verify?: boolean;
  /** what-if: decide under this mode instead of each run's */
  readonly mode?: SyncModeName;
  /** what-if: decide under this configuration of the destination (its syncMode unless `mode`) */
  readonly config?: DestinationConfig;
  readonly onProgress?: (done: number, total: number) => void;
};

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

export type Replay = {
  readonly destinationId: string;
  readonly verified: boolean;
  readonly runs: RunReplay[];
};

export type ReplayError =
  | { readonly _tag: 'NoRuns'; readonly destinationId: string }
  | { readonly _tag: 'UnknownRun'; readonly destinationId: string; readonly runId: string }
  | InvalidStoredEvent;

type Track = {
  readonly report: RunReplay;
  readonly context: RunContext | null;
  readonly differences: Difference[];
  readonly notObserved: Unobserved[];
};

type Item = { readonly at: number; readonly stored: number; readonly track: Track } & (
  | { readonly kind: 'start'; readonly data: RunStartedData }
  | { readonly kind: 'batch'; readonly data: BatchData }
);

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

const flag = (t: Track, position: number, aspect: Aspect, recorded: unknown, recomputed: unknown): void => {
  t.report.mismatches.push({ position, profileId: null, aspect, recorded, recomputed });
};

/** A run start or batch of the destination's stream, and the item to handle there if selected. */
type Decided = { readonly at: number; readonly item: Item | null };

/**
 * Follows the sync stream in order: which runs are selected, each start or batch as an item (or
 * null when its run is not selected), and runs' outcomes noted on the way.
 */
const scanner = (filter: RunFilter, verify: boolean) => {
  const tracks = new Map<string, Track | null>();
  // The engine prepares a batch only after folding the previous start or batch it wrote.
  let lastDecided = 0;
  const decidedBy = (e: StoredEvent): Decided | undefined => {
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
  return { decidedBy, tracks, seen: () => lastDecided > 0 };
};

/**
 * The input events a pass folds, looked at one event ahead to merge them with the sync stream's.
 * An invalid event ends it, handed to `invalid`: the pass then ends early and its result is dropped.
 */
type Source = { next: StoredEvent | undefined; readonly advance: () => Promise<void> };

const source = async (
  events: AsyncIterable<StoredEvent>,
  invalid: (e: InvalidStoredEvent) => void,
): Promise<Source> => {
  const it = events[Symbol.asyncIterator]();
  const s: Source = {
    next: undefined,
    advance: async () => {
      const r = await it.next();
      s.next = r.done === true ? undefined : checked(r.value, invalid);
    },
  };
  await s.advance();
  return s;
};

/** The event if it is valid; else undefined, and `invalid` is told. */
const checked = (e: StoredEvent, invalid: (e: InvalidStoredEvent) => void): StoredEvent | undefined => {
  const found = invalidStored(e);
  if (found === undefined) return e;
  invalid(found);
  return undefined;
};

const emptyView = (destinationId: string): DestinationView => ({
  destinationId,
  config: null,
  configPosition: 0,
  claims: null,
  ledger: initialLedger(),
});

/** Folds one event; the what-if config's claims follow the same profiles the live claims do. */
const fold = (s: EngineState, e: StoredEvent, alt: Claims | null): void => {
  const input = !e.stream.startsWith(SYNC_PREFIX) && !e.type.startsWith('Destination');
  if (alt === null || !input) {
    applyStored(s, e);
    return;
  }
  const touched = touchedProfiles(s.world, { type: e.type, data: e.data } as InputEvent);
  const before = touched.map((profileId) => claimedKey(alt, s.world, profileId));
  applyStored(s, e);
  touched.forEach((profileId, i) => updateClaim(alt, s.world, profileId, before[i]));
};

export const replayDestination = async (
  store: EventStore,
  destinationId: string,
  opts: ReplayOptions = {},
): Promise<E.Either<ReplayError, Replay>> => {
  const filter = opts.runs ?? {};
  const whatIf = opts.mode !== undefined || opts.config !== undefined;
  const verify = opts.verify ?? !whatIf;
  const scan = scanner(filter, verify);
  const late: Item[] = [];
  let damaged: InvalidStoredEvent | undefined;
  const invalid = (e: InvalidStoredEvent): void => {
    damaged ??= e;
  };

  const handle = (s: EngineState, alt: Claims | null, item: Item): void => {
    const v = s.destinations.get(destinationId) ?? emptyView(destinationId);
    const t = item.track;
    if (item.kind === 'start') {
      // The config a run recorded must be the one in force where it started.
      if (!sameData(v.config, item.data.config)) flag(t, item.at, 'config', item.data.config, v.config);
      const configured = item.data.config.syncMode;
      if (configured !== undefined && configured !== item.data.mode)
        flag(t, item.at, 'mode', item.data.mode, configured);
      return;
    }
    const b = item.data;
    t.report.batches++;
    const run = t.context ?? (v.config?.syncMode ? { config: v.config, mode: v.config.syncMode } : null);
    if (verify && run) {
      const r = verifyBatch(s, v, destinationId, run, b);
      t.report.decisions += r.profiles;
      t.report.matched = (t.report.matched ?? 0) + r.matched;
      t.report.mismatches.push(...r.mismatches);
    } else t.report.decisions += b.profileIds.length;
    if (whatIf && run) {
      const mode = opts.mode ?? opts.config?.syncMode ?? run.mode;
      const w = whatIfBatch(s, v, b, { config: opts.config ?? run.config, mode, claims: alt });
      t.differences.push(...w.differences);
      t.notObserved.push(...w.notObserved);
    }
  };

  /**
   * One pass over the store, handing each item the state exactly at its position. The inputs are
   * read without any destination's sync stream, and this destination's stream once, beside them: a
   * pass decodes no record of decisions twice and none of another destination's.
   *
   * The first pass stops at each start or batch of the stream (the `at` it was decided at comes
   * before its own position, after events of both sources), reading the stream only up to the next
   * one: the events between two are few (outcomes, a run's end). A later pass stops at given items.
   */
  const pass = async (items: readonly Item[] | null): Promise<void> => {
    const s = initialState();
    const alt = opts.config ? emptyClaims(opts.config) : null;
    const total = await store.head();
    const inputs = await source(store.readAll(0, undefined, SYNC_PREFIX), invalid);
    const own = store.readStream(syncStream(destinationId))[Symbol.asyncIterator]();
    // this destination's events read and not yet folded, of which the first `scanned` were scanned
    const ahead: StoredEvent[] = [];
    let scanned = 0;
    let ownDone = false;
    const readOwn = async (): Promise<boolean> => {
      const r = await own.next();
      const e = r.done === true ? undefined : checked(r.value, invalid);
      if (e === undefined) return !(ownDone = true);
      ahead.push(e);
      return true;
    };
    // The first pass stops at each start or batch: the stream is read up to the next one.
    const nextStop = async (): Promise<Decided | null> => {
      for (;;) {
        if (scanned === ahead.length && !(await readOwn())) return null;
        const decided = scan.decidedBy(ahead[scanned++] as StoredEvent);
        if (decided !== undefined) return decided;
      }
    };
    let folded = 0;
    const foldNext = (e: StoredEvent): void => {
      fold(s, e, alt);
      if (++folded % 2000 === 0) opts.onProgress?.(e.position, total);
    };
    /** Folds every event of both sources up to `limit`, in position order. */
    const foldUpTo = async (limit: number): Promise<void> => {
      for (;;) {
        // A later pass reads this destination's events one ahead, as it folds them.
        if (items !== null && ahead.length === 0 && !ownDone) await readOwn();
        const mine = ahead[0];
        const input = inputs.next;
        if (
          mine !== undefined &&
          mine.position <= limit &&
          (input === undefined || mine.position < input.position)
        ) {
          ahead.shift();
          scanned = Math.max(0, scanned - 1);
          foldNext(mine);
        } else if (input !== undefined && input.position <= limit) {
          foldNext(input);
          await inputs.advance();
        } else return;
      }
    };
    const at = (item: Item): void => {
      // Recorded after the log had passed its position (never by the engine): a second pass.
      if (items === null && item.at < s.position) late.push(item);
      else handle(s, alt, item);
    };

    if (items === null)
      for (let stop = await nextStop(); stop !== null; stop = await nextStop()) {
        await foldUpTo(stop.at);
        if (stop.item !== null) at(stop.item);
      }
    else
      for (const item of items) {
        await foldUpTo(item.at);
        at(item);
      }
    opts.onProgress?.(total, total);
  };

  await pass(null);
  if (damaged === undefined && late.length > 0) await pass([...late].sort((a, b) => a.at - b.at));
  if (damaged !== undefined) return E.left(damaged);

  if (!scan.seen()) return E.left({ _tag: 'NoRuns', destinationId });
  if (filter.runId !== undefined && !scan.tracks.get(filter.runId))
    return E.left({ _tag: 'UnknownRun', destinationId, runId: filter.runId });
  const runs: RunReplay[] = [];
  for (const t of scan.tracks.values()) {
    if (!t) continue;
    if (whatIf) t.report.counterfactual = counterfactualOf(t, opts);
    t.report.mismatches.sort(byPlace);
    runs.push(t.report);
  }
  return E.right({ destinationId, verified: verify, runs });
};

/** In the order the decisions were made; a profile's mismatches before its batch's. */
const byPlace = (a: Mismatch, b: Mismatch): number =>
  a.position - b.position ||
  (a.profileId === null ? 1 : 0) - (b.profileId === null ? 1 : 0) ||
  compareStrings(a.profileId ?? '', b.profileId ?? '');

const counterfactualOf = (t: Track, opts: ReplayOptions): Counterfactual => ({
  mode: opts.mode ?? opts.config?.syncMode ?? t.context?.mode ?? 'sync',
  differences: t.differences,
  counts: countKinds(t.differences),
  notObserved: t.notObserved,
  notes: opts.config && t.context ? caveats(t.context.config, opts.config) : [],
});
