// `npm run bench -- --http`: first syncs into the http destination type, posting to receivers in
// worker threads, beside a bare undici loop posting the same bodies in the same batches.
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { Agent, request } from 'undici';
import { fileBytes } from '../adapters/cli/input.js';
import {
  DEFAULT_BATCH,
  DEFAULT_CONCURRENCY,
  DEFAULT_TIMEOUT_MS,
} from '../adapters/destinations/http/options.js';
import { SIGNATURE_HEADER, signature, type ApplyRequest } from '../adapters/destinations/http/protocol.js';
import { destinationTypes, resolveDestination } from '../adapters/destinations/registry.js';
import { openSqliteStore } from '../adapters/stores/sqlite/store.js';
import type { Command } from '../domain/command.js';
import { applyConfig } from '../engine/input/configure.js';
import { ingest } from '../engine/input/ingest.js';
import type { Destination, EventStore } from '../engine/ports.js';
import { catchUp, initialState, type EngineState } from '../engine/state/engineState.js';
import { defaultSyncOptions, syncDestination } from '../engine/sync/run.js';
import { median, pass, withTrials } from './cells.js';
import { timed, warehouse } from './fixtures.js';
import { must } from './measures.js';

const ingestOptions = { checkDestination: () => [], maxProblems: 20, chunkSize: 5000 };
/** Destinations synced per receiver, and bare loops: medians compared, as in --destinations. */
const TRIALS = 3;
/** Both sides sign every request, as a destination with a secret does: the same work on each. */
const SECRET = 'syncline-bench-http-secret';
const SECRET_VARIABLE = 'SYNCLINE_BENCH_HTTP_SECRET';
/** tsconfig.build.json does not compile examples/: the receiver is loaded from its source. */
const EXAMPLE_RECEIVER = new URL('../../examples/http-receiver/receiver.mjs', import.meta.url).href;

/**
 * A receiver in a worker thread, so that it does not compete for the engine's event loop: either the
 * example receiver (`workerData.example`), or one that reads every body whole and discards it,
 * answering /apply with an empty 200 (every command succeeded) and /lookup with no records, and
 * counting what it was sent. It answers `stats` with its counts (and zeroes them) and `close`.
 */
const RECEIVER = `
const { parentPort, workerData } = require('node:worker_threads');
const http = require('node:http');
const discarding = async () => {
  const counts = { applies: 0, bytes: 0, lookups: 0 };
  const server = http.createServer((req, res) => {
    let bytes = 0;
    req.on('data', (chunk) => { bytes += chunk.length; });
    req.on('end', () => {
      if (req.url === '/apply') {
        counts.applies++;
        counts.bytes += bytes;
        res.writeHead(200, { 'content-length': '0' });
        res.end();
      } else if (req.url === '/lookup') {
        counts.lookups++;
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': '14' });
        res.end('{"records":[]}');
      } else {
        res.writeHead(404, { 'content-length': '0' });
        res.end();
      }
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: 'http://127.0.0.1:' + server.address().port,
    stats: () => {
      const sent = { ...counts };
      Object.assign(counts, { applies: 0, bytes: 0, lookups: 0 });
      return sent;
    },
    close: () => new Promise((resolve) => { server.close(resolve); server.closeIdleConnections(); }),
  };
};
const example = async ({ example, database, secret }) => {
  const { startReceiver } = await import(example);
  const receiver = await startReceiver({ database, secret });
  return { url: receiver.url, stats: () => null, close: () => receiver.close() };
};
(workerData.example === undefined ? discarding() : example(workerData)).then((receiver) => {
  parentPort.on('message', (m) => {
    if (m === 'stats') return parentPort.postMessage(receiver.stats());
    receiver.close().then(() => { parentPort.postMessage('closed'); parentPort.close(); });
  });
  parentPort.postMessage(receiver.url);
});
`;

type Counts = { readonly applies: number; readonly bytes: number; readonly lookups: number };
type Receiver = {
  readonly url: string;
  /** what the discarding receiver was sent since last asked; null from the example receiver */
  readonly stats: () => Promise<Counts | null>;
  readonly close: () => Promise<void>;
};

const startReceiver = (data: { example?: string; database?: string; secret?: string }) =>
  new Promise<Receiver>((resolve, reject) => {
    const worker = new Worker(RECEIVER, { eval: true, workerData: data });
    const ask = <A>(what: string) =>
      new Promise<A>((answered) => {
        worker.once('message', answered);
        worker.postMessage(what);
      });
    worker.on('error', (e) => {
      process.stderr.write(`bench: receiver: ${e.stack ?? e.message}\n`);
      reject(e);
    });
    worker.once('message', (url: string) =>
      resolve({
        url,
        stats: () => ask<Counts | null>('stats'),
        close: async () => {
          await ask('close');
          await worker.terminate();
        },
      }),
    );
  });

/** A first sync and the bare loop posting what it posted: their times, and the commands posted. */
type Trial = { readonly syncMs: number; readonly bareMs: number; readonly commands: number };

/** Each apply call's commands, as the destination was handed them (retries would be counted twice). */
const capturing = (destination: Destination, calls: (readonly Command[])[]): Destination => ({
  ...destination,
  apply: (commands) => {
    calls.push(commands);
    return destination.apply(commands);
  },
});

/** The bodies the destination posted: each apply call cut in batches of DEFAULT_BATCH, as calls.ts does. */
const bodiesOf = (id: string, keyField: string, calls: readonly (readonly Command[])[]): ApplyRequest[] =>
  calls.flatMap((commands) => {
    const bodies: ApplyRequest[] = [];
    for (let i = 0; i < commands.length; i += DEFAULT_BATCH)
      bodies.push({
        destinationId: id,
        keyField,
        commands: commands
          .slice(i, i + DEFAULT_BATCH)
          .map(({ commandId, operation, key, fields, groups }) => ({
            commandId,
            operation,
            key,
            fields,
            groups,
          })),
      });
    return bodies;
  });

/**
 * The bare loop: each body stringified, signed and POSTed to /apply as client.ts does, through an
 * Agent configured as its own, DEFAULT_CONCURRENCY requests in flight, each answer read whole.
 */
const barePosts = async (agent: Agent, url: string, bodies: readonly ApplyRequest[]): Promise<void> => {
  let next = 0;
  const poster = async (): Promise<void> => {
    for (let body = bodies[next++]; body !== undefined; body = bodies[next++]) {
      const text = JSON.stringify(body);
      const headers = {
        'content-type': 'application/json',
        'user-agent': 'syncline',
        [SIGNATURE_HEADER]: signature(SECRET, text, Math.floor(Date.now() / 1000)),
      };
      const answer = await request(`${url}/apply`, {
        method: 'POST',
        headers,
        body: text,
        dispatcher: agent,
      });
      const answered = await answer.body.text();
      if (answer.statusCode !== 200 || answered.trim() !== '') {
        // The example receiver answers each command: anything but all ok is a failed baseline.
        const results = (JSON.parse(answered) as { results?: { ok: boolean }[] }).results ?? [];
        if (answer.statusCode !== 200 || results.some((r) => !r.ok))
          throw new Error(`bare POST answered ${answer.statusCode}: ${answered.slice(0, 200)}`);
      }
    }
  };
  await Promise.all(Array.from({ length: DEFAULT_CONCURRENCY }, poster));
};

const agentLikeTheClient = (): Agent =>
  new Agent({
    connections: DEFAULT_CONCURRENCY,
    keepAliveTimeout: 30_000,
    headersTimeout: DEFAULT_TIMEOUT_MS,
    bodyTimeout: DEFAULT_TIMEOUT_MS,
    connectTimeout: DEFAULT_TIMEOUT_MS,
  });

const sent = (c: Counts | null): string =>
  c === null ? '' : ` (${c.applies} applies, ${(c.bytes / 1024 ** 2).toFixed(1)} MiB; ${c.lookups} lookups)`;

/** A first sync of a new destination `id` into `syncInto`, then the bare loop into `bareInto`. */
const trial = async (
  store: EventStore,
  state: EngineState,
  id: string,
  syncInto: Receiver,
  bareInto: Receiver,
): Promise<Trial> => {
  const config = must(
    resolveDestination({
      ...warehouse('unused'),
      destinationId: id,
      type: 'http',
      options: { url: syncInto.url, secret: { env: SECRET_VARIABLE } },
    }),
    'config',
  ).config;
  must(await applyConfig(store, state, [config], false), 'apply');
  const type = destinationTypes.get('http');
  if (type === undefined) throw new Error('no destination type http');
  const opened = must(await type.open(config, { ...process.env, [SECRET_VARIABLE]: SECRET })(), 'open');
  const calls: (readonly Command[])[] = [];
  const destination = capturing(opened, calls);
  const first = await timed(() => syncDestination(store, state, id, destination, defaultSyncOptions));
  await destination.close();
  const { totals } = must(first.value, 'first sync');
  const commands = calls.reduce((n, c) => n + c.length, 0);
  if (totals.failed > 0 || commands !== totals.created)
    throw new Error(`${id}: ${totals.created} created, ${totals.failed} failed, ${commands} commands posted`);
  const synced = await syncInto.stats();
  process.stderr.write(`bench: first sync into ${id}: ${first.ms.toFixed(0)} ms${sent(synced)}\n`);

  const bodies = bodiesOf(id, config.keyField, calls);
  const agent = agentLikeTheClient();
  const bare = await timed(() => barePosts(agent, bareInto.url, bodies));
  await agent.close();
  const posted = await bareInto.stats();
  process.stderr.write(`bench: bare POSTs of the same bodies: ${bare.ms.toFixed(0)} ms${sent(posted)}\n`);
  if (
    synced !== null &&
    posted !== null &&
    (synced.applies !== posted.applies || synced.bytes !== posted.bytes)
  )
    throw new Error(`${id}: the bare loop did not post what the sync posted`);
  return { syncMs: first.ms, bareMs: bare.ms, commands };
};

/** A row of first syncs beside their bare loops; judged against `target`, or only shown. */
const rowOf = (into: string, trials: readonly Trial[], target: number | null): string[] => {
  const syncMs = trials.map((t) => t.syncMs);
  const bareMs = trials.map((t) => t.bareMs);
  const commands = trials[0]?.commands ?? 0;
  const perSecond = (ms: number): number => Math.round(commands / (ms / 1000));
  const ratio = median(syncMs) / median(bareMs);
  const counted = `${commands} commands, ${perSecond(median(syncMs))} commands/s`;
  return [
    `first sync into ${into} (${target === null ? `for information; ${counted}` : counted})`,
    withTrials(syncMs),
    `${withTrials(bareMs)} of bare POSTs (${perSecond(median(bareMs))} commands/s)`,
    `${ratio.toFixed(2)}×`,
    target === null ? 'info' : `≤ ${target}×`,
    target === null ? '' : pass(ratio <= target),
  ];
};

/** The rows of the http destination, from a SQLite store of the population in `file`. */
export const httpDestinationRows = async (dir: string, file: string): Promise<string[][]> => {
  const store = must(openSqliteStore(join(dir, 'events.db')), 'open store');
  const state = initialState();
  must(await ingest(store, state, () => fileBytes(file), ingestOptions), 'ingest');
  must(await catchUp(store, state), 'catch up');
  const discarded: Trial[] = [];
  const discarding = await startReceiver({});
  try {
    for (let n = 1; n <= TRIALS; n++)
      discarded.push(await trial(store, state, `bench-http-${n}`, discarding, discarding));
  } finally {
    await discarding.close();
  }
  // A new example receiver (and database) for each sync and each bare loop: every one starts empty.
  const example: Trial[] = [];
  for (let n = 1; n <= TRIALS; n++) {
    const id = `bench-http-example-${n}`;
    const receiver = (database: string) =>
      startReceiver({ example: EXAMPLE_RECEIVER, database: join(dir, database), secret: SECRET });
    const [syncInto, bareInto] = [await receiver(`${id}.db`), await receiver(`${id}-bare.db`)];
    try {
      example.push(await trial(store, state, id, syncInto, bareInto));
    } finally {
      await syncInto.close();
      await bareInto.close();
    }
  }
  await store.close();
  return [rowOf('http', discarded, 1.5), rowOf('the example receiver', example, null)];
};
