// Rules every EventStore adapter shares: how an expected revision is judged, and the paged pull
// loops behind readAll, readStream and subscribe, so memory and SQLite cannot drift apart.
import type { ExpectedRevision, StoreError, StoredEvent } from '../../engine/ports.js';

/**
 * Fetches at most `limit` rows starting just past `cursor` (the adapter decides what a cursor is and
 * what a row is: an event, or what its storage holds of one). Embedded stores answer synchronously;
 * a server store's fetch can return a promise.
 */
export type FetchPage<R = StoredEvent> = (
  cursor: number,
  limit: number,
) => readonly R[] | Promise<readonly R[]>;

/**
 * How a paged read turns an adapter's rows into events, and how many bytes of event data a row
 * holds. A row is turned into its event only when that event is handed on, so a page holds its rows'
 * text and never all of its events at once.
 */
export type Rows<R> = {
  readonly event: (row: R) => StoredEvent;
  readonly bytes: (row: R) => number;
  /** the position of the event a row holds: readAll and subscribe go on from there */
  readonly position: (row: R) => number;
};

/** Rows that are events already (the memory store's): nothing to turn, nothing to count. */
const EVENTS: Rows<StoredEvent> = { event: (e) => e, bytes: () => 0, position: (e) => e.position };

export const DEFAULT_BATCH_SIZE = 1000;

/**
 * About how many bytes of event data one page holds, once a page has shown how large its events
 * are. A run records each batch of decisions as an event of about 180 KiB, and a page of a thousand
 * of them, parsed at once, held them all: a process catching up with a store holding one first sync
 * of 1,000,000 profiles (`syncline status`, or any command) peaked at 1.76 GB resident, against 1.10
 * GB with lazy parsing and pages cut at this size, in about the same time (31.6–36.1 s against
 * 31.8–35.0 s, two runs of each of two commands); at 100,000 profiles, 320 MB against 257 MB.
 */
export const PAGE_BYTES = 4 * 1024 * 1024;

/**
 * The next page's limit: as many rows as the last page's would fill PAGE_BYTES with, at least one,
 * and at most twice the last limit and the batch size, so small events still come a thousand at a
 * time and a change in size is followed within a few pages.
 */
const nextLimit = (limit: number, bytes: number, batchSize: number): number =>
  Math.max(1, Math.min(batchSize, 2 * limit, Math.floor((limit * PAGE_BYTES) / Math.max(bytes, 1))));

/** The refusal for a write whose expectation does not hold, or undefined if it may proceed. */
export const expectationFailure = (
  stream: string,
  expected: ExpectedRevision,
  actual: number,
): StoreError | undefined => {
  const holds =
    expected === 'any' ||
    ((expected === 'no-stream' || expected === -1) && actual === -1) ||
    (typeof expected === 'number' && expected === actual);
  return holds
    ? undefined
    : { _tag: 'WrongExpectedRevision', stream, expected, actual: actual === -1 ? 'no-stream' : actual };
};

const assertBatchSize = (batchSize: number): void => {
  // A zero or fractional page size would loop forever or skip events: a caller bug, not a store failure.
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new RangeError(`batchSize must be a positive integer, got ${batchSize}`);
  }
};

/**
 * Pulls page after page until a page shorter than asked for says the end is reached. Only one page
 * is held at a time, and a page of large events is cut to about PAGE_BYTES, so reading a large
 * store stays within bounded memory and a slow consumer slows the reads.
 */
export async function* paged<R = StoredEvent>(
  fetch: FetchPage<R>,
  start: number,
  batchSize: number,
  next: (last: R) => number,
  rows: Rows<R> = EVENTS as unknown as Rows<R>,
): AsyncGenerator<StoredEvent, void, undefined> {
  assertBatchSize(batchSize);
  let cursor = start;
  let limit = batchSize;
  for (;;) {
    const page = await fetch(cursor, limit);
    let bytes = 0;
    for (const row of page) {
      bytes += rows.bytes(row);
      yield rows.event(row);
    }
    const last = page[page.length - 1];
    if (last === undefined || page.length < limit) return;
    cursor = next(last);
    limit = nextLimit(limit, bytes, batchSize);
  }
}

/**
 * readAll over an adapter's two position-cursor fetches: every event after `afterPosition`, or, with
 * `leaveOut`, those of streams whose name does not start with it.
 */
export const readingAll =
  <R = StoredEvent>(
    fetchAfter: FetchPage<R>,
    fetchAfterLeavingOut: (prefix: string) => FetchPage<R>,
    rows: Rows<R> = EVENTS as unknown as Rows<R>,
  ) =>
  (afterPosition = 0, batchSize = DEFAULT_BATCH_SIZE, leaveOut?: string): AsyncIterable<StoredEvent> =>
    paged(
      leaveOut === undefined ? fetchAfter : fetchAfterLeavingOut(leaveOut),
      Math.max(0, afterPosition),
      batchSize,
      rows.position,
      rows,
    );

/** How an adapter waits for events past `position`; it must resolve promptly once `signal` aborts. */
export type WaitForMore = (position: number, signal: AbortSignal) => Promise<void>;

/**
 * Catches up from `afterPosition`, then waits for more until `signal` aborts or the store closes,
 * and then simply returns, so `for await` loops end without an exception.
 */
export async function* subscription<R = StoredEvent>(
  fetchAfter: FetchPage<R>,
  afterPosition: number,
  signal: AbortSignal,
  waitForMore: WaitForMore,
  isOpen: () => boolean,
  rows: Rows<R> = EVENTS as unknown as Rows<R>,
): AsyncGenerator<StoredEvent, void, undefined> {
  let position = afterPosition;
  while (!signal.aborted && isOpen()) {
    // Up to the end as it is now, in pages as readAll takes them; then wait for more.
    for await (const event of paged(fetchAfter, position, DEFAULT_BATCH_SIZE, rows.position, rows)) {
      // The consumer may abort while handling an event; it must not be handed another one.
      if (signal.aborted) return;
      position = event.position;
      yield event;
    }
    await waitForMore(position, signal);
  }
}

/** Resolves after `ms`, or as soon as `signal` aborts, leaving no timer or listener behind. */
export const abortableDelay = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
