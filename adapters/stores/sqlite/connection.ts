// The connection the SQLite store's parts share, and how work on it fails: failures of the environment
// (a lock held too long, a full or read-only disk, a damaged file, a closed store) become StoreErrors.
import Database from 'better-sqlite3';
import * as E from 'fp-ts/lib/Either.js';
import type { TaskEither } from 'fp-ts/lib/TaskEither.js';
import { StoreReadFailed, type StoreError } from '../../../engine/ports.js';
import type { statementsOn } from './schema.js';
import type { Waiting } from './writeLock.js';

export type Connection = {
  readonly db: Database.Database;
  readonly statements: ReturnType<typeof statementsOn>;
  /** how a writer waits for another process's write lock (see writeLock.ts) */
  readonly waiting: Waiting;
  /** a transaction committed: the write-ahead log has something to sync (see durability.ts) */
  readonly committed: () => void;
  /** event data committed, counted towards the next checkpoint of the log (see walCheckpoints.ts) */
  readonly appended: (bytes: number) => void;
  /** makes every commit so far durable (see durability.ts) */
  readonly flush: () => Promise<E.Either<StoreError, void>>;
};

/*
 * Failures of the environment are part of running a store and become values; anything else SQLite
 * reports (a constraint, a syntax error) means our own code is wrong and stays an exception.
 */
const ENVIRONMENTAL =
  /^SQLITE_(BUSY|LOCKED|IOERR|FULL|READONLY|CANTOPEN|CORRUPT|NOTADB|PROTOCOL|NOMEM|PERM|AUTH|NOLFS)/;

export const unavailable = (error: unknown): StoreError => {
  if (error instanceof Database.SqliteError && ENVIRONMENTAL.test(error.code)) {
    return {
      _tag: 'StoreUnavailable',
      message: `SQLite store unavailable (${error.code}): ${error.message}`,
    };
  }
  throw error;
};

export const CLOSED: StoreError = { _tag: 'StoreUnavailable', message: 'the SQLite store is closed' };

/** Work on the store as a task: a closed store and the environment's failures are its Left. */
export type Guarded = <A>(work: () => E.Either<StoreError, A>) => TaskEither<StoreError, A>;

// The work runs inside a promise so that a bug's exception becomes a rejection, never a synchronous throw.
export const guardedOn =
  (db: Database.Database): Guarded =>
  <A>(work: () => E.Either<StoreError, A>): TaskEither<StoreError, A> =>
  () =>
    Promise.resolve().then((): E.Either<StoreError, A> => {
      if (!db.open) return E.left(CLOSED);
      try {
        return work();
      } catch (error) {
        return E.left(unavailable(error));
      }
    });

/** Like guardedOn, for work that waits for the write lock. */
export const guardedWaiting =
  <A>(db: Database.Database, work: () => Promise<E.Either<StoreError, A>>): TaskEither<StoreError, A> =>
  async () => {
    if (!db.open) return E.left(CLOSED);
    try {
      return await work();
    } catch (error) {
      return E.left(unavailable(error));
    }
  };

/**
 * A read on `db` (a page of rows, a count), or the store's failure to give it ended as the port says
 * (StoreReadFailed): a closed store, and the environment's failures. Anything else is a bug's throw.
 */
export const readingOn =
  (db: Database.Database) =>
  <A extends unknown[], R>(fetch: (...args: A) => R) =>
  (...args: A): R => {
    if (!db.open) throw new StoreReadFailed(CLOSED);
    try {
      return fetch(...args);
    } catch (error) {
      throw new StoreReadFailed(unavailable(error));
    }
  };
