// The engine's state, caught up from a store: the world, each destination's config, ledger and key
// claims, and which profiles changed when (so a run costs O(changes)). In memory here; see stateFile.
import * as E from 'fp-ts/lib/Either.js';
import { keepsWrittenValues, type DestinationConfig } from '../../domain/destination.js';
import type { InputEvent } from '../../domain/events.js';
import { SYNC_PREFIX, type SyncEvent } from '../../domain/syncEvents.js';
import { buildClaims, claimantsOf, claimedKey, updateClaim, type Claims } from '../../projections/claims.js';
import type { Holders } from '../../projections/holders.js';
import { foldLedgerAt, initialLedger, type Ledger } from '../../projections/ledger.js';
import { foldWorld, initialWorld, touchedProfiles, type World } from '../../projections/world.js';
import type { EventStore, StoredEvent } from '../ports.js';
import { invalidStored, type InvalidStoredEvent } from './storedEvents.js';

export type DestinationView = {
  readonly destinationId: string;
  /** the configuration in force; null once removed */
  config: DestinationConfig | null;
  /** the position of the DestinationConfigured/Removed event now in force */
  configPosition: number;
  claims: Claims | null;
  readonly ledger: Ledger;
};

/** Which profiles' desired state changed after a position. */
export type Touches = {
  add(position: number, profileId: string): void;
  /** the profiles touched after `position` (exclusive) */
  since(position: number): Set<string>;
  /** how many profiles were touched after `position`: since(position).size, without listing them */
  countSince(position: number): number;
};

/**
 * The tables a destination's projections are kept in: fresh Maps in memory; on disk, the rows of
 * that destination (see adapters/state).
 */
export type DestinationTables = {
  /** the destination's ledger as the state holds it (a new one: empty) */
  ledger(destinationId: string): Ledger;
  /** the destination's key claims table, whatever it holds (buildClaims empties it) */
  claims(destinationId: string): Holders;
};

/** Keys in order, read a page at a time from a snapshot: see EngineState.everyone. */
export type OrderedKeys = {
  /** how many there are */
  readonly count: number;
  has(key: string): boolean;
  /** the next `n` keys, fewer at the end, none after it */
  next(n: number): string[];
  /** lets go of the snapshot */
  close(): void;
};

export type EngineState = {
  position: number;
  /** the id of the event at `position` ('' at 0): a state kept on disk checks the store still holds it */
  eventId: string;
  readonly world: World;
  readonly destinations: Map<string, DestinationView>;
  readonly touches: Touches;
  readonly tables: DestinationTables;
  /**
   * Called where the state may be saved (between a run's batches): a state kept on disk writes what
   * it holds in memory there once that is much, so that a long run's memory stays bounded.
   */
  readonly keep?: () => void;
  /**
   * A state kept on disk: the id of every profile of the world and of every profile the
   * destination's ledger has an entry for, in the order of their code points, read from a snapshot
   * of the state as it is now, so that a run over everyone holds a page of them rather than all.
   * Undefined, or answering undefined (no snapshot of this state can be had), in memory: the
   * candidates are listed there.
   */
  readonly everyone?: (destinationId: string) => OrderedKeys | undefined;
};

/** The touches in memory: a log of (position, profile), in position order, searched by bisection. */
export class TouchLog implements Touches {
  readonly positions: number[] = [];
  readonly profiles: string[] = [];

  add(position: number, profileId: string): void {
    this.positions.push(position);
    this.profiles.push(profileId);
  }

  since(position: number): Set<string> {
    let lo = 0;
    let hi = this.positions.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.positions[mid] as number) <= position) lo = mid + 1;
      else hi = mid;
    }
    return new Set(this.profiles.slice(lo));
  }

  countSince(position: number): number {
    return this.since(position).size;
  }
}

const inMemory: DestinationTables = { ledger: () => initialLedger(), claims: () => new Map() };

export const initialState = (): EngineState => ({
  position: 0,
  eventId: '',
  world: initialWorld(),
  destinations: new Map(),
  touches: new TouchLog(),
  tables: inMemory,
});

const view = (s: EngineState, destinationId: string): DestinationView => {
  let v = s.destinations.get(destinationId);
  if (!v) {
    v = {
      destinationId,
      config: null,
      configPosition: 0,
      claims: null,
      ledger: s.tables.ledger(destinationId),
    };
    s.destinations.set(destinationId, v);
  }
  return v;
};

const touch = (s: EngineState, position: number, profileId: string): void =>
  s.touches.add(position, profileId);

/**
 * Folds one stored event into every projection, in place, trusting its shape: the caller has checked it
 * (catchUp does, with invalidStored), or wrote it itself a moment ago (a run folds its own appends).
 */
export const applyStored = (s: EngineState, e: StoredEvent): EngineState => {
  s.position = e.position;
  s.eventId = e.id;
  if (e.stream.startsWith(SYNC_PREFIX)) {
    const event = { type: e.type, data: e.data } as SyncEvent;
    foldLedgerAt(view(s, e.stream.slice(SYNC_PREFIX.length)).ledger, event, e.position);
    return s;
  }
  const event = { type: e.type, data: e.data } as InputEvent;
  if (event.type === 'DestinationConfigured' || event.type === 'DestinationRemoved') {
    const v = view(s, event.data.destinationId);
    v.configPosition = e.position;
    v.config = event.type === 'DestinationConfigured' ? event.data : null;
    v.ledger.keepsValues = v.config !== null && keepsWrittenValues(v.config);
    const byKey = s.tables.claims(v.destinationId);
    if (v.config) v.claims = buildClaims(v.config, s.world, byKey);
    else {
      byKey.clear();
      v.claims = null;
    }
    return s;
  }
  const touched = touchedProfiles(s.world, event);
  // Keys before the event, per destination and profile: the claims index keeps none of its own.
  // Plain loops: this runs for every input event of a catch-up.
  const before: (string | undefined)[] = [];
  for (const v of s.destinations.values()) {
    if (v.claims) for (const pid of touched) before.push(claimedKey(v.claims, s.world, pid));
  }
  foldWorld(s.world, event);
  for (const pid of touched) touch(s, e.position, pid);
  let i = 0;
  for (const v of s.destinations.values()) {
    const c = v.claims;
    if (!c) continue;
    for (const pid of touched) {
      const was = before[i++];
      const now = updateClaim(c, s.world, pid, was);
      // A key changing hands can unblock or block the other profiles that claim it.
      if (was === now) continue;
      for (const k of [was, now]) {
        if (k === undefined) continue;
        for (const other of claimantsOf(c, k)) if (other !== pid) touch(s, e.position, other);
      }
    }
  }
  return s;
};

/**
 * Reads everything after the state's position, checks it and folds it. Pull-based, so memory stays
 * bounded. An event that is not what its stream holds stops the fold there (the state stays at the
 * event before it): something wrote it past every check, and folding it could only crash or mislead.
 */
export const catchUp = async (
  store: EventStore,
  s: EngineState,
  onEvent?: (position: number) => void,
): Promise<E.Either<InvalidStoredEvent, EngineState>> => {
  for await (const e of store.readAll(s.position)) {
    const invalid = invalidStored(e);
    if (invalid !== undefined) return E.left(invalid);
    applyStored(s, e);
    onEvent?.(e.position);
  }
  return E.right(s);
};

/** Profiles touched after `position` (exclusive). */
export const touchedSince = (s: EngineState, position: number): Set<string> => s.touches.since(position);
