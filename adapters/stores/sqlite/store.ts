// The embedded EventStore: one SQLite file in WAL mode, shared safely by several processes (a CLI
// `sync` and an `ingest`, say), with optimistic concurrency per stream and paged, bounded reads.
import { mkdirSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import * as E from 'fp-ts/lib/Either.js';
import type { TaskEither } from 'fp-ts/lib/TaskEither.js';
import {
  StoreReadFailed,
  type AppendResult,
  type EventStore,
  type StoreError,
  type StoredEvent,
  type StreamWrite,
} from '../../../engine/ports.js';
import {
  DEFAULT_BATCH_SIZE,
  abortableDelay,
  expectationFailure,
  paged,
  readingAll,
  subscription,
  type Rows,
} from '../common.js';
import {
  insertsInPieces,
  MAX_PIECES,
  type EventRow,
  prepareSchema,
  statementsOn,
  type SchemaRefusal,
} from './schema.js';
import { jsonPieces } from './jsonPieces.js';
import { sqliteIntegrity } from './integrity.js';
import { sqliteSnapshots } from './snapshots.js';
import { durabilityOf, logSyncer, type Durability } from './durability.js';
import {
  BUSY,
  DEFAULT_WAIT_MS,
  TRY_MS,
  busyAs,
  waitForLock,
  waitForLockNow,
  type Waiting,
} from './writeLock.js';
import { DEFAULT_CHECKPOINT_BYTES, offThreadCheckpoints, type Checkpoints } from './walCheckpoints.js';

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
  /** Event data appended between two background checkpoints (see walCheckpoints.ts). */
  readonly checkpointBytes?: number;
  /** Called when a background checkpoint has finished: for tests and metrics. */
  readonly onCheckpoint?: () => void;
  /** When commits reach the disk (see durability.ts); by default SYNCLINE_SQLITE_SYNCHRONOUS's. */
  readonly durability?: Durability;
};

export type SqliteOpenError = SchemaRefusal;

/**
 * Ids or streams per lookup query. They travel as one JSON parameter (json_each), so SQLite's limit
 * on bound variables never applies; the chunk only bounds the size of each query's text.
 */
const CHUNK = 10_000;

/**
 * From this many tags on, an event's tags go in as one statement over their JSON: a recorded batch
 * tags every profile it decided for, and one statement for 500 tags takes half the time of 500.
 */
const MANY_TAGS = 16;

const toStored = ([
  position,
  stream,
  revision,
  id,
  type,
  data,
  occurredAt,
  recordedAt,
]: EventRow): StoredEvent => ({
  position,
  stream,
  revision,
  id,
  type,
  data: parsedAt(position, data),
  occurredAt,
  recordedAt,
});

/** An event's data as stored; text that is not JSON (written past the store, or damaged) ends the read. */
const parsedAt = (position: number, data: string): unknown => {
  try {
    return JSON.parse(data) as unknown;
  } catch {
    throw new StoreReadFailed({
      _tag: 'StoreUnavailable',
      message: `the store's event at position ${position} does not hold JSON data: the store is damaged (\`syncline status --check\` checks it)`,
    });
  }
};

/** A page of rows, or the store's failure to give it ended as the port says (StoreReadFailed). */
const reading =
  <A extends unknown[], R>(fetch: (...args: A) => R) =>
  (...args: A): R => {
    try {
      return fetch(...args);
    } catch (error) {
      throw new StoreReadFailed(unavailable(error));
    }
  };

/** A row's data is parsed when its event is handed on, not when its page is read (see PAGE_BYTES). */
const ROWS: Rows<EventRow> = { event: toStored, bytes: (row) => row[5].length, position: (row) => row[0] };

/*
 * Failures of the environment (lock held too long, disk full or read-only, file damaged) are part
 * of running a store and become values; anything else SQLite reports (a constraint, a syntax
 * error) means our own code is wrong and stays an exception.
 */
const ENVIRONMENTAL =
  /^SQLITE_(BUSY|LOCKED|IOERR|FULL|READONLY|CANTOPEN|CORRUPT|NOTADB|PROTOCOL|NOMEM|PERM|AUTH|NOLFS)/;

const unavailable = (error: unknown): StoreError => {
  if (error instanceof Database.SqliteError && ENVIRONMENTAL.test(error.code)) {
    return {
      _tag: 'StoreUnavailable',
      message: `SQLite store unavailable (${error.code}): ${error.message}`,
    };
  }
  throw error;
};

/** How long keeping a snapshot waits for another writer's lock, and says nothing about it. */
const SNAPSHOT_WAIT_MS = 5000;

const storeOver = (
  db: Database.Database,
  pollIntervalMs: number,
  checkpoints: Checkpoints | null,
  syncLog: (() => Promise<void>) | null,
  waiting: Waiting,
): EventStore => {
  const statements = statementsOn(db);
  const insertInPieces = insertsInPieces(db);
  let closed: Promise<void> | null = null;

  /*
   * Commits since the log was last synced. Flushes run one after another: a flush that found the log
   * synced by the one before it, with nothing committed since, has nothing to do.
   */
  let unsynced = false;
  let flushing: Promise<E.Either<StoreError, void>> = Promise.resolve(E.right(undefined));
  const committed = (): void => {
    unsynced = syncLog !== null;
  };
  const flush = (): Promise<E.Either<StoreError, void>> =>
    (flushing = flushing.then(async (): Promise<E.Either<StoreError, void>> => {
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

  const revisionOf = (stream: string): number =>
    (statements.streamRevision.get(stream) as number | undefined) ?? -1;

  const checkpointOf = (name: string): number | null =>
    (statements.checkpoint.get(name) as number | undefined) ?? null;

  /**
   * BEGIN IMMEDIATE takes the write lock before the expected revisions are read, so no other
   * process can move a stream between the check and the insert, and a writer waits for the lock
   * (see writeLock.ts; a deferred transaction upgrading its lock would fail at once instead). The
   * work runs in the turn the lock was taken in.
   */
  const inWriteTransaction = async <A>(
    work: () => E.Either<StoreError, A>,
  ): Promise<E.Either<StoreError, A>> =>
    E.flatten(
      await waitForLock(
        () => (busyAs(() => statements.begin.run()) === BUSY ? BUSY : afterBegin(work)),
        waiting,
      ),
    );

  const afterBegin = <A>(work: () => E.Either<StoreError, A>): E.Either<StoreError, A> => {
    try {
      const result = work();
      (E.isRight(result) ? statements.commit : statements.rollback).run();
      if (E.isRight(result)) committed();
      return result;
    } catch (error) {
      if (db.inTransaction) statements.rollback.run();
      throw error;
    }
  };

  /** Every written stream's head in a few queries: one query per write would dominate many-stream ingests. */
  const headsOf = (writes: readonly StreamWrite[]): Map<string, number> => {
    const streams = [...new Set(writes.map((write) => write.stream))];
    const heads = new Map<string, number>();
    for (let start = 0; start < streams.length; start += CHUNK) {
      const rows = statements.streamRevisions.all(JSON.stringify(streams.slice(start, start + CHUNK)));
      for (const { stream, revision } of rows as { stream: string; revision: number | null }[]) {
        heads.set(stream, revision ?? -1);
      }
    }
    return heads;
  };

  const appendWithin = (
    writes: readonly StreamWrite[],
    collect = true,
  ): E.Either<StoreError, AppendResult & { readonly stored: number; readonly bytes: number }> => {
    const recordedAt = new Date().toISOString();
    // Heads as of the start, advanced as writes land, so a stream written twice is checked in order.
    const revisions = headsOf(writes);
    const appended: StoredEvent[] = [];
    let stored = 0;
    let bytes = 0;
    for (const { stream, expected, events } of writes) {
      const actual = revisions.get(stream) ?? -1;
      const refusal = expectationFailure(stream, expected, actual);
      if (refusal !== undefined) return E.left(refusal);
      let revision = actual;
      for (const event of events) {
        const id = event.id ?? randomUUID();
        const occurredAt = event.occurredAt ?? recordedAt;
        // The unique id decides whether the event is new: no lookup before each insert.
        const data = jsonPieces(event.data);
        const pieces = data.length <= MAX_PIECES ? data : [data.join('')];
        const { changes, lastInsertRowid } = (
          pieces.length === 1 ? statements.insert : insertInPieces(pieces.length)
        ).run(stream, revision + 1, id, event.type, ...pieces, occurredAt, recordedAt);
        if (changes === 0) continue;
        for (const piece of pieces) bytes += piece.length;
        revision += 1;
        if (event.tags !== undefined && event.tags.length >= MANY_TAGS)
          statements.tags.run(lastInsertRowid, JSON.stringify(event.tags));
        else if (event.tags !== undefined)
          for (const tag of event.tags) statements.tag.run(tag, lastInsertRowid);
        stored += 1;
        // Ingest of a large file only needs the count; building each StoredEvent would only cost.
        if (!collect) continue;
        // The caller's data is handed back as is: parsing what was just serialised would only cost.
        const position = Number(lastInsertRowid);
        appended.push({
          position,
          stream,
          revision,
          id,
          type: event.type,
          data: event.data,
          occurredAt,
          recordedAt,
        });
      }
      revisions.set(stream, revision);
    }
    // A Map until here: stream names are user data, and one called "__proto__" must stay a key.
    return E.right({ appended, revisions: Object.fromEntries(revisions), stored, bytes });
  };

  /** Like guarded, for work that waits for the write lock. */
  const guardedWaiting =
    <A>(work: () => Promise<E.Either<StoreError, A>>): TaskEither<StoreError, A> =>
    async () => {
      if (!db.open) return E.left({ _tag: 'StoreUnavailable', message: 'the SQLite store is closed' });
      try {
        return await work();
      } catch (error) {
        return E.left(unavailable(error));
      }
    };

  // The work runs inside a promise so that a bug's exception becomes a rejection, never a synchronous throw.
  const guarded =
    <A>(work: () => E.Either<StoreError, A>): TaskEither<StoreError, A> =>
    () =>
      Promise.resolve().then((): E.Either<StoreError, A> => {
        if (!db.open) return E.left({ _tag: 'StoreUnavailable', message: 'the SQLite store is closed' });
        try {
          return work();
        } catch (error) {
          return E.left(unavailable(error));
        }
      });

  /*
   * Why reading by position never skips an event: positions are assigned inside the write
   * transaction, and SQLite admits one writer at a time, so a transaction holding higher positions
   * always commits after every transaction holding lower ones. A page that sees position p
   * therefore sees every position below p; an event cannot later appear behind a reader's cursor.
   */
  const fetchAfter = reading(
    (position: number, limit: number): readonly EventRow[] =>
      statements.readAll.all(position, limit) as EventRow[],
  );

  /** Like fetchAfter, without the rows of streams starting with `prefix` (never decoded). */
  const fetchAfterLeavingOut = (prefix: string) =>
    reading(
      (position: number, limit: number): readonly EventRow[] =>
        statements.readAllLeavingOut.all(position, prefix, prefix, limit) as EventRow[],
    );

  /*
   * One transaction held across awaits while the batches arrive: other processes wait for the write
   * lock (see writeLock.ts), and a refusal or an exception from the source rolls back all of it.
   */
  const appendAll =
    (
      batches: AsyncIterable<readonly StreamWrite[]>,
      withdraw?: () => string | undefined,
    ): TaskEither<StoreError, { appended: number }> =>
    async () => {
      if (!db.open) return E.left({ _tag: 'StoreUnavailable', message: 'the SQLite store is closed' });
      try {
        const begun = await waitForLock(() => busyAs(() => statements.begin.run()), waiting);
        if (E.isLeft(begun)) return begun;
      } catch (error) {
        return E.left(unavailable(error));
      }
      let appended = 0;
      let bytes = 0;
      try {
        for await (const batch of batches) {
          const result = appendWithin(batch, false);
          if (E.isLeft(result)) {
            statements.rollback.run();
            return result;
          }
          appended += result.right.stored;
          bytes += result.right.bytes;
        }
        const reason = withdraw?.();
        if (reason !== undefined) {
          statements.rollback.run();
          return E.left({ _tag: 'Withdrawn', message: reason });
        }
        statements.commit.run();
        committed();
        checkpoints?.appended(bytes);
        // An ingest is acknowledged to whoever gave it only once it would survive a power cut. The
        // events are committed whatever this answers; a failure says they may not be on disk.
        const synced = await flush();
        return E.isLeft(synced) ? synced : E.right({ appended });
      } catch (error) {
        if (db.inTransaction) statements.rollback.run();
        return E.left(unavailable(error));
      }
    };

  return {
    appendAll,
    append: (writes) =>
      guardedWaiting(async () =>
        E.map(({ appended, revisions, bytes }: AppendResult & { readonly bytes: number }) => {
          checkpoints?.appended(bytes);
          return { appended, revisions };
        })(await inWriteTransaction(() => appendWithin(writes))),
      ),
    readStream: (stream, fromRevision = 0) =>
      paged(
        reading(
          (from: number, limit: number) => statements.readStream.all(stream, from, limit) as EventRow[],
        ),
        Math.max(0, fromRevision),
        DEFAULT_BATCH_SIZE,
        ([, , revision]) => revision + 1,
        ROWS,
      ),
    readTagged: (tag) =>
      paged(
        reading((after: number, limit: number) => statements.readTagged.all(tag, after, limit) as EventRow[]),
        0,
        DEFAULT_BATCH_SIZE,
        ROWS.position,
        ROWS,
      ),
    readAll: readingAll(fetchAfter, fetchAfterLeavingOut, ROWS),
    subscribe: (afterPosition, signal) =>
      subscription(
        fetchAfter,
        Math.max(0, afterPosition),
        signal,
        // Polling, because appends from other processes send no notification.
        (_position, aborted) => abortableDelay(pollIntervalMs, aborted),
        () => db.open,
        ROWS,
      ),
    streamRevision: (stream) => Promise.resolve().then(() => revisionOf(stream)),
    head: () => Promise.resolve().then(() => statements.head.get() as number),
    knownIds: (ids) =>
      Promise.resolve().then(() => {
        const known = new Set<string>();
        for (let start = 0; start < ids.length; start += CHUNK) {
          const chunk = JSON.stringify(ids.slice(start, start + CHUNK));
          for (const id of statements.knownIds.all(chunk) as string[]) known.add(id);
        }
        return known;
      }),
    readByIds: (ids) =>
      Promise.resolve().then(() => {
        const found = new Map<string, StoredEvent>();
        for (let start = 0; start < ids.length; start += CHUNK) {
          const chunk = JSON.stringify(ids.slice(start, start + CHUNK));
          for (const row of statements.readByIds.all(chunk) as EventRow[]) found.set(row[3], toStored(row));
        }
        return found;
      }),
    getCheckpoint: (name) => Promise.resolve().then(() => checkpointOf(name)),
    // Each branch is a single statement, so the compare and the set are atomic without a transaction.
    setCheckpoint: (name, expected, value) =>
      guardedWaiting(async () => {
        const set = await waitForLock(
          () =>
            busyAs(
              () =>
                (expected === null
                  ? statements.createCheckpoint.run(name, value)
                  : statements.moveCheckpoint.run(value, name, expected)
                ).changes,
            ),
          waiting,
        );
        return E.flatMap((changes: number) => {
          if (changes === 1) committed();
          return changes === 1
            ? E.right(undefined)
            : E.left<StoreError>({ _tag: 'CheckpointConflict', name, expected, actual: checkpointOf(name) });
        })(set);
      }),
    // A snapshot is only worth keeping: it does not wait long for another writer, the next command keeps one.
    snapshots: sqliteSnapshots(
      db,
      guarded,
      (bytes) => {
        committed();
        checkpoints?.appended(bytes);
      },
      (transaction) =>
        waitForLockNow(() => busyAs(transaction), {
          ...waiting,
          waitMs: Math.min(waiting.waitMs, SNAPSHOT_WAIT_MS),
        }),
    ),
    flush: () => flush,
    checkIntegrity: sqliteIntegrity(db, guarded),
    // The checkpointer's connection closes first, so that this one, closing last, checkpoints what
    // is left and removes the log, as SQLite does for the last connection to a file.
    close: () =>
      (closed ??= (async () => {
        // Whatever this answers, closing goes on: SQLite's own last checkpoint syncs what it copies.
        await flush();
        await checkpoints?.close();
        if (db.open) db.close();
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
          options.checkpointBytes ?? DEFAULT_CHECKPOINT_BYTES,
          options.onCheckpoint,
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
