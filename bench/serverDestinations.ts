// `npm run bench -- --destinations`: a first sync into the postgres and mysql destination types beside
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
import { ms, pass } from './cells.js';
import { timed, warehouse } from './fixtures.js';
import { bareRows, must } from './measures.js';
import type { Row } from './baselines.js';

const PG_URL = process.env['SYNCLINE_BENCH_POSTGRES_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const MYSQL_URL = process.env['SYNCLINE_BENCH_MYSQL_URL'] ?? 'mysql://root@127.0.0.1:3306';
const ingestOptions = { checkDestination: () => [], maxProblems: 20, chunkSize: 5000 };
/** Rows per multi-row INSERT of the bare loops: the size syncline's runs apply at once. */
const PER_STATEMENT = 500;

type Target = {
  readonly name: 'postgres' | 'mysql';
  readonly options: Record<string, unknown>;
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
    await admin.query(`CREATE TABLE "${schema}".bare (LIKE "${schema}".customers INCLUDING ALL)`);
    await admin.query(
      `CREATE TABLE "${schema}".bare_groups (LIKE "${schema}".customers_groups INCLUDING ALL)`,
    );
  };
  return {
    name: 'postgres',
    options: { connection: { env: 'BENCH_PG_URL' }, schema, table: 'customers' },
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
    options: { connection: { env: 'BENCH_MYSQL_URL' }, table: 'customers' },
    env: { ...process.env, BENCH_MYSQL_URL: `${MYSQL_URL}/${database}` },
    bare: async (rows) => {
      await admin.query(`DROP TABLE IF EXISTS \`${database}\`.bare, \`${database}\`.bare_groups`);
      await admin.query(`CREATE TABLE \`${database}\`.bare LIKE \`${database}\`.customers`);
      await admin.query(`CREATE TABLE \`${database}\`.bare_groups LIKE \`${database}\`.customers_groups`);
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
  readonly target: Target;
  readonly id: string;
  readonly destination: Destination;
  readonly created: number;
  readonly firstMs: number;
  readonly bareMs: number;
  readonly copyMs?: number;
};

/** A first sync into `target`, beside the bare loop (and COPY) writing the same rows. */
const firstSync = async (
  dir: string,
  store: EventStore,
  state: EngineState,
  target: Target,
): Promise<Synced> => {
  const config = must(
    resolveDestination({
      ...warehouse('unused'),
      destinationId: `bench-${target.name}`,
      type: target.name,
      options: target.options,
    }),
    'config',
  ).config;
  must(await applyConfig(store, state, [config], false), 'apply');
  const destination = await openDestination(config, target.env);
  const first = await timed(() =>
    syncDestination(store, state, config.destinationId, destination, defaultSyncOptions),
  );
  const created = must(first.value, 'first sync').totals.created;
  process.stderr.write(`bench: first sync into ${target.name}: ${first.ms.toFixed(0)} ms\n`);
  const rows = bareRows(state, config);
  const bare = await timed(() => target.bare(rows));
  const copy = target.copy === undefined ? undefined : await timed(() => target.copy?.(rows, dir));
  return {
    target,
    id: config.destinationId,
    destination,
    created,
    firstMs: first.ms,
    bareMs: bare.ms,
    ...(copy === undefined ? {} : { copyMs: copy.ms }),
  };
};

/** The two rows of a target: its first sync beside the bare loop, and its sync after 1% changed. */
const rowsOf = (s: Synced, againMs: number): string[][] => {
  const ratio = s.firstMs / s.bareMs;
  const copy = s.copyMs === undefined ? '' : `; COPY ${ms(s.copyMs)} (${(s.firstMs / s.copyMs).toFixed(2)}×)`;
  return [
    [
      `first sync into ${s.target.name} (${s.created} created, ${Math.round(s.created / (s.firstMs / 1000))} profiles/s)`,
      ms(s.firstMs),
      `${ms(s.bareMs)} of multi-row inserts${copy}`,
      `${ratio.toFixed(2)}×`,
      '≤ 2.5×',
      pass(ratio <= 2.5),
    ],
    [
      `sync into ${s.target.name} after 1% changed`,
      ms(againMs),
      ms(s.firstMs),
      `${((againMs / s.firstMs) * 100).toFixed(1)}%`,
      '≤ 5%',
      pass(againMs / s.firstMs <= 0.05),
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
    const synced: Synced[] = [];
    for (const target of targets) synced.push(await firstSync(dir, store, state, target));
    // One round of changes, then each destination synced again, as a cron job would.
    const round = changes(profiles, 0.01, 42, 0);
    const changeFile = join(dir, 'changes.jsonl');
    writeFileSync(changeFile, round.events.map((e) => JSON.stringify(e)).join('\n'));
    must(await ingest(store, state, () => fileBytes(changeFile), ingestOptions), 'ingest changes');
    for (const s of synced) {
      const again = await timed(() => syncDestination(store, state, s.id, s.destination, defaultSyncOptions));
      must(again.value, 'sync after 1%');
      process.stderr.write(`bench: sync into ${s.target.name} after 1% changed: ${again.ms.toFixed(0)} ms\n`);
      await s.destination.close();
      rows.push(...rowsOf(s, again.ms));
    }
  } finally {
    for (const target of targets) await target.drop();
  }
  await store.close();
  return rows;
};
