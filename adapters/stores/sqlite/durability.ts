// When the SQLite store's commits reach the disk: every commit, before anything is applied to a
// destination (the default), or only when SQLite checkpoints. Chosen by SYNCLINE_SQLITE_SYNCHRONOUS.
import { closeSync, fsync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import type { StoreError } from '../../../engine/ports.js';

/**
 * - `every-commit` (FULL): SQLite syncs each commit before acknowledging it. The slowest: a sync
 *   records a batch of decisions per commit, and each sync blocks the thread that decides.
 * - `before-apply` (the default): commits are acknowledged at once (SQLite's NORMAL), and the store
 *   syncs its write-ahead log, off the deciding thread, before the engine hands any command to a
 *   destination, after an ingest commits, and when it closes. So nothing is applied to a destination
 *   that a power cut could take from the store, and an acknowledged ingest or configuration survives.
 * - `never` (NORMAL): only SQLite's checkpoints sync. Safe against a killed process, not a power cut:
 *   the store may come back without its last commits, decisions and outcomes included. The next sync
 *   then re-observes and adopts what it finds (domain/adopt.ts), but cannot know what was lost.
 */
export type Durability = 'every-commit' | 'before-apply' | 'never';

export const durabilityOf = (env: NodeJS.ProcessEnv): Durability => {
  const asked = env.SYNCLINE_SQLITE_SYNCHRONOUS?.toUpperCase();
  return asked === 'FULL' ? 'every-commit' : asked === 'NORMAL' ? 'never' : 'before-apply';
};

/** The PRAGMA synchronous a connection runs with under `d`. */
export const synchronousFor = (d: Durability): 'FULL' | 'NORMAL' =>
  d === 'every-commit' ? 'FULL' : 'NORMAL';

/**
 * Only the sync itself leaves the thread. Each step handed to libuv's threads ends with a turn of
 * the engine's thread, which a sync waits for while that thread decides a batch: opened, synced and
 * closed asynchronously, a flush waited three such turns (10–30 ms in a sync of 1,000 changes, where
 * the sync itself takes under a millisecond). Opening and closing take microseconds.
 */
const syncFile = async (path: string): Promise<void> => {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    // No log: the last checkpoint moved everything into the database file, and synced it.
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw e;
  }
  try {
    await new Promise<void>((resolve, reject) => fsync(fd, (e) => (e === null ? resolve() : reject(e))));
  } finally {
    closeSync(fd);
  }
};

/**
 * Syncs the store file's write-ahead log (fsync acts on the file, whichever descriptor asks), and
 * the first time its directory too, so that a log created since the store opened is found after a
 * power cut. Asynchronous: it runs on libuv's threads while the engine goes on deciding. Rejects
 * with the system's error when the disk refuses.
 */
export const logSyncer = (file: string): (() => Promise<void>) => {
  let directorySynced = false;
  return async () => {
    await syncFile(`${file}-wal`);
    if (!directorySynced) {
      await syncFile(dirname(file));
      directorySynced = true;
    }
  };
};

/** The store's flush (EventStore.flush), told of each commit. */
export type Flushing = {
  /** a transaction committed: the next flush has something to sync */
  readonly committed: () => void;
  readonly flush: () => Promise<E.Either<StoreError, void>>;
};

/**
 * Flushes that sync the log with `syncLog` (null: commits are durable already, or never made so).
 * They run one after another: a flush that finds the log synced by the one before it, with nothing
 * committed since, has nothing to do.
 */
export const flushing = (syncLog: (() => Promise<void>) | null): Flushing => {
  let unsynced = false;
  let last: Promise<E.Either<StoreError, void>> = Promise.resolve(E.right(undefined));
  const flush = (): Promise<E.Either<StoreError, void>> =>
    (last = last.then(async (): Promise<E.Either<StoreError, void>> => {
      if (!unsynced || syncLog === null) return E.right(undefined);
      unsynced = false;
      try {
        await syncLog();
        return E.right(undefined);
      } catch (error) {
        unsynced = true;
        const reason = error instanceof Error ? error.message : String(error);
        return E.left({
          _tag: 'StoreUnavailable',
          message: `the SQLite store could not be synced to disk: ${reason}`,
        });
      }
    }));
  return {
    committed: () => {
      unsynced = syncLog !== null;
    },
    flush,
  };
};
