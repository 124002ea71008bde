// syncline embedded in an event pipeline, in one Node process: profile events in from a JetStream
// stream, a sync into every destination whenever the input goes quiet, and its decisions and outcomes out.
//
//   node examples/pipeline/pipeline.mjs --config syncline.config.json \
//     [--nats nats://127.0.0.1:4222] [--store sqlite:.syncline/events.db] [--stream PROFILES] \
//     [--subject profiles.events] [--reject-subject profiles.rejected] [--prefix syncline]
//
// It runs until SIGINT or SIGTERM, then ends what it is doing: the batch being ingested, the round of
// runs under way, and the publishing of everything the store holds by then.
/* global AbortController */
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import process from 'node:process';
import { parseArgs } from 'node:util';
import { Subject, lastValueFrom, tap, defaultIfEmpty } from 'rxjs';
import {
  applyConfig,
  connectNats,
  consumeEvents,
  decodeConfig,
  defaultSyncOptions,
  followSync,
  initialState,
  natsServerOf,
  openStore,
  publishEvents,
  resolveDestination,
} from 'syncline';

const { values: args } = parseArgs({
  options: {
    config: { type: 'string', default: 'syncline.config.json' },
    nats: { type: 'string', default: 'nats://127.0.0.1:4222' },
    store: { type: 'string', default: 'sqlite:.syncline/events.db' },
    stream: { type: 'string', default: 'PROFILES' },
    subject: { type: 'string', default: 'profiles.events' },
    'reject-subject': { type: 'string', default: 'profiles.rejected' },
    prefix: { type: 'string', default: 'syncline' },
    'quiet-ms': { type: 'string', default: '250' },
  },
});

/** @param {string} line */
const say = (line) => process.stdout.write(`${line}\n`);
/** @param {string} message @returns {never} */
const fail = (message) => {
  process.stderr.write(`pipeline: ${message}\n`);
  process.exit(1);
};

// The destinations, checked as `syncline validate` checks them, and opened with their env options.
const config = decodeConfig(JSON.parse(readFileSync(args.config, 'utf8')));
if (config._tag === 'Left') fail(config.left.problems.join('\n'));
const resolved = config.right.destinations.map((d) => {
  const r = resolveDestination(d);
  return r._tag === 'Left' ? fail(r.left.problems.join('\n')) : r.right;
});

const server = natsServerOf(args.nats);
if (server._tag === 'Left') fail(server.left);
const connected = await connectNats(server.right);
if (connected._tag === 'Left') fail(connected.left.message);
const nc = connected.right;

if (args.store.startsWith('sqlite:'))
  mkdirSync(dirname(resolve(args.store.slice('sqlite:'.length))), { recursive: true });
const opened = await openStore(args.store)();
if (opened._tag === 'Left') fail(opened.left.message);
const store = opened.right;

// Recorded in the store, as `syncline apply` records them: each decision says which config it used.
const applied = await applyConfig(
  store,
  initialState(),
  resolved.map((r) => r.config),
  false,
);
if (applied._tag === 'Left') fail(JSON.stringify(applied.left));
/** @type {{ destinationId: string, destination: import('syncline').Destination }[]} */
const destinations = [];
for (const { config: d, type } of resolved) {
  const destination = await type.open(d, process.env)();
  if (destination._tag === 'Left') fail(destination.left.message);
  destinations.push({ destinationId: d.destinationId, destination: destination.right });
}

// Ingesting and syncing each fold the store into an engine state of their own: they run side by
// side, and a state is folded by one job at a time. Publishing reads the store alone.
const stopIngest = new AbortController();
const stopSyncing = new Subject();
const stopPublishing = new AbortController();

const ingesting = consumeEvents(store, initialState(), nc, server.right, {
  stream: args.stream,
  subject: args.subject,
  durable: 'pipeline',
  rejectSubject: args['reject-subject'],
  batch: 500,
  follow: true,
  signal: stopIngest.signal,
  // A DestinationConfigured event on the stream is checked as a destination in the config file is.
  checkDestination: (d) => {
    const r = resolveDestination(d);
    return r._tag === 'Left' ? [...r.left.problems] : [];
  },
  onBatch: (c) => say(`ingested so far: ${c.stored} stored, ${c.duplicates} again, ${c.rejected} refused`),
});

const syncing = lastValueFrom(
  followSync(
    store,
    initialState(),
    destinations,
    defaultSyncOptions,
    Number(args['quiet-ms']),
    undefined,
    stopSyncing,
  ).pipe(
    tap(({ destinationId, outcome }) => {
      if (!('totals' in outcome))
        return say(
          `sync ${destinationId}: not synced: ${'message' in outcome ? outcome.message : outcome._tag}`,
        );
      const t = outcome.totals;
      if (outcome.considered > 0)
        say(
          `sync ${destinationId}: ${t.created} created, ${t.updated} updated, ${t.deleted} deleted, ` +
            `${Object.values(t.skipped).reduce((a, n) => a + n, 0)} skipped, ${t.failed} failed`,
        );
    }),
    defaultIfEmpty(null),
  ),
).catch((/** @type {unknown} */ e) => {
  // A store that fails under a run stops the pipeline: nothing could be recorded.
  process.exitCode = 1;
  process.stderr.write(`pipeline: sync: ${e instanceof Error ? e.message : String(e)}\n`);
  void stop();
});

const publishSettings = { prefix: args.prefix, window: 256, checkpointMs: 1_000 };
const publishing = publishEvents(store, nc, server.right, {
  ...publishSettings,
  follow: true,
  signal: stopPublishing.signal,
});
say(`pipeline: ${args.stream} → ${destinations.map((d) => d.destinationId).join(', ')} → ${args.prefix}.>`);

/**
 * Says what went wrong with a job, and makes the exit code 1.
 * @param {{ _tag: 'Left', left: { _tag: string, message?: string } } | { _tag: 'Right' }} r
 * @param {string} job
 */
const check = (r, job) => {
  if (r._tag === 'Left') {
    process.exitCode = 1;
    process.stderr.write(`pipeline: ${job}: ${r.left.message ?? r.left._tag}\n`);
  }
};

/** @type {Promise<void> | undefined} */
let stopping;
/** Stops once, whoever asks first: a signal, or a job that ended on its own. */
const stop = () =>
  (stopping ??= (async () => {
    // In the order the data flows: no more input, then the last runs end, then their events go out.
    stopIngest.abort();
    check(await ingesting, 'ingest');
    stopSyncing.next(undefined);
    await syncing;
    stopPublishing.abort();
    check(await publishing, 'publish');
    // The follower stopped where it was; what the last runs recorded goes out now (same checkpoint).
    check(await publishEvents(store, nc, server.right, { ...publishSettings, follow: false }), 'publish');
    for (const { destination } of destinations) await destination.close();
    await nc.drain();
    await store.close();
    say('pipeline: stopped');
  })());
process.once('SIGINT', () => void stop());
process.once('SIGTERM', () => void stop());
// A job that ends on its own (NATS gone, the store failing, another publisher) stops the others.
void ingesting.then(() => stop());
void publishing.then(() => stop());
