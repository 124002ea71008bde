// An EventStore held in process memory: for tests, demos and embedding where nothing must outlive
// the process. It follows the same contract as the SQLite store, down to JSON-only event data.
import { randomUUID } from 'node:crypto';
import * as E from 'fp-ts/lib/Either.js';
import type {
  AppendResult,
  EventStore,
  StoreError,
  StoredEvent,
  StoredSnapshot,
  StreamWrite,
} from '../../engine/ports.js';
import { DEFAULT_BATCH_SIZE, expectationFailure, paged, readingAll, subscription } from './common.js';

const closedError: StoreError = { _tag: 'StoreUnavailable', message: 'the memory store is closed' };

/**
 * Data goes through JSON as it would through SQLite, so a test passing against memory does not
 * rely on Dates, undefined fields or shared mutable objects surviving a store.
 */
const asStored = (data: unknown): unknown => JSON.parse(JSON.stringify(data) ?? 'null') as unknown;

export const openMemoryEventStore = (): EventStore => {
  const log: StoredEvent[] = []; // position p lives at index p - 1
  const streams = new Map<string, StoredEvent[]>();
  /** every stored event by its id */
  const ids = new Map<string, StoredEvent>();
  const checkpoints = new Map<string, number>();
  /** format → the newest snapshot of it, its parts copied so the caller's strings are not kept live */
  const snapshots = new Map<number, Omit<StoredSnapshot, 'parts'> & { readonly parts: readonly string[] }>();
  const tagged = new Map<string, StoredEvent[]>();
  /** tags of planned events until they are committed (StoredEvent does not carry them) */
  const pendingTags = new Map<StoredEvent, readonly string[]>();
  const waiters = new Set<() => void>();
  let open = true;

  const wakeSubscribers = (): void => {
    for (const wake of [...waiters]) wake();
  };

  const revisionOf = (stream: string): number => (streams.get(stream)?.length ?? 0) - 1;

  /** Plans the whole append against a snapshot first, so a refusal anywhere leaves the store untouched. */
  const plan = (writes: readonly StreamWrite[]): E.Either<StoreError, AppendResult> => {
    pendingTags.clear();
    const recordedAt = new Date().toISOString();
    const revisions = new Map<string, number>();
    const appended: StoredEvent[] = [];
    const seen = new Set<string>();
    for (const write of writes) {
      const actual = revisions.get(write.stream) ?? revisionOf(write.stream);
      const refusal = expectationFailure(write.stream, write.expected, actual);
      if (refusal !== undefined) return E.left(refusal);
      let revision = actual;
      for (const event of write.events) {
        const id = event.id ?? randomUUID();
        if (ids.has(id) || seen.has(id)) continue;
        seen.add(id);
        revision += 1;
        appended.push({
          position: log.length + appended.length + 1,
          stream: write.stream,
          revision,
          id,
          type: event.type,
          data: asStored(event.data),
          occurredAt: event.occurredAt ?? recordedAt,
          recordedAt,
        });
        if (event.tags !== undefined)
          pendingTags.set(appended[appended.length - 1] as StoredEvent, event.tags);
      }
      revisions.set(write.stream, revision);
    }
    // A Map until here: stream names are user data, and one called "__proto__" must stay a key.
    return E.right({ appended, revisions: Object.fromEntries(revisions) });
  };

  const commit = (appended: readonly StoredEvent[]): void => {
    for (const event of appended) {
      log.push(event);
      ids.set(event.id, event);
      const stream = streams.get(event.stream);
      if (stream === undefined) streams.set(event.stream, [event]);
      else stream.push(event);
      for (const tag of new Set(pendingTags.get(event) ?? [])) {
        const list = tagged.get(tag);
        if (list === undefined) tagged.set(tag, [event]);
        else list.push(event);
      }
      pendingTags.delete(event);
    }
    if (appended.length > 0) wakeSubscribers();
  };

  const fetchAfter = (position: number, limit: number): readonly StoredEvent[] =>
    log.slice(position, position + limit);

  const fetchAfterLeavingOut =
    (prefix: string) =>
    (position: number, limit: number): readonly StoredEvent[] => {
      const page: StoredEvent[] = [];
      for (let i = position; i < log.length && page.length < limit; i++) {
        const e = log[i] as StoredEvent;
        if (!e.stream.startsWith(prefix)) page.push(e);
      }
      return page;
    };

  const waitForMore = (position: number, signal: AbortSignal): Promise<void> =>
    // An append may have landed while the subscriber was busy; only sleep if there is nothing new.
    log.length > position || signal.aborted || !open
      ? Promise.resolve()
      : new Promise((resolve) => {
          const wake = (): void => {
            waiters.delete(wake);
            signal.removeEventListener('abort', wake);
            resolve();
          };
          waiters.add(wake);
          signal.addEventListener('abort', wake, { once: true });
        });

  return {
    // Memory holds everything anyway: gather the batches, then plan and commit them as one append.
    appendAll: (batches, withdraw) => async () => {
      const writes: StreamWrite[] = [];
      for await (const batch of batches) writes.push(...batch);
      if (!open) return E.left(closedError);
      const reason = withdraw?.();
      if (reason !== undefined) return E.left({ _tag: 'Withdrawn', message: reason });
      const result = plan(writes);
      if (E.isLeft(result)) return result;
      commit(result.right.appended);
      return E.right({ appended: result.right.appended.length });
    },
    append: (writes) => () => {
      if (!open) return Promise.resolve(E.left(closedError));
      const result = plan(writes);
      if (E.isRight(result)) commit(result.right.appended);
      return Promise.resolve(result);
    },
    readTagged: (tag) =>
      paged(
        (after, limit) => (tagged.get(tag) ?? []).filter((e) => e.position > after).slice(0, limit),
        0,
        DEFAULT_BATCH_SIZE,
        (last) => last.position,
      ),
    readStream: (stream, fromRevision = 0) =>
      paged(
        (from, limit) => streams.get(stream)?.slice(from, from + limit) ?? [],
        Math.max(0, fromRevision),
        DEFAULT_BATCH_SIZE,
        (last) => last.revision + 1,
      ),
    readAll: readingAll(fetchAfter, fetchAfterLeavingOut),
    subscribe: (afterPosition, signal) =>
      subscription(fetchAfter, Math.max(0, afterPosition), signal, waitForMore, () => open),
    streamRevision: (stream) => Promise.resolve(revisionOf(stream)),
    head: () => Promise.resolve(log.length),
    knownIds: (candidates) => Promise.resolve(new Set(candidates.filter((id) => ids.has(id)))),
    readByIds: (candidates) => {
      const found = new Map<string, StoredEvent>();
      for (const id of candidates) {
        const event = ids.get(id);
        if (event !== undefined) found.set(id, event);
      }
      return Promise.resolve(found);
    },
    getCheckpoint: (name) => Promise.resolve(checkpoints.get(name) ?? null),
    setCheckpoint: (name, expected, value) => () => {
      if (!open) return Promise.resolve(E.left(closedError));
      const actual = checkpoints.get(name) ?? null;
      if (actual !== expected) {
        return Promise.resolve(E.left<StoreError>({ _tag: 'CheckpointConflict', name, expected, actual }));
      }
      checkpoints.set(name, value);
      return Promise.resolve(E.right(undefined));
    },
    snapshots: {
      latest: (format) => () => {
        if (!open) return Promise.resolve(E.left(closedError));
        const found = snapshots.get(format);
        if (found === undefined) return Promise.resolve(E.right(null));
        return Promise.resolve(
          E.right({
            ...found,
            // Handed on after a turn of the event loop, as a store reading a file would.
            parts: async function* () {
              await Promise.resolve();
              for (const part of found.parts) {
                if (!open) {
                  yield E.left(closedError);
                  return;
                }
                yield E.right(part);
              }
            },
          }),
        );
      },
      keep:
        ({ parts, ...snapshot }) =>
        () => {
          if (!open) return Promise.resolve(E.left(closedError));
          snapshots.set(snapshot.format, {
            ...snapshot,
            takenAt: new Date().toISOString(),
            parts: [...parts],
          });
          return Promise.resolve(E.right(true));
        },
    },
    // Nothing outlives the process: there is no disk to make anything durable on.
    flush: () => () => Promise.resolve(open ? E.right(undefined) : E.left(closedError)),
    // Nothing under it but the process's own memory: what was stored is what is read.
    checkIntegrity: () => () =>
      Promise.resolve(
        open ? E.right({ check: 'none needed (held in memory)', findings: [] }) : E.left(closedError),
      ),
    close: () => {
      open = false;
      wakeSubscribers();
      return Promise.resolve();
    },
  };
};
