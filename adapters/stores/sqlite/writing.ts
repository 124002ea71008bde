// Appending to the SQLite store: under the write lock, every stream's expected revision checked against
// its head inside the transaction, each event's JSON, tags and id inserted in as few statements as possible.
import { randomUUID } from 'node:crypto';
import * as E from 'fp-ts/lib/Either.js';
import type { TaskEither } from 'fp-ts/lib/TaskEither.js';
import type {
  AppendResult,
  EventStore,
  StoreError,
  StoredEvent,
  StreamWrite,
} from '../../../engine/ports.js';
import { expectationFailure } from '../common.js';
import { CLOSED, guardedWaiting, unavailable, type Connection } from './connection.js';
import { jsonPieces } from './jsonPieces.js';
import { CHUNK } from './reading.js';
import { insertsInPieces, MAX_PIECES } from './schema.js';
import { BUSY, busyAs, waitForLock } from './writeLock.js';

/**
 * From this many tags on, an event's tags go in as one statement over their JSON: a recorded batch
 * tags every profile it decided for, and one statement for 500 tags takes half the time of 500.
 */
const MANY_TAGS = 16;

/** The connection, and the insert statements for events cut in several pieces, by piece count. */
type Writing = Connection & { readonly insertInPieces: ReturnType<typeof insertsInPieces> };

export const sqliteWrites = (c: Connection): Pick<EventStore, 'append' | 'appendAll'> => {
  const w: Writing = { ...c, insertInPieces: insertsInPieces(c.db) };
  return {
    append: (writes) => append(w, writes),
    appendAll: (batches, withdraw) => appendAll(w, batches, withdraw),
  };
};

const append = (w: Writing, writes: readonly StreamWrite[]): TaskEither<StoreError, AppendResult> =>
  guardedWaiting(w.db, async () =>
    E.map(({ appended, revisions, bytes }: AppendResult & { readonly bytes: number }) => {
      w.appended(bytes);
      return { appended, revisions };
    })(await inWriteTransaction(w, () => appendWithin(w, writes))),
  );

/**
 * BEGIN IMMEDIATE takes the write lock before the expected revisions are read, so no other
 * process can move a stream between the check and the insert, and a writer waits for the lock
 * (see writeLock.ts; a deferred transaction upgrading its lock would fail at once instead). The
 * work runs in the turn the lock was taken in.
 */
const inWriteTransaction = async <A>(
  w: Writing,
  work: () => E.Either<StoreError, A>,
): Promise<E.Either<StoreError, A>> =>
  E.flatten(
    await waitForLock(
      () => (busyAs(() => w.statements.begin.run()) === BUSY ? BUSY : afterBegin(w, work)),
      w.waiting,
    ),
  );

const afterBegin = <A>(w: Writing, work: () => E.Either<StoreError, A>): E.Either<StoreError, A> => {
  try {
    const result = work();
    (E.isRight(result) ? w.statements.commit : w.statements.rollback).run();
    if (E.isRight(result)) w.committed();
    return result;
  } catch (error) {
    if (w.db.inTransaction) w.statements.rollback.run();
    throw error;
  }
};

/** Every written stream's head in a few queries: one query per write would dominate many-stream ingests. */
const headsOf = (w: Writing, writes: readonly StreamWrite[]): Map<string, number> => {
  const streams = [...new Set(writes.map((write) => write.stream))];
  const heads = new Map<string, number>();
  for (let start = 0; start < streams.length; start += CHUNK) {
    const rows = w.statements.streamRevisions.all(JSON.stringify(streams.slice(start, start + CHUNK)));
    for (const { stream, revision } of rows as { stream: string; revision: number | null }[]) {
      heads.set(stream, revision ?? -1);
    }
  }
  return heads;
};

/** The writes, inside a transaction already begun: the events stored, or the first refusal. */
const appendWithin = (
  w: Writing,
  writes: readonly StreamWrite[],
  collect = true,
): E.Either<StoreError, AppendResult & { readonly stored: number; readonly bytes: number }> => {
  const { statements, insertInPieces } = w;
  const recordedAt = new Date().toISOString();
  // Heads as of the start, advanced as writes land, so a stream written twice is checked in order.
  const revisions = headsOf(w, writes);
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

/*
 * One transaction held across awaits while the batches arrive: other processes wait for the write
 * lock (see writeLock.ts), and a refusal or an exception from the source rolls back all of it.
 */
const appendAll =
  (
    w: Writing,
    batches: AsyncIterable<readonly StreamWrite[]>,
    withdraw?: () => string | undefined,
  ): TaskEither<StoreError, { appended: number }> =>
  async () => {
    const { db, statements } = w;
    if (!db.open) return E.left(CLOSED);
    try {
      const begun = await waitForLock(() => busyAs(() => statements.begin.run()), w.waiting);
      if (E.isLeft(begun)) return begun;
    } catch (error) {
      return E.left(unavailable(error));
    }
    let appended = 0;
    let bytes = 0;
    try {
      for await (const batch of batches) {
        const result = appendWithin(w, batch, false);
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
      w.committed();
      w.appended(bytes);
      // An ingest is acknowledged to whoever gave it only once it would survive a power cut. The
      // events are committed whatever this answers; a failure says they may not be on disk.
      const synced = await w.flush();
      return E.isLeft(synced) ? synced : E.right({ appended });
    } catch (error) {
      if (db.inTransaction) statements.rollback.run();
      return E.left(unavailable(error));
    }
  };
