// Reading the KurrentDB store through the client: `$all` a page at a time under a server-side filter
// that keeps syncline's own streams, streams by revision, tags and ids through their link streams.
import {
  BACKWARDS,
  END,
  FORWARDS,
  START,
  streamNameFilter,
  type AllStreamResolvedEvent,
  type ResolvedEvent,
} from '@kurrent/kurrentdb-client';
import type { EventStore, StoredEvent } from '../../../engine/ports.js';
import { DEFAULT_BATCH_SIZE, paged, readingAll } from '../common.js';
import { errorType, readFailure, type Kdb } from './connection.js';
import { META } from './names.js';

type Recorded = NonNullable<ResolvedEvent['event'] | AllStreamResolvedEvent['event']>;

/** The StoredEvent a recorded event is; its id and times are the ones syncline kept in its metadata. */
export const storedOf =
  (k: Kdb) =>
  (e: Recorded): StoredEvent => {
    const meta = (e.metadata ?? {}) as Record<string, unknown>;
    const text = (key: string, fallback: string): string =>
      typeof meta[key] === 'string' ? meta[key] : fallback;
    const created = e.created.toISOString();
    return {
      position: Number(e.position?.commit ?? -1n),
      stream: k.names.unprefixed(e.streamId),
      revision: Number(e.revision),
      id: text(META.id, e.id),
      type: e.type,
      data: e.data,
      occurredAt: text(META.occurredAt, created),
      recordedAt: text(META.recordedAt, created),
    };
  };

/** `$all` from just past `after` (0: the start), the ReadPosition the client takes. */
const from = (after: number) => (after <= 0 ? START : { commit: BigInt(after), prepare: BigInt(after) });

/** Reads `stream`'s events as the client hands them (with the link, when it resolves links), none when it does not exist. */
export async function* streamResolved(
  k: Kdb,
  stream: string,
  options: { fromRevision?: bigint; maxCount?: number; backwards?: boolean; links?: boolean },
): AsyncGenerator<ResolvedEvent> {
  if (k.closed()) throw readFailure(k, new Error('closed'));
  try {
    for await (const resolved of k.client.readStream(stream, {
      fromRevision: options.backwards === true ? END : (options.fromRevision ?? START),
      direction: options.backwards === true ? BACKWARDS : FORWARDS,
      maxCount: options.maxCount ?? Number.MAX_SAFE_INTEGER,
      resolveLinkTos: options.links === true,
    })) {
      yield resolved;
    }
  } catch (error) {
    if (errorType(error) === 'stream-not-found') return;
    throw readFailure(k, error);
  }
}

/** The recorded events of `stream` (a link's target when it resolves links). */
export async function* streamEvents(
  k: Kdb,
  stream: string,
  options: { fromRevision?: bigint; maxCount?: number; backwards?: boolean; links?: boolean },
): AsyncGenerator<Recorded> {
  for await (const resolved of streamResolved(k, stream, options))
    if (resolved.event !== undefined) yield resolved.event;
}

/** The last revision of `stream` (-1 when it has none). */
export const headOf = async (k: Kdb, stream: string): Promise<number> => {
  for await (const e of streamEvents(k, stream, { backwards: true, maxCount: 1 })) return Number(e.revision);
  return -1;
};

/** Up to `limit` of syncline's events after position `after`, in `$all` order. */
const page =
  (k: Kdb, leaveOut?: string) =>
  async (after: number, limit: number): Promise<StoredEvent[]> => {
    const out: StoredEvent[] = [];
    const toStored = storedOf(k);
    if (k.closed()) throw readFailure(k, new Error('closed'));
    try {
      // The read starts at `after` itself when an event is there: one more is asked for, and it is dropped.
      for await (const resolved of k.client.readAll({
        fromPosition: from(after),
        maxCount: limit + 1,
        direction: FORWARDS,
        filter: streamNameFilter({ regex: k.names.ownStreams(leaveOut) }),
      })) {
        if (resolved.event === undefined) continue;
        const e = toStored(resolved.event);
        if (e.position > after && out.length < limit) out.push(e);
      }
    } catch (error) {
      throw readFailure(k, error);
    }
    return out;
  };

/** How many lookups (an id, a stream's head) run at once: each is a read of its own. */
const AT_ONCE = 16;

export const eachAtMost = async <A, B>(items: readonly A[], work: (a: A) => Promise<B>): Promise<B[]> => {
  const out: B[] = new Array<B>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await work(items[i] as A);
    }
  };
  await Promise.all(Array.from({ length: Math.min(AT_ONCE, items.length) }, worker));
  return out;
};

/** Which of `ids` are taken: each one's id stream exists. */
export const takenIds = async (k: Kdb, ids: readonly string[]): Promise<Set<string>> => {
  const unique = [...new Set(ids)];
  const found = await eachAtMost(unique, async (id) => (await headOf(k, k.names.id(id))) >= 0);
  return new Set(unique.filter((_, i) => found[i]));
};

/** The event stored under syncline id `id`, through the link in its id stream. */
export const eventWithId = async (k: Kdb, id: string): Promise<StoredEvent | undefined> => {
  for await (const e of streamEvents(k, k.names.id(id), { maxCount: 1, links: true })) return storedOf(k)(e);
  return undefined;
};

type TaggedRow = { readonly link: number; readonly event: StoredEvent };

/**
 * A catch-up subscription to `$all` from just past `after`, filtered on the server to syncline's
 * streams: it reads what is there, then the server pushes each new event. It ends when `signal`
 * aborts or the store closes (every subscription open is in `open`).
 */
async function* following(
  k: Kdb,
  open: Set<{ unsubscribe: () => Promise<void> }>,
  after: number,
  signal: AbortSignal,
): AsyncGenerator<StoredEvent, void, undefined> {
  if (signal.aborted || k.closed()) return;
  const toStored = storedOf(k);
  const sub = k.client.subscribeToAll({
    fromPosition: from(after),
    filter: streamNameFilter({ regex: k.names.ownStreams() }),
  });
  open.add(sub);
  const stop = (): void => void sub.unsubscribe().catch(() => undefined);
  signal.addEventListener('abort', stop, { once: true });
  try {
    for await (const resolved of sub) {
      if (signal.aborted) return;
      if (resolved.event === undefined) continue;
      const e = toStored(resolved.event);
      if (e.position > after) yield e;
    }
  } catch (error) {
    if (signal.aborted || k.closed()) return;
    throw readFailure(k, error);
  } finally {
    signal.removeEventListener('abort', stop);
    open.delete(sub);
    await sub.unsubscribe().catch(() => undefined);
  }
}

export const kurrentReads = (
  k: Kdb,
  subscriptions: Set<{ unsubscribe: () => Promise<void> }>,
): Pick<
  EventStore,
  'readStream' | 'readTagged' | 'readAll' | 'subscribe' | 'streamRevision' | 'head' | 'knownIds' | 'readByIds'
> => {
  const toStored = storedOf(k);
  return {
    readStream: (stream, fromRevision = 0) =>
      paged(
        async (rev, limit) => {
          const out: StoredEvent[] = [];
          for await (const e of streamEvents(k, k.names.stream(stream), {
            fromRevision: BigInt(rev),
            maxCount: limit,
          }))
            out.push(toStored(e));
          return out;
        },
        Math.max(0, fromRevision),
        DEFAULT_BATCH_SIZE,
        (last) => last.revision + 1,
      ),
    // The tag's stream links to every event carrying it, in the order they were appended; its pages
    // go on from the link's revision, not the event's.
    readTagged: (tag) =>
      paged<TaggedRow>(
        async (rev, limit) => {
          const out: TaggedRow[] = [];
          for await (const r of streamResolved(k, k.names.tagged(tag), {
            fromRevision: BigInt(rev),
            maxCount: limit,
            links: true,
          }))
            if (r.event !== undefined)
              out.push({ link: Number(r.link?.revision ?? r.event.revision), event: toStored(r.event) });
          return out;
        },
        0,
        DEFAULT_BATCH_SIZE,
        (last) => last.link + 1,
        { event: (r) => r.event, bytes: () => 0, position: (r) => r.event.position },
      ),
    readAll: readingAll(page(k), (prefix) => page(k, prefix)),
    subscribe: (afterPosition, signal) => following(k, subscriptions, Math.max(0, afterPosition), signal),
    streamRevision: (stream) => headOf(k, k.names.stream(stream)),
    head: async () => {
      try {
        for await (const resolved of k.client.readAll({
          fromPosition: END,
          direction: BACKWARDS,
          maxCount: 1,
          filter: streamNameFilter({ regex: k.names.ownStreams() }),
        }))
          if (resolved.event !== undefined) return toStored(resolved.event).position;
      } catch (error) {
        throw readFailure(k, error);
      }
      return 0;
    },
    knownIds: (ids) => takenIds(k, ids),
    readByIds: async (ids) => {
      const unique = [...new Set(ids)];
      const found = await eachAtMost(unique, (id) => eventWithId(k, id));
      return new Map(found.flatMap((e, i) => (e === undefined ? [] : [[unique[i] as string, e] as const])));
    },
  };
};
