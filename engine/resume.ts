// Where a new process starts folding: the store's newest snapshot when it checks out, else the start;
// and when a process that has folded far enough keeps a new one for the processes after it.
import * as E from 'fp-ts/lib/Either.js';
import type { TaskEither } from 'fp-ts/lib/TaskEither.js';
import type { EventStore, StoreError } from './ports.js';
import { restoreState } from './restore.js';
import { SNAPSHOT_FORMAT, snapshotParts } from './snapshot.js';
import { catchUp, initialState, type EngineState } from './state.js';
import type { InvalidStoredEvent } from './storedEvents.js';

export type Resumed = {
  readonly state: EngineState;
  /** the snapshot the fold started from, if one was used */
  readonly from: { readonly position: number; readonly takenAt: string } | null;
  /** why the newest snapshot was not used, when there was one */
  readonly ignored?: string;
  /** how much had been folded at the snapshot: see snapshotDue */
  readonly folded: number;
};

/** The id of the event at `position`, or undefined if there is none. */
const eventIdAt = async (store: EventStore, position: number): Promise<string | undefined> => {
  for await (const e of store.readAll(position - 1, 1)) return e.position === position ? e.id : undefined;
  return undefined;
};

/**
 * The state folded up to the store's end, from its newest snapshot when that checks out: taken at an
 * event the store still holds at that position. Anything wrong with the snapshot only costs time:
 * the fold then starts from the beginning, and `ignored` says why. An invalid event in what is
 * folded stops it (see catchUp).
 */
export const resume = async (
  store: EventStore,
  onEvent?: (position: number) => void,
): Promise<E.Either<InvalidStoredEvent, Resumed>> => {
  const fromStart = async (ignored?: string): Promise<E.Either<InvalidStoredEvent, Resumed>> =>
    E.map((state: EngineState): Resumed => ({
      state,
      from: null,
      folded: 0,
      ...(ignored === undefined ? {} : { ignored }),
    }))(await catchUp(store, initialState(), onEvent));
  const latest = await store.snapshots.latest(SNAPSHOT_FORMAT);
  if (latest === null) return fromStart();
  const at = `the snapshot taken at position ${latest.position}`;
  if ((await eventIdAt(store, latest.position)) !== latest.eventId)
    return fromStart(`${at} does not match the store: the event there is not the one it was taken after`);
  const restored = await restoreState(latest.parts());
  if (E.isLeft(restored)) return fromStart(`${at} cannot be read: ${restored.left}`);
  if (restored.right.position !== latest.position)
    return fromStart(`${at} holds the state at position ${restored.right.position}`);
  const folded = restored.right.folded;
  return E.map((state: EngineState): Resumed => ({
    state,
    from: { position: latest.position, takenAt: latest.takenAt },
    folded,
  }))(await catchUp(store, restored.right, onEvent));
};

/** Folded at least this much since the last snapshot, a new one is worth its writing. */
const LEAST_FOLDED = 20_000;

/**
 * Whether to keep a new snapshot, `sinceFolded` being what the state held at the last one. Restoring
 * costs about as much per profile as folding costs per two events or decisions, and writing costs
 * less than restoring: so a snapshot is kept once what was folded since the last one would take about
 * half as long to fold again as the snapshot takes to restore. A first sync of 100,000 profiles
 * folds 200,000 decisions and outcomes, and is kept; ten syncs of 1% of them make one.
 */
export const snapshotDue = (s: EngineState, sinceFolded: number): boolean =>
  s.position > 0 && s.folded - sinceFolded >= Math.max(LEAST_FOLDED, s.world.profiles.size / 2);

/**
 * Keeps a snapshot of the state, caught up to the store's end first (an ingest leaves it behind).
 * Resolves with whether one was kept: not when too little was folded since `sinceFolded`, nor when
 * another process kept one at the same moment (its snapshot stands).
 */
export const keepSnapshot =
  (
    store: EventStore,
    s: EngineState,
    sinceFolded: number,
  ): TaskEither<StoreError | InvalidStoredEvent, boolean> =>
  async () => {
    const caught = await catchUp(store, s);
    if (E.isLeft(caught)) return caught;
    if (!snapshotDue(s, sinceFolded)) return E.right(false);
    const eventId = await eventIdAt(store, s.position);
    // The store is append-only, so only a bug could leave the state at a position with no event.
    if (eventId === undefined) throw new Error(`no event at position ${s.position}, where the state is`);
    return store.snapshots.keep({
      format: SNAPSHOT_FORMAT,
      position: s.position,
      eventId,
      parts: snapshotParts(s),
    })();
  };
