// The events table as the SQL stores (SQLite and PostgreSQL) read it: one row shape, turned into an
// event only when handed on, and the paged reads over its queries, so the two stores cannot drift apart.
import type { EventStore, StoredEvent } from '../../engine/ports.js';
import { StoreReadFailed } from '../../engine/ports.js';
import {
  DEFAULT_BATCH_SIZE,
  paged,
  readingAll,
  subscription,
  type FetchPage,
  type Rows,
  type WaitForMore,
} from './common.js';

/**
 * A stored event as a query returns it: an array in this order, its data still JSON text. The
 * position is as the driver hands it over: SQLite's integer as a number, PostgreSQL's bigint as text.
 */
export type EventRow<Position extends number | string = number | string> = readonly [
  position: Position,
  stream: string,
  revision: number,
  id: string,
  type: string,
  data: string,
  occurredAt: string,
  recordedAt: string,
];

/** An event's data as stored; text that is not JSON (written past syncline, or damaged) ends the read. */
const parsedAt = (position: number | string, data: string): unknown => {
  try {
    return JSON.parse(data) as unknown;
  } catch {
    throw new StoreReadFailed({
      _tag: 'StoreUnavailable',
      message: `the store's event at position ${position} does not hold JSON data: the store is damaged`,
    });
  }
};

export const eventOfRow = ([
  position,
  stream,
  revision,
  id,
  type,
  data,
  occurredAt,
  recordedAt,
]: EventRow): StoredEvent => ({
  position: Number(position),
  stream,
  revision,
  id,
  type,
  data: parsedAt(position, data),
  occurredAt,
  recordedAt,
});

/** A row's data is parsed when its event is handed on, not when its page is read (see PAGE_BYTES). */
const ROWS: Rows<EventRow> = {
  event: eventOfRow,
  bytes: (row) => row[5].length,
  position: (row) => Number(row[0]),
};

/** The queries a store's paged reads fetch their pages with, each returning EventRows. */
export type EventQueries = {
  /** events past a position, in position order */
  readonly after: FetchPage<EventRow>;
  /** the same, without the events of streams whose name starts with `prefix` */
  readonly afterLeavingOut: (prefix: string) => FetchPage<EventRow>;
  /** a stream's events from a revision on, in revision order */
  readonly stream: (stream: string) => FetchPage<EventRow>;
  /** the events holding a tag past a position, in position order */
  readonly tagged: (tag: string) => FetchPage<EventRow>;
};

/**
 * readStream, readTagged, readAll and subscribe over a store's queries; a subscription waits for
 * more with `waitForMore` once caught up, and ends when `isOpen` no longer holds.
 */
export const pagedReads = (
  queries: EventQueries,
  waitForMore: WaitForMore,
  isOpen: () => boolean,
): Pick<EventStore, 'readStream' | 'readTagged' | 'readAll' | 'subscribe'> => ({
  readStream: (stream, fromRevision = 0) =>
    paged(
      queries.stream(stream),
      Math.max(0, fromRevision),
      DEFAULT_BATCH_SIZE,
      ([, , revision]) => revision + 1,
      ROWS,
    ),
  readTagged: (tag) => paged(queries.tagged(tag), 0, DEFAULT_BATCH_SIZE, ROWS.position, ROWS),
  readAll: readingAll(queries.after, queries.afterLeavingOut, ROWS),
  subscribe: (afterPosition, signal) =>
    subscription(queries.after, Math.max(0, afterPosition), signal, waitForMore, isOpen, ROWS),
});
