// `syncline ingest --from nats://…`: events in from a JetStream stream through a durable pull
// consumer, each checked as a file's line is, the bad ones set aside, the good acknowledged once stored.
import * as E from 'fp-ts/lib/Either.js';
import type { NatsConnection } from '@nats-io/transport-node';
import { headers as natsHeaders } from '@nats-io/transport-node';
import {
  AckPolicy,
  DeliverPolicy,
  jetstream,
  jetstreamManager,
  type Consumer,
  type JsMsg,
} from '@nats-io/jetstream';
import type { DestinationConfig } from '../../domain/destination.js';
import { ingestEach, type EachError } from '../../engine/input/ingestEach.js';
import { StoreReadFailed, type EventStore } from '../../engine/ports.js';
import type { EngineState } from '../../engine/state/engineState.js';
import { unavailable, type NatsServer, type NatsUnavailable } from './connection.js';

export type ConsumeSettings = {
  readonly stream: string;
  readonly subject?: string;
  readonly durable: string;
  readonly rejectSubject: string;
  /** messages fetched, checked and appended together */
  readonly batch: number;
  readonly follow: boolean;
  readonly signal?: AbortSignal;
  readonly checkDestination: (d: DestinationConfig) => string[];
  /** told after each batch, with the counts so far */
  readonly onBatch?: (counts: Consumed) => void;
};

export type Consumed = {
  readonly received: number;
  readonly stored: number;
  /** the same event again: a redelivery, or one stored before */
  readonly duplicates: number;
  readonly rejected: number;
};

type NoSuchStream = { readonly _tag: 'NoSuchStream'; readonly message: string };

export type ConsumeError = NatsUnavailable | NoSuchStream | EachError;

const reasonOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** A body as text, or why it is not: a file's line must be UTF-8, and so must a message. */
const textOf = (bytes: Uint8Array): string | { readonly unreadable: string } => {
  try {
    return utf8.decode(bytes);
  } catch {
    return { unreadable: 'not valid UTF-8' };
  }
};

/** How long a message fetched and not acknowledged waits before it is delivered again (10 s). */
const ACK_WAIT_NS = 10_000_000_000;

/** How long an empty fetch waits for messages: the end of the backlog, when not following. */
const EMPTY_WAIT_MS = 1_000;

/** How long NATS may fail every step before the ingest gives up: a server's restart, not an outage. */
const RIDE_OUT_MS = 10_000;

/** The pause between two tries while NATS fails. */
const RETRY_PAUSE_MS = 250;

/** The header a refused message is republished with, naming what is wrong with it. */
export const ERROR_HEADER = 'Syncline-Error';

/** A step that talks to NATS: whatever it throws is the client's or the server's failure, naming the server. */
const onNats = async <A>(
  server: NatsServer,
  step: () => Promise<A>,
): Promise<E.Either<NatsUnavailable, A>> => {
  try {
    return E.right(await step());
  } catch (error) {
    return E.left(unavailable(server, reasonOf(error)));
  }
};

/**
 * A step that reads and writes the store: a store that fails ends its reads as StoreReadFailed (see
 * ports.ts), and that is the store's failure, in the store's words, never NATS's. Anything else it
 * throws is a bug, and goes on as one.
 */
const onStore = async <A>(step: () => Promise<E.Either<EachError, A>>): Promise<E.Either<EachError, A>> => {
  try {
    return await step();
  } catch (error) {
    if (error instanceof StoreReadFailed) return E.left({ _tag: 'StoreFailed', message: error.message });
    throw error;
  }
};

/** The durable consumer, made when missing, else used as it is, or why there is none. */
const durableOf = async (
  nc: NatsConnection,
  server: NatsServer,
  s: ConsumeSettings,
): Promise<E.Either<NoSuchStream, Consumer>> => {
  const jsm = await jetstreamManager(nc, { timeout: 5_000 });
  try {
    await jsm.streams.info(s.stream);
  } catch (error) {
    if (/stream not found/i.test(reasonOf(error)))
      return E.left({
        _tag: 'NoSuchStream',
        message: `no JetStream stream ${s.stream} at ${server.shown}`,
      });
    throw error;
  }
  // Made when missing, else used as it is: its position in the stream is the durable's to keep.
  // At most one batch unacknowledged: a batch a killed reader held comes again before anything
  // after it, so the stream's order holds (an update is never stored before its profile's creation
  // and refused for it). A durable made with another --batch is brought to this one.
  const existing = await jsm.consumers.info(s.stream, s.durable).catch(() => null);
  if (existing === null)
    await jsm.consumers.add(s.stream, {
      durable_name: s.durable,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ...(s.subject === undefined ? {} : { filter_subject: s.subject }),
      // Longer than a batch takes to check and store, short enough that the messages a killed
      // reader held come again soon; one that comes twice is the same event, stored once.
      ack_wait: ACK_WAIT_NS,
      max_ack_pending: s.batch,
    });
  else if (existing.config.max_ack_pending !== s.batch)
    await jsm.consumers.update(s.stream, s.durable, { max_ack_pending: s.batch });
  return E.right(await jetstream(nc).consumers.get(s.stream, s.durable));
};

/**
 * Ingests what the stream holds. A failure is told by whose it is: NATS's (NatsUnavailable,
 * NoSuchStream) or the store's (StoreFailed, InvalidStoredEvent), never the one as the other.
 */
export const consumeEvents = async (
  store: EventStore,
  state: EngineState,
  nc: NatsConnection,
  server: NatsServer,
  s: ConsumeSettings,
): Promise<E.Either<ConsumeError, Consumed>> => {
  const durable = await onNats(server, () => durableOf(nc, server, s));
  if (E.isLeft(durable)) return durable;
  if (E.isLeft(durable.right)) return durable.right;
  const consumer = durable.right.right;
  let counts: Consumed = { received: 0, stored: 0, duplicates: 0, rejected: 0 };
  // What the server said was left to deliver after the last message fetched (its `pending`); null
  // at the start and after an empty wait, when the consumer is asked.
  let left: number | null = null;
  // Since when NATS has failed every step, with nothing done in between (null: it has not).
  let failingSince: number | null = null;
  /**
   * Whether to try again after NATS failed a step: a server restarting, or a connection the client
   * is re-making, is waited for, up to RIDE_OUT_MS of failures in a row; a client that gave up, or
   * a failure that outlasts that, ends the ingest.
   */
  const ridesOut = async (): Promise<boolean> => {
    failingSince ??= Date.now();
    if (nc.isClosed() || (s.signal?.aborted ?? false) || Date.now() - failingSince > RIDE_OUT_MS)
      return false;
    left = null;
    await new Promise((resolve) => setTimeout(resolve, RETRY_PAUSE_MS));
    return true;
  };
  for (;;) {
    if (s.signal?.aborted ?? false) break;
    const fetched = await onNats(server, async () => {
      const messages: JsMsg[] = [];
      if (left === null) {
        const info = await consumer.info();
        // Drained only when nothing is left to deliver, including what a killed reader had fetched
        // and never acknowledged: that comes again once its wait for an acknowledgement runs out.
        if (!s.follow && info.num_pending === 0 && info.num_ack_pending === 0)
          return { messages, drained: true };
        left = info.num_pending;
      }
      // A fetch returns when it has all it asked for or its wait runs out: asked for no more than
      // is there, it returns at once; with nothing there, one message is waited for, not a batch,
      // so that a follower stores a lone event as soon as it comes.
      if (left > 0) {
        const batch = await consumer.fetch({ max_messages: Math.min(s.batch, left), expires: EMPTY_WAIT_MS });
        for await (const m of batch) messages.push(m);
      } else {
        const m = await consumer.next({ expires: EMPTY_WAIT_MS });
        if (m !== null) messages.push(m);
      }
      return { messages, drained: false };
    });
    if (E.isLeft(fetched)) {
      if (await ridesOut()) continue;
      return fetched;
    }
    failingSince = null;
    const { messages, drained } = fetched.right;
    left = messages.length === 0 ? null : (messages[messages.length - 1] as JsMsg).info.pending;
    if (messages.length === 0) {
      if (drained) break;
      continue;
    }
    const verdicts = await onStore(() =>
      ingestEach(
        store,
        state,
        messages.map((m) => ({
          body: textOf(m.data),
          name: m.headers?.get('Nats-Msg-Id') || `${s.stream}:${m.seq}`,
        })),
        { checkDestination: s.checkDestination },
      ),
    );
    // Nothing stored: nothing acknowledged, every message of the batch comes again.
    if (E.isLeft(verdicts)) return verdicts;
    let stored = 0;
    let duplicates = 0;
    let rejected = 0;
    const sent = await onNats(server, async () => {
      verdicts.right.forEach((v, i) => {
        const m = messages[i] as JsMsg;
        if (v._tag === 'Refused') {
          rejected += 1;
          const h = natsHeaders();
          // One line: a header value cannot hold a line break.
          h.set(ERROR_HEADER, v.problems.join('; ').replace(/[\r\n]+/g, ' '));
          h.set('Syncline-Stream', s.stream);
          h.set('Syncline-Sequence', String(m.seq));
          nc.publish(s.rejectSubject, m.data, { headers: h });
        } else if (v._tag === 'Again') duplicates += 1;
        else stored += 1;
      });
      // The rejects out before the acknowledgements: a message is set aside, then let go.
      await nc.flush();
      for (const m of messages) m.ack();
      await nc.flush();
    });
    counts = {
      received: counts.received + messages.length,
      stored: counts.stored + stored,
      duplicates: counts.duplicates + duplicates,
      rejected: counts.rejected + rejected,
    };
    s.onBatch?.(counts);
    // Stored, and counted so: unacknowledged, the batch comes again after its wait, and is found
    // stored already.
    if (E.isLeft(sent) && !(await ridesOut())) return sent;
  }
  return E.right(counts);
};
