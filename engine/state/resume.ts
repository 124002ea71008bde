// Where a new process starts folding: the store's newest snapshot when it checks out, else the start;
// and when a process that has folded far enough keeps a new one for the processes after it.
import * as E from 'fp-ts/lib/Either.js';
import type { EventStore, StoreError, StoredSnapshot } from '../ports.js';
import { refusedWords, restoreState, type SnapshotRefused } from './restore.js';
import { SNAPSHOT_FORMAT, snapshotParts } from './snapshot.js';
import { catchUp, initialState, type EngineState } from './engineState.js';
import type { InvalidStoredEvent } from './storedEvents.js';

/**
 * Why the newest snapshot was not used. `failure` is the store's own account of failing, its error's
 * message or what it threw: the store failed (SnapshotNotFound, SnapshotUnreadable; a damaged file,
 * say), rather than the snapshot being wrong, and keeping a new one would most likely fail the same way.
 */
export type SnapshotIgnored =
  | { readonly _tag: 'SnapshotNotFound'; readonly failure: string }
  /** the event at its position is not the one it was taken after */
  | { readonly _tag: 'SnapshotMismatch'; readonly position: number }
  | {
      readonly _tag: 'SnapshotUnreadable';
      readonly position: number;
      /** how many parts the store gave before it failed */
      readonly handedOn: number;
      readonly failure: string;
    }
  | { readonly _tag: 'SnapshotRefused'; readonly position: number; readonly refused: SnapshotRefused }
  /** its parts hold the state at another position than the one it is filed under */
  | { readonly _tag: 'SnapshotMisplaced'; readonly position: number; readonly holds: number };

/** Whether the store failed to give the snapshot, rather than the snapshot being wrong. */
export const storeFailedOn = (i: SnapshotIgnored): boolean =>
  i._tag === 'SnapshotNotFound' || i._tag === 'SnapshotUnreadable';

/** `the snapshot taken at position 5 does not match the store: …`, for one line of stderr. */
export const ignoredWords = (i: SnapshotIgnored): string => {
  if (i._tag === 'SnapshotNotFound') return `the store's newest snapshot cannot be found: ${i.failure}`;
  const at = `the snapshot taken at position ${i.position}`;
  switch (i._tag) {
    case 'SnapshotMismatch':
      return `${at} does not match the store: the event there is not the one it was taken after`;
    case 'SnapshotUnreadable':
      return `${at} cannot be read: the store failed after ${parts(i.handedOn)}: ${i.failure}`;
    case 'SnapshotRefused':
      return `${at} cannot be read: ${refusedWords(i.refused)}`;
    case 'SnapshotMisplaced':
      return `${at} holds the state at position ${i.holds}`;
  }
};

export type Resumed = {
  readonly state: EngineState;
  /** the snapshot the fold started from, if one was used */
  readonly from: { readonly position: number; readonly takenAt: string } | null;
  /** why the newest snapshot was not used, when there was one (or the store could not say) */
  readonly ignored?: SnapshotIgnored;
  /** how much had been folded at the snapshot: see snapshotDue */
  readonly folded: number;
};

/** The id of the event at `position`, or undefined if there is none. */
const eventIdAt = async (store: EventStore, position: number): Promise<string | undefined> => {
  for await (const e of store.readAll(position - 1, 1)) return e.position === position ? e.id : undefined;
  return undefined;
};

const messageOf = (e: StoreError): string => ('message' in e ? e.message : e._tag);

const parts = (n: number): string => (n === 1 ? '1 part' : `${n} parts`);

/** What the store did when it failed to give the snapshot's parts back, and after how many. */
type PartsFailure = { handedOn: number; message?: string };

/**
 * The parts' texts, up to the first the store fails to give (an error in its place, or a throw),
 * which `failure` then describes. Only the store's own reading is caught here: what the restore
 * does with the texts is its business.
 */
async function* textsOf(snapshot: StoredSnapshot, failure: PartsFailure): AsyncIterable<string> {
  try {
    for await (const part of snapshot.parts()) {
      if (E.isLeft(part)) {
        failure.message = messageOf(part.left);
        return;
      }
      failure.handedOn++;
      yield part.right;
    }
  } catch (e) {
    failure.message = String(e);
  }
}

/** The store's newest snapshot, null, or what the store did instead (an error, or a throw). */
const newest = async (store: EventStore): Promise<E.Either<SnapshotIgnored, StoredSnapshot | null>> => {
  const notFound = (failure: string): SnapshotIgnored => ({ _tag: 'SnapshotNotFound', failure });
  try {
    return E.mapLeft((e: StoreError) => notFound(messageOf(e)))(
      await store.snapshots.latest(SNAPSHOT_FORMAT)(),
    );
  } catch (e) {
    return E.left(notFound(String(e)));
  }
};

/**
 * The state folded up to the store's end, from its newest snapshot when that checks out: taken at an
 * event the store still holds at that position. Anything wrong with the snapshot only costs time:
 * the fold then starts from the beginning, and `ignored` says why. That includes the store failing
 * to find or read the snapshot, whether it says so or throws: a snapshot is never needed, so
 * nothing about one may stop a command. An invalid event in what is folded stops it (see catchUp).
 */
export const resume = async (
  store: EventStore,
  onEvent?: (position: number) => void,
): Promise<E.Either<InvalidStoredEvent, Resumed>> => {
  const fromStart = async (ignored?: SnapshotIgnored): Promise<E.Either<InvalidStoredEvent, Resumed>> =>
    E.map((state: EngineState): Resumed => ({
      state,
      from: null,
      folded: 0,
      ...(ignored === undefined ? {} : { ignored }),
    }))(await catchUp(store, initialState(), onEvent));
  const found = await newest(store);
  if (E.isLeft(found)) return fromStart(found.left);
  const latest = found.right;
  if (latest === null) return fromStart();
  const position = latest.position;
  if ((await eventIdAt(store, position)) !== latest.eventId)
    return fromStart({ _tag: 'SnapshotMismatch', position });
  const failure: PartsFailure = { handedOn: 0 };
  const restored = await restoreState(textsOf(latest, failure));
  if (failure.message !== undefined)
    return fromStart({
      _tag: 'SnapshotUnreadable',
      position,
      handedOn: failure.handedOn,
      failure: failure.message,
    });
  if (E.isLeft(restored)) return fromStart({ _tag: 'SnapshotRefused', position, refused: restored.left });
  if (restored.right.position !== position)
    return fromStart({ _tag: 'SnapshotMisplaced', position, holds: restored.right.position });
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
export const keepSnapshot = async (
  store: EventStore,
  s: EngineState,
  sinceFolded: number,
): Promise<E.Either<StoreError | InvalidStoredEvent, boolean>> => {
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
