// An EventStore held in process memory: for tests, demos and embedding where nothing must outlive
// the process. It follows the same contract as the SQLite store, down to JSON-only event data.
import { randomUUID } from 'node:crypto';
import * as E from 'fp-ts/lib/Either.js';
import { StoreReadFailed } from '../../engine/ports.js';
import type { AppendResult, EventStore, StoreError, StoredEvent, StreamWrite } from '../../engine/ports.js';
import { DEFAULT_BATCH_SIZE, expectationFailure, paged, readingAll, subscription } from './common.js';

const closedError: StoreError = { _tag: 'StoreUnavailable', message: 'the memory store is closed' };

/**
 * Data goes through JSON as it would through SQLite, so a test passing against memory does not
 * rely on Dates, undefined fields or shared mutable objects surviving a store.
 */
const asStored = (data: unknown): unknown => JSON.parse(JSON.stringify(data) ?? 'null') as unknown;

/** Everything the store holds, shared by its parts. */
type Held = {
  /** position p lives at index p - 1 */
  readonly log: StoredEvent[];
  readonly streams: Map<string, StoredEvent[]>;
  /** every stored event by its id */
  readonly ids: Map<string, StoredEvent>;
  readonly tagged: Map<string, StoredEvent[]>;
  readonly checkpoints: Map<string, number>;
  /** subscribers waiting for an append */
  readonly waiters: Set<() => void>;
  open: boolean;
};

export const openMemoryEventStore = (): EventStore => {
  const h: Held = {
    log: [],
    streams: new Map(),
    ids: new Map(),
    tagged: new Map(),
    checkpoints: new Map(),
    waiters: new Set(),
    open: true,
  };
  return {
    ...writes(h),
    ...reads(h),
    getCheckpoint: (name) => Promise.resolve().then(readingOf(h)(() => h.checkpoints.get(name) ?? null)),
    setCheckpoint: (name, expected, value) => () => {
      if (!h.open) return Promise.resolve(E.left(closedError));
      const actual = h.checkpoints.get(name) ?? null;
      if (actual !== expected) {
        return Promise.resolve(E.left<StoreError>({ _tag: 'CheckpointConflict', name, expected, actual }));
      }
      h.checkpoints.set(name, value);
      return Promise.resolve(E.right(undefined));
    },
    // Nothing outlives the process: there is no disk to make anything durable on.
    flush: () => () => Promise.resolve(h.open ? E.right(undefined) : E.left(closedError)),
    // Nothing under it but the process's own memory: what was stored is what is read.
    checkIntegrity: () => () =>
      Promise.resolve(
        h.open ? E.right({ check: 'none needed (held in memory)', findings: [] }) : E.left(closedError),
      ),
    close: () => {
      h.open = false;
      wakeSubscribers(h);
      return Promise.resolve();
    },
  };
};

const wakeSubscribers = (h: Held): void => {
  for (const wake of [...h.waiters]) wake();
};

const revisionOf = (h: Held, stream: string): number => (h.streams.get(stream)?.length ?? 0) - 1;

/** An append planned: the events it stores, and the tags of those that have any. */
type Planned = AppendResult & { readonly tags: Map<StoredEvent, readonly string[]> };

/** Plans the whole append first, so a refusal anywhere leaves the store untouched. */
const plan = (h: Held, writes: readonly StreamWrite[]): E.Either<StoreError, Planned> => {
  const recordedAt = new Date().toISOString();
  const revisions = new Map<string, number>();
  const appended: StoredEvent[] = [];
  const tags = new Map<StoredEvent, readonly string[]>();
  const seen = new Set<string>();
  for (const write of writes) {
    const actual = revisions.get(write.stream) ?? revisionOf(h, write.stream);
    const refusal = expectationFailure(write.stream, write.expected, actual);
    if (refusal !== undefined) return E.left(refusal);
    let revision = actual;
    for (const event of write.events) {
      const id = event.id ?? randomUUID();
      if (h.ids.has(id) || seen.has(id)) continue;
      seen.add(id);
      revision += 1;
      const stored: StoredEvent = {
        position: h.log.length + appended.length + 1,
        stream: write.stream,
        revision,
        id,
        type: event.type,
        data: asStored(event.data),
        occurredAt: event.occurredAt ?? recordedAt,
        recordedAt,
      };
      appended.push(stored);
      if (event.tags !== undefined) tags.set(stored, event.tags);
    }
    revisions.set(write.stream, revision);
  }
  // A Map until here: stream names are user data, and one called "__proto__" must stay a key.
  return E.right({ appended, revisions: Object.fromEntries(revisions), tags });
};

const commit = (h: Held, { appended, tags }: Planned): void => {
  for (const event of appended) {
    h.log.push(event);
    h.ids.set(event.id, event);
    const stream = h.streams.get(event.stream);
    if (stream === undefined) h.streams.set(event.stream, [event]);
    else stream.push(event);
    for (const tag of new Set(tags.get(event) ?? [])) {
      const list = h.tagged.get(tag);
      if (list === undefined) h.tagged.set(tag, [event]);
      else list.push(event);
    }
  }
  if (appended.length > 0) wakeSubscribers(h);
};

const writes = (h: Held): Pick<EventStore, 'append' | 'appendAll'> => ({
  // Memory holds everything anyway: gather the batches, then plan and commit them as one append.
  appendAll: (batches, withdraw) => async () => {
    const all: StreamWrite[] = [];
    for await (const batch of batches) all.push(...batch);
    if (!h.open) return E.left(closedError);
    const reason = withdraw?.();
    if (reason !== undefined) return E.left({ _tag: 'Withdrawn', message: reason });
    const planned = plan(h, all);
    if (E.isLeft(planned)) return planned;
    commit(h, planned.right);
    return E.right({ appended: planned.right.appended.length });
  },
  append: (writes) => () => {
    if (!h.open) return Promise.resolve(E.left(closedError));
    const planned = plan(h, writes);
    if (E.isLeft(planned)) return Promise.resolve(planned);
    commit(h, planned.right);
    const { appended, revisions } = planned.right;
    return Promise.resolve(E.right({ appended, revisions }));
  },
});

type Reads = Pick<
  EventStore,
  'readStream' | 'readTagged' | 'readAll' | 'subscribe' | 'streamRevision' | 'head' | 'knownIds' | 'readByIds'
>;

/** A read of the store, ended as the port says (StoreReadFailed) once the store is closed, as SQLite's. */
const readingOf =
  (h: Held) =>
  <A extends unknown[], R>(read: (...args: A) => R) =>
  (...args: A): R => {
    if (!h.open) throw new StoreReadFailed(closedError);
    return read(...args);
  };

const reads = (h: Held): Reads => {
  const reading = readingOf(h);
  // A subscription ends quietly when the store closes (see subscription): it reads unguarded.
  const pageAfter = (position: number, limit: number): readonly StoredEvent[] =>
    h.log.slice(position, position + limit);
  const fetchAfter = reading(pageAfter);
  const fetchAfterLeavingOut = (prefix: string) =>
    reading((position: number, limit: number): readonly StoredEvent[] => {
      const page: StoredEvent[] = [];
      for (let i = position; i < h.log.length && page.length < limit; i++) {
        const e = h.log[i] as StoredEvent;
        if (!e.stream.startsWith(prefix)) page.push(e);
      }
      return page;
    });
  return {
    readTagged: (tag) =>
      paged(
        reading((after: number, limit: number) =>
          (h.tagged.get(tag) ?? []).filter((e) => e.position > after).slice(0, limit),
        ),
        0,
        DEFAULT_BATCH_SIZE,
        (last) => last.position,
      ),
    readStream: (stream, fromRevision = 0) =>
      paged(
        reading((from: number, limit: number) => h.streams.get(stream)?.slice(from, from + limit) ?? []),
        Math.max(0, fromRevision),
        DEFAULT_BATCH_SIZE,
        (last) => last.revision + 1,
      ),
    readAll: readingAll(fetchAfter, fetchAfterLeavingOut),
    subscribe: (afterPosition, signal) =>
      subscription(pageAfter, Math.max(0, afterPosition), signal, waitForMore(h), () => h.open),
    // Answered in a promise, so that a closed store's StoreReadFailed is its rejection, never a throw.
    streamRevision: (stream) => Promise.resolve(stream).then(reading((s: string) => revisionOf(h, s))),
    head: () => Promise.resolve().then(reading(() => h.log.length)),
    knownIds: (candidates) =>
      Promise.resolve().then(reading(() => new Set(candidates.filter((id) => h.ids.has(id))))),
    readByIds: (candidates) =>
      Promise.resolve().then(
        reading(() => {
          const found = new Map<string, StoredEvent>();
          for (const id of candidates) {
            const event = h.ids.get(id);
            if (event !== undefined) found.set(id, event);
          }
          return found;
        }),
      ),
  };
};

const waitForMore =
  (h: Held) =>
  (position: number, signal: AbortSignal): Promise<void> =>
    // An append may have landed while the subscriber was busy; only sleep if there is nothing new.
    h.log.length > position || signal.aborted || !h.open
      ? Promise.resolve()
      : new Promise((resolve) => {
          const wake = (): void => {
            h.waiters.delete(wake);
            signal.removeEventListener('abort', wake);
            resolve();
          };
          h.waiters.add(wake);
          signal.addEventListener('abort', wake, { once: true });
        });
