// Reading the SQLite store: events a page at a time by position, stream or tag, events by id, and a
// subscription that polls for what any process appends. A row's data is parsed only when handed on.
import type { EventStore, StoredEvent } from '../../../engine/ports.js';
import { abortableDelay } from '../common.js';
import { eventOfRow, pagedReads, type EventRow } from '../eventRows.js';
import { readingOn, type Connection } from './connection.js';

/**
 * Ids or streams per lookup query. They travel as one JSON parameter (json_each), so SQLite's limit
 * on bound variables never applies; the chunk only bounds the size of each query's text.
 */
export const CHUNK = 10_000;

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
  const after = reading(
    (position: number, limit: number): readonly EventRow<number>[] =>
      statements.readAll.all(position, limit) as EventRow<number>[],
  );
  return {
    ...pagedReads(
      {
        after,
        afterLeavingOut: (prefix) =>
          reading(
            (position: number, limit: number): readonly EventRow<number>[] =>
              statements.readAllLeavingOut.all(position, prefix, prefix, limit) as EventRow<number>[],
          ),
        stream: (stream) =>
          reading(
            (from: number, limit: number) =>
              statements.readStream.all(stream, from, limit) as EventRow<number>[],
          ),
        tagged: (tag) =>
          reading(
            (after: number, limit: number) =>
              statements.readTagged.all(tag, after, limit) as EventRow<number>[],
          ),
      },
      // Polling, because appends from other processes send no notification.
      (_position, aborted) => abortableDelay(pollIntervalMs, aborted),
      () => db.open,
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
            for (const row of statements.readByIds.all(chunk) as EventRow<number>[])
              found.set(row[3], eventOfRow(row));
          }
          return found;
        }),
      ),
  };
};
