// `npm run bench -- --destinations`: first syncs into the postgres and mysql destination types beside
// bare loops writing the same rows and group rows with multi-row inserts (and PostgreSQL's COPY).
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { fileBytes } from '../adapters/cli/input.js';
import { changes } from '../adapters/demo/people.js';
import { destinationTypes, resolveDestination } from '../adapters/destinations/registry.js';
import { openSqliteStore } from '../adapters/stores/sqlite/store.js';
import type { DestinationConfig } from '../domain/destination.js';
import { applyConfig } from '../engine/input/configure.js';
import { ingest } from '../engine/input/ingest.js';
import type { Destination, EventStore } from '../engine/ports.js';
import { catchUp, initialState, type EngineState } from '../engine/state/engineState.js';
import { defaultSyncOptions, syncDestination } from '../engine/sync/run.js';
import { median, ms, pass, withTrials } from './cells.js';
import { timed, warehouse } from './fixtures.js';
import { bareRows, must } from './measures.js';
import type { Row } from './baselines.js';

const PG_URL = process.env['SYNCLINE_BENCH_POSTGRES_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const MYSQL_URL = process.env['SYNCLINE_BENCH_MYSQL_URL'] ?? 'mysql://root@127.0.0.1:3306';
const ingestOptions = { checkDestination: () => [], maxProblems: 20, chunkSize: 5000 };
/** Rows per multi-row INSERT of the bare loops: the size syncline's runs apply at once. */
const PER_STATEMENT = 500;
/**
 * Destinations (tables) per server, each synced first and after the round of changes, and bare loops
 * per server: the medians are compared, as in (c) and (d), since one trial on a machine whose two
 * cores run the engine and the server can be off by a fifth.
 */
const TRIALS = 3;

type Target = {
  readonly name: 'postgres' | 'mysql';
  readonly options: (table: string) => Record<string, unknown>;
  readonly env: NodeJS.ProcessEnv;
  /** the bare loop: the rows and group rows in tables like the destination's, one transaction */
  readonly bare: (rows: readonly Row[]) => Promise<void>;
  /** PostgreSQL's COPY of the same rows, for information */
  readonly copy?: (rows: readonly Row[], dir: string) => void;
  readonly drop: () => Promise<void>;
};

const postgresTarget = async (suffix: string, fields: readonly string[], key: string): Promise<Target> => {
  const schema = `bench_dest_${suffix}`;
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  const others = fields.filter((f) => f !== key);
  const bareTables = async (): Promise<void> => {
    await admin.query(`DROP TABLE IF EXISTS "${schema}".bare, "${schema}".bare_groups`);
    await admin.query(`CREATE TABLE "${schema}".bare (LIKE "${schema}".customers_1 INCLUDING ALL)`);
    await admin.query(
      `CREATE TABLE "${schema}".bare_groups (LIKE "${schema}".customers_1_groups INCLUDING ALL)`,
    );
  };
  return {
    name: 'postgres',
    options: (table) => ({ connection: { env: 'BENCH_PG_URL' }, schema, table }),
    env: { ...process.env, BENCH_PG_URL: PG_URL },
    bare: async (rows) => {
      await bareTables();
      await admin.query('BEGIN');
      for (let i = 0; i < rows.length; i += PER_STATEMENT) {
        const slice = rows.slice(i, i + PER_STATEMENT);
        await admin.query(
          `INSERT INTO "${schema}".bare ("${key}", ${others.map((f) => `"${f}"`).join(', ')})
           SELECT * FROM unnest($1::text[], ${others.map((_, j) => `$${j + 2}::jsonb[]`).join(', ')})`,
          [
            slice.map((r) => r.key),
            ...others.map((f) => slice.map((r) => JSON.stringify(r.fields[f] ?? null))),
          ],
        );
        const groups = slice.flatMap((r) => r.groups.map((g) => [r.key, g] as const));
        if (groups.length > 0)
          await admin.query(
            `INSERT INTO "${schema}".bare_groups SELECT * FROM unnest($1::text[], $2::text[])`,
            [groups.map(([k]) => k), groups.map(([, g]) => g)],
          );
      }
      await admin.query('COMMIT');
    },
    copy: (rows, dir) => {
      const csv = (v: string): string => `"${v.replaceAll('"', '""')}"`;
      const file = join(dir, 'copy.csv');
      const groupsFile = join(dir, 'copy-groups.csv');
      writeFileSync(
        file,
        rows
          .map((r) => [r.key, ...others.map((f) => JSON.stringify(r.fields[f] ?? null))].map(csv).join(','))
          .join('\n'),
      );
      writeFileSync(
        groupsFile,
        rows.flatMap((r) => r.groups.map((g) => `${csv(r.key)},${csv(g)}`)).join('\n'),
      );
      const script = [
        `TRUNCATE "${schema}".bare, "${schema}".bare_groups;`,
        'BEGIN;',
        `\\copy "${schema}".bare FROM '${file}' CSV`,
        `\\copy "${schema}".bare_groups FROM '${groupsFile}' CSV`,
        'COMMIT;',
      ].join('\n');
      const run = spawnSync('psql', [PG_URL, '-q', '-v', 'ON_ERROR_STOP=1'], {
        input: script,
        encoding: 'utf8',
      });
      if (run.status !== 0) throw new Error(`psql: ${run.stderr}`);
    },
    drop: async () => {
      await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await admin.end();
    },
  };
};

const mysqlTarget = async (suffix: string, fields: readonly string[], key: string): Promise<Target> => {
  const database = `bench_dest_${suffix}`;
  const admin = await mysql.createConnection(MYSQL_URL);
  await admin.query(`CREATE DATABASE \`${database}\``);
  const others = fields.filter((f) => f !== key);
  return {
    name: 'mysql',
    options: (table) => ({ connection: { env: 'BENCH_MYSQL_URL' }, table }),
    env: { ...process.env, BENCH_MYSQL_URL: `${MYSQL_URL}/${database}` },
    bare: async (rows) => {
      await admin.query(`DROP TABLE IF EXISTS \`${database}\`.bare, \`${database}\`.bare_groups`);
      await admin.query(`CREATE TABLE \`${database}\`.bare LIKE \`${database}\`.customers_1`);
      await admin.query(`CREATE TABLE \`${database}\`.bare_groups LIKE \`${database}\`.customers_1_groups`);
      await admin.beginTransaction();
      for (let i = 0; i < rows.length; i += PER_STATEMENT) {
        const slice = rows.slice(i, i + PER_STATEMENT);
        await admin.query(
          `INSERT INTO \`${database}\`.bare (\`${key}\`, ${others.map((f) => `\`${f}\``).join(', ')}) VALUES ?`,
          [slice.map((r) => [r.key, ...others.map((f) => JSON.stringify(r.fields[f] ?? null))])],
        );
        const groups = slice.flatMap((r) => r.groups.map((g) => [r.key, g]));
        if (groups.length > 0)
          await admin.query(`INSERT INTO \`${database}\`.bare_groups VALUES ?`, [groups]);
      }
      await admin.commit();
    },
    drop: async () => {
      await admin.query(`DROP DATABASE IF EXISTS \`${database}\``);
      await admin.end();
    },
  };
};

const openDestination = async (config: DestinationConfig, env: NodeJS.ProcessEnv): Promise<Destination> => {
  const type = destinationTypes.get(config.type);
  if (type === undefined) throw new Error(`no destination type ${config.type}`);
  return must(await type.open(config, env)(), `open ${config.type}`);
};

type Synced = {
  readonly id: string;
  readonly destination: Destination;
  readonly created: number;
  readonly firstMs: number;
  /** the statistics refreshed after it (Destination.tidy: PostgreSQL's ANALYZE) */
  readonly tidyMs: number;
};

/** A first sync into table `customers_<n>` of `target`; its tidying is timed apart. */
const firstSync = async (
  store: EventStore,
  state: EngineState,
  target: Target,
  n: number,
): Promise<Synced> => {
  const config = must(
    resolveDestination({
      ...warehouse('unused'),
      destinationId: `bench-${target.name}-${n}`,
      type: target.name,
      options: target.options(`customers_${n}`),
    }),
    'config',
  ).config;
  must(await applyConfig(store, state, [config], false), 'apply');
  const destination = await openDestination(config, target.env);
  const first = await timed(() =>
    syncDestination(store, state, config.destinationId, destination, defaultSyncOptions),
  );
  const created = must(first.value, 'first sync').totals.created;
  // Not `timed`: its pause for the collector would hide the ANALYZE the run has just started.
  const tidyFrom = performance.now();
  await destination.tidy?.();
  const tidy = { ms: performance.now() - tidyFrom };
  process.stderr.write(
    `bench: first sync into ${target.name} #${n}: ${first.ms.toFixed(0)} ms, then tidying ${tidy.ms.toFixed(0)} ms\n`,
  );
  return { id: config.destinationId, destination, created, firstMs: first.ms, tidyMs: tidy.ms };
};

/** The rows a first sync into `id` wrote, as bare loops write them. */
const rowsFor = (state: EngineState, id: string): readonly Row[] => {
  const config = state.destinations.get(id)?.config;
  if (config === undefined || config === null) throw new Error(`no destination ${id}`);
  return bareRows(state, config);
};

/** The bare loops (and COPY) writing `rows`, TRIALS times each. */
const bareTrials = async (
  dir: string,
  target: Target,
  rows: readonly Row[],
): Promise<{ bareMs: number[]; copyMs: number[] }> => {
  const bareMs: number[] = [];
  const copyMs: number[] = [];
  for (let i = 0; i < TRIALS; i++) {
    bareMs.push((await timed(() => target.bare(rows))).ms);
    if (target.copy !== undefined) copyMs.push((await timed(() => target.copy?.(rows, dir))).ms);
  }
  return { bareMs, copyMs };
};

/** The two rows of a target: its first syncs beside the bare loops, and its syncs after 1% changed. */
const rowsOf = (
  target: Target,
  synced: readonly Synced[],
  bare: { bareMs: number[]; copyMs: number[] },
  againMs: readonly number[],
): string[][] => {
  const first = median(synced.map((s) => s.firstMs));
  const bareMs = median(bare.bareMs);
  const created = synced[0]?.created ?? 0;
  const ratio = first / bareMs;
  const again = median(againMs);
  const copy =
    bare.copyMs.length === 0
      ? ''
      : `; COPY ${ms(median(bare.copyMs))} (${(first / median(bare.copyMs)).toFixed(2)}×)`;
  const tidy = median(synced.map((s) => s.tidyMs));
  const tidied = tidy >= 1 ? `, then ANALYZE ${ms(tidy)}` : '';
  return [
    [
      `first sync into ${target.name} (${created} created, ${Math.round(created / (first / 1000))} profiles/s${tidied})`,
      withTrials(synced.map((s) => s.firstMs)),
      `${withTrials(bare.bareMs)} of multi-row inserts${copy}`,
      `${ratio.toFixed(2)}×`,
      '≤ 2.5×',
      pass(ratio <= 2.5),
    ],
    [
      `sync into ${target.name} after 1% changed`,
      withTrials(againMs),
      ms(first),
      `${((again / first) * 100).toFixed(1)}%`,
      '≤ 5%',
      pass(again / first <= 0.05),
    ],
  ];
};

/** The rows for both server destinations, from a SQLite store of `profiles` people in `file`. */
export const serverDestinationRows = async (
  dir: string,
  file: string,
  profiles: number,
): Promise<string[][]> => {
  const store = must(openSqliteStore(join(dir, 'events.db')), 'open store');
  const state = initialState();
  must(await ingest(store, state, () => fileBytes(file), ingestOptions), 'ingest');
  must(await catchUp(store, state), 'catch up');
  const suffix = `${process.pid}_${Date.now().toString(36)}`;
  const base = warehouse('unused');
  const fields = Object.keys(base.mapping);
  const key = base.keyField;
  const targets = [await postgresTarget(suffix, fields, key), await mysqlTarget(suffix, fields, key)];
  const rows: string[][] = [];
  try {
    const synced = new Map<Target, Synced[]>();
    const bareRowsOf = new Map<Target, readonly Row[]>();
    for (const target of targets) {
      const each: Synced[] = [];
      for (let n = 1; n <= TRIALS; n++) each.push(await firstSync(store, state, target, n));
      synced.set(target, each);
      bareRowsOf.set(target, rowsFor(state, each[0]?.id ?? ''));
    }
    // One round of changes, then each destination synced again, as a cron job would.
    const round = changes(profiles, 0.01, 42, 0);
    const changeFile = join(dir, 'changes.jsonl');
    writeFileSync(changeFile, round.events.map((e) => JSON.stringify(e)).join('\n'));
    must(await ingest(store, state, () => fileBytes(changeFile), ingestOptions), 'ingest changes');
    const again = new Map<Target, number[]>();
    for (const target of targets) {
      const againMs: number[] = [];
      for (const s of synced.get(target) ?? []) {
        const next = await timed(() =>
          syncDestination(store, state, s.id, s.destination, defaultSyncOptions),
        );
        must(next.value, 'sync after 1%');
        await s.destination.tidy?.();
        process.stderr.write(`bench: sync into ${s.id} after 1% changed: ${next.ms.toFixed(0)} ms\n`);
        againMs.push(next.ms);
        await s.destination.close();
      }
      again.set(target, againMs);
    }
    // The bare loops after the syncs: the pages they leave for the server to write back would slow
    // the commits of the syncs after 1% changed, which wait on the disk. They write the rows the first
    // syncs wrote, as the state held them then: the round changed 1% since.
    for (const target of targets) {
      const bare = await bareTrials(dir, target, bareRowsOf.get(target) ?? []);
      rows.push(...rowsOf(target, synced.get(target) ?? [], bare, again.get(target) ?? []));
    }
  } finally {
    for (const target of targets) await target.drop();
  }
  await store.close();
  return rows;
};
