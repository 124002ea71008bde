// Rules every EventStore adapter shares: how an expected revision is judged, and the paged pull
// loops behind readAll, readStream and subscribe, so memory and SQLite cannot drift apart.
import type { ExpectedRevision, StoreError, StoredEvent } from '../../engine/ports.js';

/**
 * Fetches at most `limit` events starting just past `cursor` (the adapter decides what a cursor is).
 * Embedded stores answer synchronously; a server store's fetch can return a promise.
 */
export type FetchPage = (
  cursor: number,
  limit: number,
) => readonly StoredEvent[] | Promise<readonly StoredEvent[]>;

export const DEFAULT_BATCH_SIZE = 1000;

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
 * Pulls page after page until a short page says the end is reached. Only one page is held at a
 * time, so reading a large store stays within bounded memory and a slow consumer slows the reads.
 */
export async function* paged(
  fetch: FetchPage,
  start: number,
  batchSize: number,
  next: (last: StoredEvent) => number,
): AsyncGenerator<StoredEvent, void, undefined> {
  assertBatchSize(batchSize);
  let cursor = start;
  for (;;) {
    const page = await fetch(cursor, batchSize);
    for (const event of page) yield event;
    const last = page[page.length - 1];
    if (last === undefined || page.length < batchSize) return;
    cursor = next(last);
  }
}

/**
 * readAll over an adapter's two position-cursor fetches: every event after `afterPosition`, or, with
 * `leaveOut`, those of streams whose name does not start with it.
 */
export const readingAll =
  (fetchAfter: FetchPage, fetchAfterLeavingOut: (prefix: string) => FetchPage) =>
  (afterPosition = 0, batchSize = DEFAULT_BATCH_SIZE, leaveOut?: string): AsyncIterable<StoredEvent> =>
    paged(
      leaveOut === undefined ? fetchAfter : fetchAfterLeavingOut(leaveOut),
      Math.max(0, afterPosition),
      batchSize,
      (last) => last.position,
    );

/** How an adapter waits for events past `position`; it must resolve promptly once `signal` aborts. */
export type WaitForMore = (position: number, signal: AbortSignal) => Promise<void>;

/**
 * Catches up from `afterPosition`, then waits for more until `signal` aborts or the store closes,
 * and then simply returns, so `for await` loops end without an exception.
 */
export async function* subscription(
  fetchAfter: FetchPage,
  afterPosition: number,
  signal: AbortSignal,
  waitForMore: WaitForMore,
  isOpen: () => boolean,
): AsyncGenerator<StoredEvent, void, undefined> {
  let position = afterPosition;
  while (!signal.aborted && isOpen()) {
    const page = await fetchAfter(position, DEFAULT_BATCH_SIZE);
    for (const event of page) {
      // The consumer may abort while handling an event; it must not be handed another one.
      if (signal.aborted) return;
      position = event.position;
      yield event;
    }
    if (page.length < DEFAULT_BATCH_SIZE) await waitForMore(position, signal);
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
