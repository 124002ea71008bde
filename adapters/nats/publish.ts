// `syncline publish`: the engine's own events (runs, decisions, outcomes) out to JetStream in store
// order, each once in effect: its id as Nats-Msg-Id, and a compare-and-set checkpoint in the store.
import * as E from 'fp-ts/lib/Either.js';
import type { NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, type PubAck } from '@nats-io/jetstream';
import { SYNC_PREFIX } from '../../domain/syncEvents.js';
import type { EventStore, StoredEvent } from '../../engine/ports.js';
import { subjectToken, unavailable, type NatsServer, type NatsUnavailable } from './connection.js';

export type PublishSettings = {
  /** subjects are `<prefix>.<destinationId>.<eventType>` */
  readonly prefix: string;
  /** only this destination's events (its own checkpoint) */
  readonly destination?: string;
  /** events published and not yet acknowledged, at most */
  readonly window: number;
  /** go on with new events until `signal` aborts */
  readonly follow: boolean;
  readonly signal?: AbortSignal;
  /** the checkpoint is advanced at least this often while events flow, and at the end */
  readonly checkpointMs: number;
};

export type PublishError =
  | NatsUnavailable
  | { readonly _tag: 'NoStream'; readonly message: string }
  | { readonly _tag: 'CheckpointMoved'; readonly message: string }
  | { readonly _tag: 'PublishStoreFailed'; readonly message: string };

export type Published = {
  /** the checkpoint's name in the store */
  readonly checkpoint: string;
  /** the store position published up to, before and after */
  readonly from: number;
  readonly to: number;
  readonly published: number;
  /** of those, the ones JetStream already held (a resend after a crash) */
  readonly duplicates: number;
};

export const checkpointName = (s: Pick<PublishSettings, 'prefix' | 'destination'>): string =>
  `publish:${s.prefix}${s.destination === undefined ? '' : `:${s.destination}`}`;

/** The body of an event as published: the event as stored, without its tags. */
const bodyOf = (e: StoredEvent): string =>
  JSON.stringify({ id: e.id, stream: e.stream, position: e.position, type: e.type, data: e.data });

/** The streams of profiles' events: never published, and never read to publish. */
const PROFILE_PREFIX = 'profile-';

/** How long NATS may fail before publishing gives up: a server's restart, not an outage. */
const RIDE_OUT_MS = 10_000;

/** The pause between two tries while NATS fails. */
const RETRY_PAUSE_MS = 250;

/** How often a follower looks for new events in the store. */
const FOLLOW_POLL_MS = 200;

const pause = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });

const reasonOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/** A read of the store (its checkpoint, its head): what it rejects with is the store's failure, never NATS's. */
const fromStore = async <A>(read: () => Promise<A>): Promise<E.Either<PublishError, A>> => {
  try {
    return E.right(await read());
  } catch (error) {
    return E.left({ _tag: 'PublishStoreFailed', message: `the store could not be read: ${reasonOf(error)}` });
  }
};

/** In flight: a store position, and the acknowledgement of what was published for it (if anything). */
type Pending = { readonly position: number; readonly ack: Promise<PubAck> | null };

export const publishEvents = async (
  store: EventStore,
  nc: NatsConnection,
  server: NatsServer,
  s: PublishSettings,
): Promise<E.Either<PublishError, Published>> => {
  const name = checkpointName(s);
  const sample = `${s.prefix}.${subjectToken(s.destination ?? 'any')}.RunStarted`;
  try {
    const jsm = await jetstreamManager(nc, { timeout: 5_000 });
    await jsm.streams.find(sample);
  } catch (error) {
    const reason = reasonOf(error);
    return E.left(
      /no stream matches subject/i.test(reason)
        ? {
            _tag: 'NoStream',
            message:
              `no JetStream stream at ${server.shown} takes the subjects ${s.prefix}.> ` +
              `(create one, e.g. nats stream add SYNCLINE --subjects '${s.prefix}.>')`,
          }
        : unavailable(server, reason),
    );
  }
  const js = jetstream(nc, { timeout: 10_000 });
  const stored = await fromStore(() => store.getCheckpoint(name));
  if (E.isLeft(stored)) return stored;
  let checkpoint = stored.right;
  const from = stored.right ?? 0;
  let acked = from;
  let published = 0;
  let duplicates = 0;
  const queue: Pending[] = [];
  let lastSaved = Date.now();

  /** The acknowledged prefix of the queue becomes the checkpoint (compare-and-set). */
  const save = async (): Promise<E.Either<PublishError, void>> => {
    if (checkpoint === acked || (checkpoint === null && acked === 0)) return E.right(undefined);
    const set = await store.setCheckpoint(name, checkpoint, acked)();
    if (E.isLeft(set)) {
      const e = set.left;
      return E.left(
        e._tag === 'CheckpointConflict'
          ? {
              _tag: 'CheckpointMoved',
              message: `another publisher moved the checkpoint ${name} (to ${e.actual ?? 'nothing'}, from ${checkpoint ?? 'nothing'}): stopped, leaving the rest to it`,
            }
          : { _tag: 'PublishStoreFailed', message: 'message' in e ? e.message : e._tag },
      );
    }
    checkpoint = acked;
    lastSaved = Date.now();
    return E.right(undefined);
  };
  /** Waits for the oldest in flight; its position is then published. */
  const settleOne = async (): Promise<E.Either<PublishError, void>> => {
    const head = queue.shift() as Pending;
    if (head.ack !== null) {
      try {
        const ack = await head.ack;
        published += 1;
        if (ack.duplicate) duplicates += 1;
      } catch (error) {
        return E.left(
          unavailable(server, `publishing the event at position ${head.position}: ${reasonOf(error)}`),
        );
      }
    }
    acked = head.position;
    failingSince = null;
    return E.right(undefined);
  };
  const drain = async (): Promise<E.Either<PublishError, void>> => {
    while (queue.length > 0) {
      const settled = await settleOne();
      if (E.isLeft(settled)) return settled;
    }
    return save();
  };

  const stopped = (): boolean => s.signal?.aborted ?? false;
  // Since when NATS has failed with nothing acknowledged in between (null: it has not).
  let failingSince: number | null = null;
  /**
   * Whether to go on after NATS failed: a server restarting, or a connection the client is re-making,
   * is waited for, up to RIDE_OUT_MS without an acknowledgement; what was in flight is let go.
   */
  const ridesOut = async (): Promise<boolean> => {
    failingSince ??= Date.now();
    if (nc.isClosed() || stopped() || Date.now() - failingSince > RIDE_OUT_MS) return false;
    queue.length = 0;
    await pause(RETRY_PAUSE_MS, s.signal);
    return true;
  };
  // A server gone is retried (connection.ts) and then given up on: the client closes. A follower
  // with nothing to publish does not talk to NATS, so it looks: else it would poll the store on
  // and on, saying nothing, and fail only when the next event came.
  const closedWhy = nc.closed().then((e) => (e instanceof Error ? reasonOf(e) : 'connection closed'));
  /** One pass over what the store holds after what was published; a follower makes one per wake. */
  const pass = async (): Promise<E.Either<PublishError, void>> => {
    // Every event up to the head as it is now is visited by a pass that reads to its end, the
    // profiles' left out unread (most of a store, and none of them published): once what was sent
    // is acknowledged, the checkpoint can stand there even when the last event read is before it.
    const through = await fromStore(() => store.head());
    if (E.isLeft(through)) return through;
    let complete = true;
    try {
      for await (const e of store.readAll(acked, undefined, PROFILE_PREFIX)) {
        let ack: Promise<PubAck> | null = null;
        if (e.stream.startsWith(SYNC_PREFIX)) {
          const destinationId = e.stream.slice(SYNC_PREFIX.length);
          if (s.destination === undefined || s.destination === destinationId) {
            const subject = `${s.prefix}.${subjectToken(destinationId)}.${e.type}`;
            ack = js.publish(subject, bodyOf(e), { msgID: e.id });
            // Awaited in order below; a rejection is read there, not reported as unhandled first.
            ack.catch(() => undefined);
          }
        }
        queue.push({ position: e.position, ack });
        if (queue.length >= s.window) {
          const settled = await settleOne();
          if (E.isLeft(settled)) return settled;
        }
        if (Date.now() - lastSaved >= s.checkpointMs) {
          const saved = await drain();
          if (E.isLeft(saved)) return saved;
        }
        if (stopped()) {
          complete = false;
          break;
        }
      }
    } catch (error) {
      const ended = await drain();
      if (E.isLeft(ended)) return ended;
      return E.left({
        _tag: 'PublishStoreFailed',
        message: `the store could not be read: ${reasonOf(error)}`,
      });
    }
    const settled = await drain();
    if (E.isLeft(settled) || !complete || through.right <= acked) return settled;
    acked = through.right;
    return save();
  };
  for (;;) {
    const done = await pass();
    if (E.isLeft(done)) {
      // Sent again from the last acknowledged position: JetStream drops what it holds already.
      if (done.left._tag === 'NatsUnavailable' && (await ridesOut())) continue;
      return done;
    }
    if (!s.follow || stopped()) break;
    // Polling the store's head keeps this the same on every store; a new event is published within it.
    for (;;) {
      if (stopped()) break;
      if (nc.isClosed())
        return E.left(
          unavailable(server, `lost the connection, and could not reconnect: ${await closedWhy}`),
        );
      const head = await fromStore(() => store.head());
      if (E.isLeft(head)) return head;
      if (head.right > acked) break;
      await pause(FOLLOW_POLL_MS, s.signal);
    }
    if (stopped()) break;
  }
  const ended = await drain();
  if (E.isLeft(ended)) return ended;
  return E.right({ checkpoint: name, from, to: acked, published, duplicates });
};
