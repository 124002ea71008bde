// The embedded EventStore: one SQLite file in WAL mode, shared safely by several processes (a CLI
// `sync` and an `ingest`, say), with optimistic concurrency per stream and paged, bounded reads.
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import * as E from 'fp-ts/lib/Either.js';
import type { EventStore } from '../../../engine/ports.js';
import { guardedOn, type Connection } from './connection.js';
import { durabilityOf, flushing, logSyncer, type Durability } from './durability.js';
import { sqliteIntegrity } from './integrity.js';
import { sqliteNamedCheckpoints } from './namedCheckpoints.js';
import { sqliteReads } from './reading.js';
import { prepareSchema, statementsOn, type SchemaRefusal } from './schema.js';
import { DEFAULT_CHECKPOINT_BYTES, offThreadCheckpoints, type Checkpoints } from './walCheckpoints.js';
import { busyAs, DEFAULT_WAIT_MS, TRY_MS, waitForLockNow, type Waiting } from './writeLock.js';
import { sqliteWrites } from './writing.js';
import { closeKeepingLog, KEPT_LOG_BYTES } from '../../walMode.js';

export type SqliteStoreOptions = {
  /**
   * Whether a new store may be made: in a file that does not exist, or that is empty (default
   * true). Commands that only read pass false, and a file that is not a store is refused.
   */
  readonly create?: boolean;
  /**
   * How long a writer waits for another process's write lock before giving up (StoreUnavailable
   * saying another process is writing); default DEFAULT_WAIT_MS, see writeLock.ts.
   */
  readonly busyTimeoutMs?: number;
  /** Told once when a writer has waited a few seconds for another process's write lock. */
  readonly onWaiting?: () => void;
  /** How often a subscription looks for events appended by this or another process. */
  readonly pollIntervalMs?: number;
  /** Event data appended between two background checkpoints of the write-ahead log (walCheckpoints.ts). */
  readonly walCheckpointBytes?: number;
  /** Called when a background checkpoint of the write-ahead log has finished: for tests and metrics. */
  readonly onWalCheckpoint?: () => void;
  /** When commits reach the disk (see durability.ts); by default SYNCLINE_SQLITE_SYNCHRONOUS's. */
  readonly durability?: Durability;
};

export type SqliteOpenError = SchemaRefusal;

/** The store over an open connection: its reads, writes, named checkpoints and flushes. */
const storeOver = (
  db: Database.Database,
  pollIntervalMs: number,
  checkpoints: Checkpoints | null,
  syncLog: (() => Promise<void>) | null,
  waiting: Waiting,
): EventStore => {
  const { committed, flush } = flushing(syncLog);
  const c: Connection = {
    db,
    statements: statementsOn(db),
    waiting,
    committed,
    appended: (bytes) => checkpoints?.appended(bytes),
    flush,
  };
  const guarded = guardedOn(db);
  let closed: Promise<void> | null = null;
  return {
    ...sqliteWrites(c),
    ...sqliteReads(c, pollIntervalMs),
    ...sqliteNamedCheckpoints(c),
    flush: () => flush,
    checkIntegrity: sqliteIntegrity(db, guarded),
    // The checkpointer's connection closes first, so that this one, closing last, decides what
    // becomes of the log: left for the next process while it is small (see closeKeepingLog), else
    // checkpointed and removed, as SQLite does for the last connection to a file.
    close: () =>
      (closed ??= (async () => {
        // Whatever this answers, closing goes on: a log left is as durable as its commits, and
        // SQLite's own last checkpoint syncs what it copies.
        await flush();
        await checkpoints?.close();
        if (db.open) closeKeepingLog(db, KEPT_LOG_BYTES);
      })()),
  };
};

/** Opens (creating it and its directory if missing) the store at `path`, relative to the cwd. */
export const openSqliteStore = (
  path: string,
  options: SqliteStoreOptions = {},
): E.Either<SqliteOpenError, EventStore> => {
  // SQLite's names for a private in-memory database: resolving them would make a file of that name.
  const inMemory = path === ':memory:' || path === '';
  const file = inMemory ? path : resolve(path);
  let db: Database.Database | undefined;
  try {
    if (!inMemory) mkdirSync(dirname(file), { recursive: true });
    const waiting: Waiting = {
      path: file,
      waitMs: options.busyTimeoutMs ?? DEFAULT_WAIT_MS,
      ...(options.onWaiting === undefined ? {} : { onWaiting: options.onWaiting }),
    };
    db = new Database(file, { timeout: Math.min(TRY_MS, waiting.waitMs) });
    const durability = options.durability ?? durabilityOf(process.env);
    const prepared = prepareSchema(
      db,
      file,
      options.create ?? true,
      (transaction) => waitForLockNow(() => busyAs(transaction), waiting),
      durability,
    );
    if (E.isLeft(prepared)) {
      db.close();
      return prepared;
    }
    const checkpoints = inMemory
      ? null
      : offThreadCheckpoints(
          db,
          file,
          options.walCheckpointBytes ?? DEFAULT_CHECKPOINT_BYTES,
          options.onWalCheckpoint,
        );
    const syncLog = inMemory || durability !== 'before-apply' ? null : logSyncer(file);
    return E.right(storeOver(db, options.pollIntervalMs ?? 100, checkpoints, syncLog, waiting));
  } catch (error) {
    // Opening touches only the file system and the file, so any failure here is the environment's.
    if (db?.open === true) db.close();
    if (error instanceof Database.SqliteError && error.code === 'SQLITE_NOTADB')
      return E.left({
        _tag: 'StoreUnavailable',
        message: `${file} is not a syncline store: it is not a SQLite database`,
      });
    const reason = error instanceof Error ? error.message : String(error);
    return E.left({
      _tag: 'StoreUnavailable',
      message: `cannot open the SQLite store at ${file}: ${reason}`,
    });
  }
};
