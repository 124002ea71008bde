// `npm run bench -- --nats`: `ingest --from nats://…` of the population's events from a JetStream
// stream beside `ingest` of the same events from its file, and `publish` of a first sync's record
// beside a bare loop publishing the same messages, on the NATS server at SYNCLINE_BENCH_NATS_URL.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, type JetStreamManager, type PubAck } from '@nats-io/jetstream';
import { fileBytes } from '../adapters/cli/input.js';
import { natsServerOf, subjectToken, type NatsServer } from '../adapters/nats/connection.js';
import { consumeEvents } from '../adapters/nats/consume.js';
import { publishEvents } from '../adapters/nats/publish.js';
import { openSqliteStore } from '../adapters/stores/sqlite/store.js';
import { SYNC_PREFIX } from '../domain/syncEvents.js';
import { ingest } from '../engine/input/ingest.js';
import type { EventStore } from '../engine/ports.js';
import { catchUp, initialState } from '../engine/state/engineState.js';
import { median, pass, withTrials } from './cells.js';
import { linesOf, timed } from './fixtures.js';
import { firstSync, must } from './measures.js';

const NATS_URL = process.env['SYNCLINE_BENCH_NATS_URL'] ?? 'nats://127.0.0.1:4222';
/** Trials of each side, taken in turn so that a slow moment of the machine hits both; medians compared. */
const TRIALS = 3;
/** The CLI's settings: `ingest FILE` checks and appends 1,000 lines at a time (CHUNK_SIZE in
 *  adapters/cli/commands/ingest.ts), `ingest --from` fetches `--batch` 500 messages at a time, and
 *  `publish` awaits at most 256 acknowledgements at once (WINDOW in adapters/cli/commands/publish.ts). */
const FILE_OPTIONS = { checkDestination: () => [], maxProblems: 20, chunkSize: 1000 };
const BATCH = 500;
const WINDOW = 256;

/** A message as `publish` sends it: its subject, its body and its Nats-Msg-Id. */
type Message = { readonly subject: string; readonly body: string; readonly msgID: string };

/**
 * Publishes `messages` as `publishEvents` does: at most WINDOW unacknowledged, the oldest awaited
 * first, nothing else. The bare loop of the publish row, and how the ingest row fills its stream.
 */
const publishInOrder = async (
  nc: NatsConnection,
  messages: Iterable<Message> | AsyncIterable<Message>,
): Promise<number> => {
  const js = jetstream(nc, { timeout: 10_000 });
  const queue: Promise<PubAck>[] = [];
  let duplicates = 0;
  const settle = async (): Promise<void> => {
    if ((await (queue.shift() as Promise<PubAck>)).duplicate) duplicates += 1;
  };
  for await (const m of messages) {
    const ack = js.publish(m.subject, m.body, { msgID: m.msgID });
    ack.catch(() => undefined);
    queue.push(ack);
    if (queue.length >= WINDOW) await settle();
  }
  while (queue.length > 0) await settle();
  return duplicates;
};

/** Streams of the bench's own, each taking `<prefix>.>`, all deleted by `close` whatever happened. */
type Streams = {
  readonly fresh: (label: string) => Promise<{ readonly name: string; readonly prefix: string }>;
  readonly stats: (name: string) => Promise<{ readonly messages: number; readonly bytes: number }>;
  readonly remove: (name: string) => Promise<void>;
  readonly close: () => Promise<void>;
};

const streamsOf = (jsm: JetStreamManager): Streams => {
  const run = randomBytes(4).toString('hex');
  const made = new Set<string>();
  return {
    // Names and prefixes of one length whatever the label, so that the same events make messages of
    // the same size in every stream.
    fresh: async (label) => {
      const name = `SYNCLINE_BENCH_${run}_${label}`;
      const prefix = `synclinebench_${run}_${label}`;
      await jsm.streams.add({ name, subjects: [`${prefix}.>`] });
      made.add(name);
      return { name, prefix };
    },
    stats: async (name) => {
      const { state } = await jsm.streams.info(name);
      return { messages: state.messages, bytes: state.bytes };
    },
    remove: async (name) => {
      made.delete(name);
      await jsm.streams.delete(name);
    },
    close: async () => {
      for (const name of made) await jsm.streams.delete(name).catch(() => false);
      made.clear();
    },
  };
};

const reasonOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

const perSecond = (n: number, ms: number): number => Math.round(n / (ms / 1000));

/** A connection and a JetStream manager, or why the server does not answer (one line). */
const reach = async (
  server: NatsServer,
): Promise<E.Either<string, { nc: NatsConnection; jsm: JetStreamManager }>> => {
  let nc: NatsConnection;
  try {
    nc = await connect({ servers: server.servers, timeout: 3_000, maxReconnectAttempts: 0 });
  } catch (error) {
    return E.left(`cannot reach NATS at ${server.shown}: ${reasonOf(error)}`);
  }
  try {
    const jsm = await jetstreamManager(nc, { timeout: 5_000 });
    await jsm.getAccountInfo();
    return E.right({ nc, jsm });
  } catch (error) {
    await nc.close().catch(() => undefined);
    return E.left(`no JetStream at ${server.shown}: ${reasonOf(error)}`);
  }
};

/**
 * The ingest row: the file's events published once to a stream (one message per line, `Nats-Msg-Id`
 * its line number), then TRIALS times each, in turn, `ingest` of the file into a new store and
 * `consumeEvents` of the stream through a new durable into another new store.
 */
const ingestRow = async (
  dir: string,
  file: string,
  lines: number,
  server: NatsServer,
  nc: NatsConnection,
  streams: Streams,
): Promise<string[]> => {
  const { name, prefix } = await streams.fresh('in');
  // One message per line, as a producer would publish the events, read a line at a time.
  let n = 0;
  async function* messages(): AsyncGenerator<Message> {
    for await (const body of linesOf(file))
      if (body !== '') yield { subject: `${prefix}.events`, body, msgID: `people-${++n}` };
  }
  const filled = await timed(() => publishInOrder(nc, messages()));
  if (n !== lines || filled.value > 0) throw new Error(`${file}: ${n} events published, not ${lines}`);
  process.stderr.write(`bench: ${lines} events published to stream ${name}: ${filled.ms.toFixed(0)} ms\n`);
  const fileMs: number[] = [];
  const natsMs: number[] = [];
  for (let t = 1; t <= TRIALS; t++) {
    const fileStore = must(openSqliteStore(join(dir, `nats-file-${t}.db`)), 'open store');
    const fromFile = await timed(() =>
      ingest(fileStore, initialState(), () => fileBytes(file), FILE_OPTIONS),
    );
    await fileStore.close();
    const appended = must(fromFile.value, 'ingest of the file').appended;
    if (appended !== lines) throw new Error(`ingest of the file appended ${appended} of ${lines} events`);
    process.stderr.write(`bench: ingest of the file: ${fromFile.ms.toFixed(0)} ms\n`);
    fileMs.push(fromFile.ms);

    const natsStore = must(openSqliteStore(join(dir, `nats-from-${t}.db`)), 'open store');
    const fromNats = await timed(() =>
      consumeEvents(natsStore, initialState(), nc, server, {
        stream: name,
        durable: `bench-${t}`,
        rejectSubject: `${prefix}_rejected`,
        batch: BATCH,
        follow: false,
        checkDestination: () => [],
      }),
    );
    await natsStore.close();
    const consumed = must(fromNats.value, 'ingest --from');
    if (consumed.stored !== lines || consumed.rejected > 0 || consumed.duplicates > 0)
      throw new Error(`ingest --from: ${JSON.stringify(consumed)} of ${lines} events`);
    process.stderr.write(`bench: ingest --from the stream: ${fromNats.ms.toFixed(0)} ms\n`);
    natsMs.push(fromNats.ms);
  }
  await streams.remove(name);
  const nats = median(natsMs);
  const fromFile = median(fileMs);
  return [
    `ingest --from nats (${lines} events, ${perSecond(lines, nats)} events/s; median of ${TRIALS})`,
    withTrials(natsMs),
    `${withTrials(fileMs)} of ingest of the file (${perSecond(lines, fromFile)} events/s)`,
    (fromFile / nats).toFixed(2),
    '≥ 0.5',
    pass(fromFile / nats >= 0.5),
  ];
};

/** What `publish` sends for the store's events: syncline's own, as publishEvents makes them. */
const recordOf = async (store: EventStore, prefix: string): Promise<Message[]> => {
  const out: Message[] = [];
  for await (const e of store.readAll()) {
    if (!e.stream.startsWith(SYNC_PREFIX)) continue;
    const destination = subjectToken(e.stream.slice(SYNC_PREFIX.length));
    const body = { id: e.id, stream: e.stream, position: e.position, type: e.type, data: e.data };
    out.push({ subject: `${prefix}.${destination}.${e.type}`, body: JSON.stringify(body), msgID: e.id });
  }
  return out;
};

/**
 * The publish row: a first sync of the population into a SQLite destination, then TRIALS times each,
 * in turn, `publishEvents` of the store into a new stream (a new prefix, so a checkpoint of its own
 * and nothing JetStream holds already) and the bare loop publishing the same messages into another.
 */
const publishRow = async (
  dir: string,
  file: string,
  server: NatsServer,
  nc: NatsConnection,
  streams: Streams,
): Promise<string[]> => {
  const store = must(openSqliteStore(join(dir, 'nats-publish.db')), 'open store');
  try {
    const state = initialState();
    must(await ingest(store, state, () => fileBytes(file), FILE_OPTIONS), 'ingest');
    must(await catchUp(store, state), 'catch up');
    const synced = await firstSync(dir, store, state, 'warehouse', null);
    await synced.destination.close();
    const created = synced.summary.totals.created;
    process.stderr.write(`bench: first sync of ${created} profiles: ${synced.ms.toFixed(0)} ms\n`);
    const ourMs: number[] = [];
    const bareMs: number[] = [];
    let sent = { messages: 0, bytes: 0 };
    for (let t = 1; t <= TRIALS; t++) {
      const ours = await streams.fresh(`s${t}`);
      const published = await timed(() =>
        publishEvents(store, nc, server, {
          prefix: ours.prefix,
          window: WINDOW,
          follow: false,
          checkpointMs: 1_000,
        }),
      );
      const done = must(published.value, 'publish');
      const held = await streams.stats(ours.name);
      await streams.remove(ours.name);
      if (done.duplicates > 0 || held.messages !== done.published)
        throw new Error(`publish: ${JSON.stringify(done)}, the stream holds ${held.messages} messages`);
      process.stderr.write(
        `bench: publish of ${done.published} events (${(held.bytes / 1024 ** 2).toFixed(1)} MiB in the stream): ${published.ms.toFixed(0)} ms\n`,
      );
      ourMs.push(published.ms);
      sent = held;

      const bare = await streams.fresh(`b${t}`);
      const messages = await recordOf(store, bare.prefix);
      const loop = await timed(() => publishInOrder(nc, messages));
      const bareHeld = await streams.stats(bare.name);
      await streams.remove(bare.name);
      // The same subjects (but for the prefix, of the same length), bodies and ids: the same bytes.
      if (loop.value > 0 || bareHeld.messages !== held.messages || bareHeld.bytes !== held.bytes)
        throw new Error(
          `the bare loop's stream holds ${bareHeld.messages} messages, ${bareHeld.bytes} bytes; publish's ${held.messages}, ${held.bytes}`,
        );
      process.stderr.write(`bench: bare publish loop of the same messages: ${loop.ms.toFixed(0)} ms\n`);
      bareMs.push(loop.ms);
    }
    const ours = median(ourMs);
    const bare = median(bareMs);
    const mib = (sent.bytes / 1024 ** 2).toFixed(0);
    return [
      `publish of a first sync's record (${created} profiles: ${sent.messages} events, ${mib} MiB, ${perSecond(sent.messages, ours)} events/s; median of ${TRIALS})`,
      withTrials(ourMs),
      `${withTrials(bareMs)} of a bare publish loop (${perSecond(sent.messages, bare)} events/s)`,
      (bare / ours).toFixed(2),
      '≥ 0.5',
      pass(bare / ours >= 0.5),
    ];
  } finally {
    await store.close();
  }
};

/**
 * The two rows, from the population in `file` (`lines` events), or none when the server does not
 * answer (one line on stderr says so). The streams made are deleted after, even on failure.
 */
export const natsRows = async (dir: string, file: string, lines: number): Promise<string[][]> => {
  const server = natsServerOf(NATS_URL);
  if (E.isLeft(server)) throw new Error(`SYNCLINE_BENCH_NATS_URL: ${server.left}`);
  const reached = await reach(server.right);
  if (E.isLeft(reached)) {
    process.stderr.write(`bench: skipping the NATS rows: ${reached.left}\n`);
    return [];
  }
  const { nc, jsm } = reached.right;
  const streams = streamsOf(jsm);
  try {
    return [
      await ingestRow(dir, file, lines, server.right, nc, streams),
      await publishRow(dir, file, server.right, nc, streams),
    ];
  } finally {
    await streams.close();
    await nc.close();
  }
};
