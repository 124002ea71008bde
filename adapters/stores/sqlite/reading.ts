// Reading the SQLite store: events a page at a time by position, stream or tag, events by id, and a
// subscription that polls for what any process appends. A row's data is parsed only when handed on.
import type { EventStore, StoredEvent } from '../../../engine/ports.js';
import { StoreReadFailed } from '../../../engine/ports.js';
import { DEFAULT_BATCH_SIZE, abortableDelay, paged, readingAll, subscription, type Rows } from '../common.js';
import { readingOn, type Connection } from './connection.js';
import type { EventRow } from './schema.js';

/**
 * Ids or streams per lookup query. They travel as one JSON parameter (json_each), so SQLite's limit
 * on bound variables never applies; the chunk only bounds the size of each query's text.
 */
export const CHUNK = 10_000;

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
      message: `the store's event at position ${position} does not hold JSON data: the store is damaged`,
    });
  }
};

/** A row's data is parsed when its event is handed on, not when its page is read (see PAGE_BYTES). */
const ROWS: Rows<EventRow> = { event: toStored, bytes: (row) => row[5].length, position: (row) => row[0] };

type Reads = Pick<
  EventStore,
  'readStream' | 'readTagged' | 'readAll' | 'subscribe' | 'streamRevision' | 'head' | 'knownIds' | 'readByIds'
>;

export const sqliteReads = ({ db, statements }: Connection, pollIntervalMs: number): Reads => {
  const reading = readingOn(db);
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

  return {
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
    // Run in a promise, so that a failure to read is its rejection (StoreReadFailed), never a throw.
    streamRevision: (stream) =>
      Promise.resolve().then(
        reading(() => (statements.streamRevision.get(stream) as number | undefined) ?? -1),
      ),
    head: () => Promise.resolve().then(reading(() => statements.head.get() as number)),
    knownIds: (ids) =>
      Promise.resolve().then(
        reading(() => {
          const known = new Set<string>();
          for (let start = 0; start < ids.length; start += CHUNK) {
            const chunk = JSON.stringify(ids.slice(start, start + CHUNK));
            for (const id of statements.knownIds.all(chunk) as string[]) known.add(id);
          }
          return known;
        }),
      ),
    readByIds: (ids) =>
      Promise.resolve().then(
        reading(() => {
          const found = new Map<string, StoredEvent>();
          for (let start = 0; start < ids.length; start += CHUNK) {
            const chunk = JSON.stringify(ids.slice(start, start + CHUNK));
            for (const row of statements.readByIds.all(chunk) as EventRow[]) found.set(row[3], toStored(row));
          }
          return found;
        }),
      ),
  };
};
