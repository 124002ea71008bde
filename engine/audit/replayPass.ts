// One pass of replay over the store: the inputs (read without any destination's sync stream) and this
// destination's stream, merged in position order and folded, stopping where each item was decided.
import type { DestinationConfig } from '../../domain/destination.js';
import type { InputEvent } from '../../domain/events.js';
import { SYNC_PREFIX, syncStream } from '../../domain/syncEvents.js';
import { claimedKey, emptyClaims, updateClaim, type Claims } from '../../projections/claims.js';
import { touchedProfiles } from '../../projections/world.js';
import type { EventStore, StoredEvent } from '../ports.js';
import { applyStored, initialState, type EngineState } from '../state/engineState.js';
import { invalidStored, type InvalidStoredEvent } from '../state/storedEvents.js';
import type { Item, Scanner, Stop } from './replayRuns.js';

export type PassOptions = {
  readonly store: EventStore;
  readonly destinationId: string;
  /** the what-if config, whose key claims are folded beside the live ones */
  readonly whatIf: DestinationConfig | undefined;
  /** told of the first invalid event read: the pass then ends early and its result is dropped */
  readonly invalid: (e: InvalidStoredEvent) => void;
  readonly onProgress?: (done: number, total: number) => void;
};

/** Handles an item on the state exactly at the position it was decided at. */
export type AtItem = (s: EngineState, alt: Claims | null, item: Item) => void;

/**
 * The first pass stops at each start or batch of the stream (the `at` it was decided at comes before
 * its own position, after events of both sources), reading the stream only up to the next one: the
 * events between two are few (outcomes, a run's end).
 */
export const firstPass = async (o: PassOptions, scan: Scanner, at: AtItem): Promise<void> => {
  const m = await merging(o, false);
  for (let stop = await nextStop(m, scan); stop !== null; stop = await nextStop(m, scan)) {
    await foldUpTo(m, stop.at);
    if (stop.item !== null) at(m.s, m.alt, stop.item);
  }
  o.onProgress?.(m.total, m.total);
};

/** A later pass stops at given items, in order, reading this destination's stream as it folds it. */
export const laterPass = async (o: PassOptions, items: readonly Item[], at: AtItem): Promise<void> => {
  const m = await merging(o, true);
  for (const item of items) {
    await foldUpTo(m, item.at);
    at(m.s, m.alt, item);
  }
  o.onProgress?.(m.total, m.total);
};

/**
 * The input events a pass folds, looked at one event ahead to merge them with the sync stream's.
 * An invalid event ends it, handed to `invalid`.
 */
type Inputs = { next: StoredEvent | undefined; readonly advance: () => Promise<void> };

const inputsFrom = async (
  events: AsyncIterable<StoredEvent>,
  invalid: (e: InvalidStoredEvent) => void,
): Promise<Inputs> => {
  const it = events[Symbol.asyncIterator]();
  const s: Inputs = {
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

/** Where a pass is in both sources, and the state folded so far. */
type Merging = {
  readonly o: PassOptions;
  readonly s: EngineState;
  /** the what-if config's key claims, or null without one */
  readonly alt: Claims | null;
  readonly total: number;
  readonly inputs: Inputs;
  readonly own: AsyncIterator<StoredEvent>;
  /** a later pass reads this destination's events one ahead, as it folds them */
  readonly oneAhead: boolean;
  /** this destination's events read and not yet folded, of which the first `scanned` were scanned */
  readonly ahead: StoredEvent[];
  scanned: number;
  ownDone: boolean;
  folded: number;
};

const merging = async (o: PassOptions, oneAhead: boolean): Promise<Merging> => {
  const s = initialState();
  const alt = o.whatIf ? emptyClaims(o.whatIf) : null;
  const total = await o.store.head();
  const inputs = await inputsFrom(o.store.readAll(0, undefined, SYNC_PREFIX), o.invalid);
  const own = o.store.readStream(syncStream(o.destinationId))[Symbol.asyncIterator]();
  return { o, s, alt, total, inputs, own, oneAhead, ahead: [], scanned: 0, ownDone: false, folded: 0 };
};

/** Reads this destination's next event into `ahead`; false at the end (or an invalid event). */
const readOwn = async (m: Merging): Promise<boolean> => {
  const r = await m.own.next();
  const e = r.done === true ? undefined : checked(r.value, m.o.invalid);
  if (e === undefined) return !(m.ownDone = true);
  m.ahead.push(e);
  return true;
};

/** The next start or batch of the stream, read up to it. */
const nextStop = async (m: Merging, scan: Scanner): Promise<Stop | null> => {
  for (;;) {
    if (m.scanned === m.ahead.length && !(await readOwn(m))) return null;
    const stop = scan.stopAt(m.ahead[m.scanned++] as StoredEvent);
    if (stop !== undefined) return stop;
  }
};

/** Folds every event of both sources up to `limit`, in position order. */
const foldUpTo = async (m: Merging, limit: number): Promise<void> => {
  for (;;) {
    if (m.oneAhead && m.ahead.length === 0 && !m.ownDone) await readOwn(m);
    const mine = m.ahead[0];
    const input = m.inputs.next;
    if (
      mine !== undefined &&
      mine.position <= limit &&
      (input === undefined || mine.position < input.position)
    ) {
      m.ahead.shift();
      m.scanned = Math.max(0, m.scanned - 1);
      foldNext(m, mine);
    } else if (input !== undefined && input.position <= limit) {
      foldNext(m, input);
      await m.inputs.advance();
    } else return;
  }
};

const foldNext = (m: Merging, e: StoredEvent): void => {
  fold(m.s, e, m.alt);
  if (++m.folded % 2000 === 0) m.o.onProgress?.(e.position, m.total);
};

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
