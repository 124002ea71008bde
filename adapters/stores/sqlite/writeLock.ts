// Waiting for the SQLite store's write lock, which one process holds at a time (an ingest holds it for
// its whole append): try, wait a little, try again, say once that we wait, give up after a long while.
import Database from 'better-sqlite3';
import * as E from 'fp-ts/lib/Either.js';
import type { StoreError } from '../../../engine/ports.js';

/**
 * How long a writer waits by default before giving up. An ingest holds the lock for its whole
 * append (the benchmark's 190,000 events take 3–5 s to ingest in all, check included), so a sync
 * started beside the ingest of some twenty million events still goes through; a writer that never
 * lets go (a process stopped while it held the lock) is reported within minutes, not waited on
 * forever.
 */
export const DEFAULT_WAIT_MS = 10 * 60 * 1000;

/**
 * How long each try waits in SQLite's own busy handler (the connection's busy_timeout), which
 * blocks the thread: short tries let a writer say that it waits, and let timers and I/O run between.
 * Readers never wait for a writer in WAL mode; the rare moments they are told to wait (another
 * connection recovering the log) are covered by one try.
 */
export const TRY_MS = 1000;

/** After this long a writer says once, through `onWaiting`, that it waits for another process. */
export const NOTICE_AFTER_MS = 2000;

/** What an attempt answers when another connection holds the lock. */
export const BUSY: unique symbol = Symbol('busy');

export const isBusy = (error: unknown): boolean =>
  error instanceof Database.SqliteError && error.code.startsWith('SQLITE_BUSY');

/** Runs `f`, answering BUSY instead of throwing when the lock is held elsewhere. */
export const busyAs = <A>(f: () => A): A | typeof BUSY => {
  try {
    return f();
  } catch (error) {
    if (isBusy(error)) return BUSY;
    throw error;
  }
};

export type Waiting = {
  /** the store's file, for the message */
  readonly path: string;
  readonly waitMs: number;
  /** told once, after NOTICE_AFTER_MS */
  readonly onWaiting?: () => void;
};

const span = (ms: number): string =>
  ms < 1000
    ? `${ms} ms`
    : ms % 60_000 === 0
      ? `${ms / 60_000} minute${ms === 60_000 ? '' : 's'}`
      : `${(ms / 1000).toFixed(ms % 1000 === 0 ? 0 : 1)} s`;

const gaveUp = (w: Waiting): StoreError => ({
  _tag: 'StoreUnavailable',
  message:
    `another process is writing to the store at ${w.path} (an ingest or a sync holds its write lock); ` +
    `gave up after waiting ${span(w.waitMs)} for it`,
});

/** The bookkeeping of one wait: whether to go on, and telling once that it goes on. */
const waiter = (w: Waiting) => {
  const start = Date.now();
  let told = false;
  return (): boolean => {
    const waited = Date.now() - start;
    if (waited >= w.waitMs) return false;
    if (!told && waited >= NOTICE_AFTER_MS) {
      told = true;
      w.onWaiting?.();
    }
    return true;
  };
};

/**
 * Runs `attempt` until it answers something other than BUSY, and hands that on in the same turn (so
 * a transaction `attempt` began is not left open while other code runs). Between tries it yields to
 * the event loop.
 */
export const waitForLock = async <A>(
  attempt: () => A | typeof BUSY,
  w: Waiting,
): Promise<E.Either<StoreError, A>> => {
  const goOn = waiter(w);
  for (;;) {
    const r = attempt();
    if (r !== BUSY) return E.right(r);
    if (!goOn()) return E.left(gaveUp(w));
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
};

/** Like waitForLock, for work that cannot wait asynchronously (opening a store). */
export const waitForLockNow = <A>(attempt: () => A | typeof BUSY, w: Waiting): E.Either<StoreError, A> => {
  const goOn = waiter(w);
  for (;;) {
    const r = attempt();
    if (r !== BUSY) return E.right(r);
    if (!goOn()) return E.left(gaveUp(w));
  }
};
