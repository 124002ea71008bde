// End-to-end tests of `syncline demo --destinations postgres://…|mysql://…`: the built CLI, its tables
// read back with SQL and compared with what the SQLite demo's files hold after the same two rounds.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempDir, type CliResult } from './support/cli.js';
import { dropMysqlDatabase, freshMysqlDatabase, mysqlAnswers, onMysql } from './support/mysql.js';
import {
  dropSchemas,
  freshSchema,
  onServer,
  POSTGRES_URL,
  postgresAnswers,
  postgresStoreUrl,
} from './support/postgres.js';

type Totals = Record<string, unknown>;
type Report = {
  runs: { phase: string; destinations: { destinationId: string; totals: Totals }[] }[];
  tables: { destinationId: string; table: string; rows: number; tagged: number }[];
};

const TABLES = { warehouse: 'customers', newsletter: 'subscribers', crm: 'contacts' } as const;

/** What a report says, without what differs from run to run (ids, times, where): per destination. */
const counts = (r: Report) => ({
  runs: r.runs.map((run) => run.destinations.map((d) => [d.destinationId, d.totals])),
  tables: r.tables.map((t) => [t.destinationId, t.table, t.rows, t.tagged]),
});

const demoJson = async (cwd: string, args: readonly string[]): Promise<Report> => {
  const r = await runCli(['demo', ...args, '--json'], { cwd });
  expect([r.code, r.stderr]).toEqual([0, '']);
  return JSON.parse(r.stdout) as Report;
};

/** The commands under "Try next:", without their `# why` comments. */
const tryNext = (stdout: string): string[] => {
  const lines = stdout.split('\n');
  const after = lines.slice(lines.indexOf('Try next:') + 1);
  return after
    .slice(
      0,
      after.findIndex((l) => l.trim() === ''),
    )
    .map((l) => l.replace(/\s+# .*$/, '').trim());
};

/** A command line as a person types it into a POSIX shell, from `cwd`. */
const typed = (command: string, cwd: string): Promise<CliResult> =>
  new Promise((resolve) => {
    const env: NodeJS.ProcessEnv = { ...process.env };
    delete env.SYNCLINE_STORE;
    execFile(
      'sh',
      ['-c', command],
      { cwd, env, encoding: 'utf8', timeout: 60_000 },
      (error, stdout, stderr) =>
        resolve({
          code: error === null ? 0 : typeof error.code === 'number' ? error.code : -1,
          stdout,
          stderr,
        }),
    );
  });

/** Each printed command, typed after the printed `cd`, exits 0 without a complaint. */
const expectHintsWork = async (stdout: string, cwd: string, type: string): Promise<void> => {
  const [cd, ...commands] = tryNext(stdout);
  expect(cd).toMatch(/^cd /);
  expect(commands.at(-1)).toMatch(new RegExp(`describe ${type}$`));
  for (const command of commands) {
    const r = await typed(`${cd ?? ''} && ${command}`, cwd);
    expect([command, r.code, r.stderr]).toStrictEqual([command, 0, '']);
  }
};

const anyServer = postgresAnswers || mysqlAnswers;
let tmp: Awaited<ReturnType<typeof tempDir>>;
/** The SQLite demo's report: what every server's tables must hold as well. */
let sqlite: ReturnType<typeof counts>;

beforeAll(async () => {
  tmp = await tempDir();
  if (anyServer) sqlite = counts(await demoJson(tmp.path, ['sqlite']));
}, 120_000);
afterAll(() => tmp.remove());

describe.skipIf(!postgresAnswers)('syncline demo --destinations postgres://…', () => {
  const schema = freshSchema();
  const url = postgresStoreUrl(schema);
  const q = (table: string) => `"${schema}"."${table}"`;
  afterAll(() => dropSchemas());

  it('given a fresh schema, when the demo runs there, then its tables hold what the SQLite demo files hold', async () => {
    const report = await demoJson(tmp.path, ['pg', '--destinations', url]);
    expect(counts(report)).toEqual(sqlite);
    for (const t of report.tables) expect(t).toMatchObject({ schema, database: POSTGRES_URL });
    for (const [id, table] of Object.entries(TABLES)) {
      const [row] = await onServer<{ rows: string; tagged: string }>(
        `SELECT (SELECT count(*) FROM ${q(table)}) AS rows,
                (SELECT count(*) FROM ${q(`${table}_groups`)} WHERE group_name = 'Partner') AS tagged`,
      );
      const expected = sqlite.tables.find(([d]) => d === id);
      expect([id, table, Number(row?.rows), Number(row?.tagged)]).toEqual(expected);
    }
    // the DIR's config names the server and the schema, and its store stays in DIR
    const config = JSON.parse(readFileSync(join(tmp.path, 'pg', 'syncline.config.json'), 'utf8')) as {
      store: string;
      destinations: { type: string; options: Record<string, unknown> }[];
    };
    expect(config.store).toBe('sqlite:events.db');
    for (const d of config.destinations) {
      expect(d.type).toBe('postgres');
      expect(d.options).toMatchObject({ connection: POSTGRES_URL, schema });
    }
  }, 120_000);

  it('given an earlier demo in the schema, when the demo runs again, then it recreates the tables and every Try next command works as printed', async () => {
    await onServer(`CREATE TABLE ${q('left_over')} (v text)`);
    const again = await runCli(['demo', 'pg2', '--destinations', url], { cwd: tmp.path });
    expect([again.code, again.stderr]).toEqual([0, '']);
    const [row] = await onServer<{ n: string }>(`SELECT count(*) AS n FROM ${q('contacts')}`);
    expect(Number(row?.n)).toBe(sqlite.tables.find(([d]) => d === 'crm')?.[2]);
    const left = await onServer(`SELECT 1 FROM pg_tables WHERE schemaname = $1 AND tablename = 'left_over'`, [
      schema,
    ]);
    expect(left).toEqual([]);
    await expectHintsWork(again.stdout, tmp.path, 'postgres');
  }, 180_000);

  it('given a schema the demo did not make, when the demo is pointed at it, then it refuses and touches nothing', async () => {
    const theirs = freshSchema();
    await onServer(
      `CREATE SCHEMA "${theirs}"; CREATE TABLE "${theirs}".mine (v text); INSERT INTO "${theirs}".mine VALUES ('precious')`,
    );
    const r = await runCli(['demo', 'pg3', '--destinations', postgresStoreUrl(theirs)], { cwd: tmp.path });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(
      new RegExp(
        `^syncline: the schema ${theirs} of postgres://\\S+ already holds mine and is not the demo's`,
      ),
    );
    expect(await onServer(`SELECT tablename FROM pg_tables WHERE schemaname = $1`, [theirs])).toEqual([
      { tablename: 'mine' },
    ]);
    expect(await onServer(`SELECT v FROM "${theirs}".mine`)).toEqual([{ v: 'precious' }]);
    expect(existsSync(join(tmp.path, 'pg3'))).toBe(false);
  });

  it('given a URL with a password, when the demo runs, then the config names a variable instead and nothing it writes holds the password', async () => {
    const secret = 'pw-only-in-the-url';
    const withPassword = new URL(POSTGRES_URL);
    withPassword.password = secret;
    withPassword.searchParams.set('schema', freshSchema());
    const r = await runCli(['demo', 'pg4', '--destinations', withPassword.toString()], { cwd: tmp.path });
    expect([r.code, r.stderr]).toEqual([0, '']);
    expect(r.stdout).not.toContain(secret);
    expect(r.stdout).toContain('set SYNCLINE_DEMO_DESTINATIONS to the URL you gave --destinations');
    const config = readFileSync(join(tmp.path, 'pg4', 'syncline.config.json'), 'utf8');
    const named = JSON.parse(config) as { destinations: { options: { connection: unknown } }[] };
    for (const d of named.destinations)
      expect(d.options.connection).toEqual({ env: 'SYNCLINE_DEMO_DESTINATIONS' });
    for (const file of readdirSync(join(tmp.path, 'pg4')))
      expect([file, readFileSync(join(tmp.path, 'pg4', file)).includes(secret)]).toEqual([file, false]);
  }, 120_000);
});

describe.skipIf(!mysqlAnswers)('syncline demo --destinations mysql://…', () => {
  const made: string[] = [];
  let db: { name: string; url: string };
  beforeAll(async () => {
    db = await freshMysqlDatabase();
    made.push(db.name);
  });
  afterAll(async () => {
    for (const name of made) await dropMysqlDatabase(name);
  });

  it('given a fresh database, when the demo runs there, then its tables hold what the SQLite demo files hold', async () => {
    const report = await demoJson(tmp.path, ['my', '--destinations', db.url]);
    expect(counts(report)).toEqual(sqlite);
    for (const [id, table] of Object.entries(TABLES)) {
      const [row] = await onMysql<{ rows: number; tagged: number }>(
        `SELECT (SELECT count(*) FROM \`${table}\`) AS \`rows\`,
                (SELECT count(*) FROM \`${table}_groups\` WHERE group_name = 'Partner') AS tagged`,
        [],
        db.name,
      );
      expect([id, table, Number(row?.rows), Number(row?.tagged)]).toEqual(
        sqlite.tables.find(([d]) => d === id),
      );
    }
    const config = readFileSync(join(tmp.path, 'my', 'syncline.config.json'), 'utf8');
    expect(config).toContain(`"connection": "${db.url}"`);
  }, 120_000);

  it('given an earlier demo in the database, when the demo runs again, then it recreates the tables and every Try next command works as printed', async () => {
    await onMysql('CREATE TABLE left_over (v TEXT)', [], db.name);
    const again = await runCli(['demo', 'my2', '--destinations', db.url], { cwd: tmp.path });
    expect([again.code, again.stderr]).toEqual([0, '']);
    const [row] = await onMysql<{ n: number }>('SELECT count(*) AS n FROM contacts', [], db.name);
    expect(Number(row?.n)).toBe(sqlite.tables.find(([d]) => d === 'crm')?.[2]);
    const tables = await onMysql<{ name: string }>(
      'SELECT TABLE_NAME AS name FROM information_schema.TABLES WHERE TABLE_SCHEMA = ?',
      [db.name],
    );
    expect(tables.map((t) => t.name)).not.toContain('left_over');
    await expectHintsWork(again.stdout, tmp.path, 'mysql');
  }, 180_000);

  it('given a database the demo did not make, when the demo is pointed at it, then it refuses and touches nothing', async () => {
    const theirs = await freshMysqlDatabase();
    made.push(theirs.name);
    await onMysql('CREATE TABLE mine (v TEXT)', [], theirs.name);
    await onMysql("INSERT INTO mine VALUES ('precious')", [], theirs.name);
    const r = await runCli(['demo', 'my3', '--destinations', theirs.url], { cwd: tmp.path });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(
      /^syncline: the database mysql:\/\/\S+ already holds mine and is not the demo's/,
    );
    const tables = await onMysql<{ name: string }>(
      'SELECT TABLE_NAME AS name FROM information_schema.TABLES WHERE TABLE_SCHEMA = ?',
      [theirs.name],
    );
    expect(tables.map((t) => t.name)).toEqual(['mine']);
    expect(await onMysql('SELECT v FROM mine', [], theirs.name)).toEqual([{ v: 'precious' }]);
    expect(existsSync(join(tmp.path, 'my3'))).toBe(false);
  });
});
