// `npm run bench -- --store postgres`: the PostgreSQL store beside bare `pg` loops doing the same I/O,
// a first sync on it beside the same on the SQLite store, and its commands' time to first output.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as E from 'fp-ts/lib/Either.js';
import pg from 'pg';
import { fileBytes } from '../adapters/cli/input.js';
import { resolveDestination } from '../adapters/destinations/registry.js';
import { sqliteDestinationType } from '../adapters/destinations/sqlite/destination.js';
import { openPostgresStore } from '../adapters/stores/postgres/store.js';
import { parsePostgresUrl } from '../adapters/stores/postgres/url.js';
import { openSqliteStore } from '../adapters/stores/sqlite/store.js';
import { streamOf, type InputEvent } from '../domain/events.js';
import { applyConfig } from '../engine/input/configure.js';
import { ingest } from '../engine/input/ingest.js';
import type { EventStore } from '../engine/ports.js';
import { catchUp, initialState, type EngineState } from '../engine/state/engineState.js';
import { defaultSyncOptions, syncDestination } from '../engine/sync/run.js';
import { median, ms, pass, ratio, withTrials } from './cells.js';
import { linesOf, timed, warehouse } from './fixtures.js';
import { must, type Beside } from './measures.js';

const MAIN = fileURLToPath(new URL('../adapters/cli/main.js', import.meta.url));
const ingestOptions = { checkDestination: () => [], maxProblems: 20, chunkSize: 5000 };
/** First syncs per store for (c), taken in turn so that a slow moment of the machine hits both. */
const SYNCS = 3;

const openAt = async (url: string): Promise<EventStore> => {
  const location = parsePostgresUrl(url);
  if (E.isLeft(location)) throw new Error(location.left);
  const opened = await openPostgresStore(location.right);
  if (E.isLeft(opened)) throw new Error(opened.left.message);
  return opened.right;
};

/** The same rows the store inserts, in batches of the ingest's size, one transaction, one INSERT each. */
const bareIngest = async (url: string, schema: string, file: string): Promise<number> => {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const revisions = new Map<string, number>();
  const now = new Date().toISOString();
  let n = 0;
  let batch: string[][] = [[], [], [], [], [], []];
  const flush = async (): Promise<void> => {
    if (batch[0]?.length === 0) return;
    await client.query(
      `INSERT INTO "${schema}".events (position, stream, revision, id, type, data, occurred_at, recorded_at)
       SELECT nextval('"${schema}".positions'), s, r, i, t, d::json, o, $7
         FROM unnest($1::text[], $2::int[], $3::text[], $4::text[], $5::text[], $6::text[]) AS x(s, r, i, t, d, o)`,
      [...batch, now],
    );
    batch = [[], [], [], [], [], []];
  };
  await client.query('BEGIN');
  for await (const line of linesOf(file)) {
    if (line === '') continue;
    const e = JSON.parse(line) as InputEvent;
    const stream = streamOf(e);
    const revision = (revisions.get(stream) ?? -1) + 1;
    revisions.set(stream, revision);
    const row = [stream, String(revision), crypto.randomUUID(), e.type, JSON.stringify(e.data), now];
    row.forEach((v, i) => batch[i]?.push(v));
    if (++n % ingestOptions.chunkSize === 0) await flush();
  }
  await flush();
  await client.query('COMMIT');
  await client.end();
  return n;
};

/** Every row in position order, a page of a thousand at a time, its data parsed: the least a catch-up does. */
const bareCatchUp = async (url: string, schema: string): Promise<number> => {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const byStream = new Map<string, unknown>();
  let after = 0;
  let n = 0;
  for (;;) {
    const { rows } = await client.query<[string, string, string]>({
      text: `SELECT position, stream, data::text FROM "${schema}".events WHERE position > $1 ORDER BY position LIMIT 1000`,
      values: [after],
      rowMode: 'array',
    } as pg.QueryArrayConfig);
    for (const [position, stream, data] of rows) {
      byStream.set(stream, JSON.parse(data));
      after = Number(position);
      n++;
    }
    if (rows.length < 1000) break;
  }
  await client.end();
  return n;
};

/** A store whose every call's time is added up: where a run's time goes between store and the rest. */
const timedStore = (store: EventStore): { store: EventStore; spentMs: () => number } => {
  let spent = 0;
  // A thunk, so that what an embedded store does before its promise exists is counted too.
  const clock = <A>(call: () => Promise<A>): Promise<A> => {
    const start = performance.now();
    return call().finally(() => (spent += performance.now() - start));
  };
  return {
    spentMs: () => spent,
    store: {
      ...store,
      append: (writes) => () => clock(() => store.append(writes)()),
      streamRevision: (s) => clock(() => store.streamRevision(s)),
      head: () => clock(() => store.head()),
      readAll: (after, size, leaveOut) => {
        const inner = store.readAll(after, size, leaveOut);
        return {
          [Symbol.asyncIterator]: () => {
            const it = inner[Symbol.asyncIterator]();
            return {
              next: () => clock(() => it.next()),
              return: () => clock(() => it.return?.() ?? Promise.resolve({ done: true, value: undefined })),
            };
          },
        } as AsyncIterable<never>;
      },
    },
  };
};

type Synced = { readonly ms: number; readonly storeMs: number };

const firstSync = async (dir: string, raw: EventStore, state: EngineState, id: string): Promise<Synced> => {
  const config = must(
    resolveDestination({ ...warehouse(join(dir, `${id}.db`)), destinationId: id }),
    'config',
  ).config;
  must(await applyConfig(raw, state, [config], false), 'apply');
  const destination = must(await sqliteDestinationType.open(config, process.env)(), 'open destination');
  const { store, spentMs } = timedStore(raw);
  const run = await timed(() => syncDestination(store, state, id, destination, defaultSyncOptions));
  must(run.value, 'sync');
  await destination.tidy?.();
  await destination.close();
  process.stderr.write(
    `bench: first sync of ${id}: ${run.ms.toFixed(0)} ms, ${spentMs().toFixed(0)} ms in the store\n`,
  );
  return { ms: run.ms, storeMs: spentMs() };
};

/** Time from starting `syncline ARGS` to its first byte on stdout, and to its exit. */
const firstOutput = (cwd: string, args: readonly string[]): Promise<{ first: number; exit: number }> =>
  new Promise((resolve, reject) => {
    const start = performance.now();
    let first = 0;
    const child = spawn(process.execPath, [MAIN, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stdout.on('data', () => (first ||= performance.now() - start));
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    child.on('exit', (code) =>
      code === 0
        ? resolve({ first, exit: performance.now() - start })
        : reject(new Error(`${args.join(' ')}: ${err}`)),
    );
  });

/** The rows of the PostgreSQL bench, for `profiles` people written to `file`, in schemas of `url`'s server. */
export const postgresRows = async (
  dir: string,
  file: string,
  url: string,
  profiles: number,
): Promise<string[][]> => {
  const suffix = `${process.pid}_${Date.now().toString(36)}`;
  const schema = `bench_${suffix}`;
  const bareSchema = `bench_bare_${suffix}`;
  const withSchema = (s: string): string => {
    const u = new URL(url);
    u.searchParams.set('schema', s);
    return u.toString();
  };
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  try {
    // The bare loops write into tables the store itself made, so the two cannot differ in layout.
    await (await openAt(withSchema(bareSchema))).close();
    const bare = await timed(() => bareIngest(url, bareSchema, file));
    const store = await openAt(withSchema(schema));
    const state = initialState();
    const ours = await timed(() => ingest(store, state, () => fileBytes(file), ingestOptions));
    must(ours.value, 'ingest');
    const a: Beside = { ms: ours.ms, bareMs: bare.ms };
    const bareRead = await timed(() => bareCatchUp(url, bareSchema));
    const cold = await timed(() => catchUp(store, initialState()));
    must(cold.value, 'cold catch-up');
    const b: Beside = { ms: cold.ms, bareMs: bareRead.ms };

    const sqlite = must(openSqliteStore(join(dir, 'events.db')), 'open the SQLite store');
    const sqliteState = initialState();
    must(await ingest(sqlite, sqliteState, () => fileBytes(file), ingestOptions), 'ingest into SQLite');
    const onPg: Synced[] = [];
    const onSqlite: Synced[] = [];
    for (let t = 1; t <= SYNCS; t++) {
      onPg.push(await firstSync(dir, store, state, `pg-${t}`));
      onSqlite.push(await firstSync(dir, sqlite, sqliteState, `sqlite-${t}`));
    }
    await sqlite.close();
    await store.close();

    // Commands as an operator types them against the store: the first builds this machine's state file.
    const cwd = dir;
    writeFileSync(
      join(cwd, 'syncline.config.json'),
      JSON.stringify({ store: withSchema(schema), destinations: [] }),
    );
    const status = [await firstOutput(cwd, ['status']), await firstOutput(cwd, ['status'])];
    const explain = await firstOutput(cwd, ['explain', '--destination', 'pg-1', '--profile', 'p0000042']);
    const c = median(onPg.map((s) => s.ms)) / median(onSqlite.map((s) => s.ms));
    return [
      row('(a) ingest into PostgreSQL', a, 0.5),
      row('(b) cold catch-up from PostgreSQL', b, 0.5),
      [
        `(c) first sync of ${profiles} profiles, PostgreSQL store vs SQLite store (time in store calls)`,
        `${withTrials(onPg.map((s) => s.ms))}; store ${ms(median(onPg.map((s) => s.storeMs)))}`,
        `${withTrials(onSqlite.map((s) => s.ms))}; store ${ms(median(onSqlite.map((s) => s.storeMs)))}`,
        `${c.toFixed(2)}×`,
        'say',
        '',
      ],
      [
        '(d) status, first output: building the state file / from it',
        `${ms(status[0]?.first ?? 0)} / ${ms(status[1]?.first ?? 0)}`,
        '',
        '',
        'say',
        '',
      ],
      ['(d) explain --profile, first output', ms(explain.first), '', '', 'say', ''],
    ];
  } finally {
    await admin.query(
      `DROP SCHEMA IF EXISTS "${schema}" CASCADE; DROP SCHEMA IF EXISTS "${bareSchema}" CASCADE`,
    );
    await admin.end();
  }
};

const row = (measure: string, b: Beside, atLeast: number): string[] => [
  measure,
  ms(b.ms),
  ms(b.bareMs),
  ratio(b.bareMs / b.ms),
  `≥ ${atLeast}`,
  pass(b.bareMs / b.ms >= atLeast),
];
