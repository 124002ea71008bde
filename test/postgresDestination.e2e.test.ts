// The operator's main job end to end with the built CLI on postgres destinations: three modes, two
// rounds (a rename that keeps unmanaged tags, a leaver, a deletion, a newcomer), enrich over rows and
// a tag that were there before, a row a trigger refuses until its profile is fixed; read row by row in
// SQL. Also `describe postgres` and `validate`. The connection URL, with a password, comes from a variable.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunSummary } from '../engine/sync/summary.js';
import { runCli, tempDir, type CliResult } from './support/cli.js';
import { dropSchemas, freshSchema, onServer, POSTGRES_URL, postgresAnswers } from './support/postgres.js';

const NO_CREATE = 'Destination sync mode does not allow creating new profiles';
const PASSWORD = 'pw-Never-Shown-42';
/** The server trusts local connections: the password is there only to be looked for in what syncline prints and stores. */
const withPassword = (url: string): string => {
  const u = new URL(url);
  u.password = PASSWORD;
  return u.toString();
};

const pad = (n: number): string => String(n).padStart(2, '0');
const email = (n: number): string => `p${pad(n)}@example.com`;
const range = (from: number, to: number): number[] =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i);
const row = (n: number, changes: Record<string, unknown> = {}) => ({
  email: email(n),
  first_name: `Name ${pad(n)}`,
  ltv: n * 100,
  ...changes,
});
const groupRows = (ns: readonly number[], name: string, key = email) =>
  ns.map((n) => ({ record_key: key(n), group_name: name }));
const byText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const sortGroups = (rows: { record_key: string; group_name: string }[]) =>
  rows.sort((a, b) => byText(a.record_key, b.record_key) || byText(a.group_name, b.group_name));
const byEmail = (a: { email: string }, b: { email: string }) => byText(a.email, b.email);

const event = (type: string, data: Record<string, unknown>) => ({ id: randomUUID(), type, data });
const jsonl = (events: readonly unknown[]): string => events.map((e) => JSON.stringify(e)).join('\n') + '\n';

const FIRST_ROUND = [
  event('GroupCreated', { groupId: 'customers', name: 'Customers' }),
  event('GroupCreated', { groupId: 'vip', name: 'VIP' }),
  ...range(1, 20).map((n) =>
    event('ProfileCreated', {
      profileId: `p${pad(n)}`,
      properties: { email: email(n), firstName: `Name ${pad(n)}`, ltv: n * 100 },
    }),
  ),
  ...range(1, 16).map((n) => event('ProfileJoinedGroup', { groupId: 'customers', profileId: `p${pad(n)}` })),
  ...range(1, 5).map((n) => event('ProfileJoinedGroup', { groupId: 'vip', profileId: `p${pad(n)}` })),
];
// p03 changes email (a rename), p04 leaves vip, p05 leaves the collection, p06 is deleted, p07 is
// renamed in person, and p21 arrives as a customer with a name the warehouse's trigger refuses.
const SECOND_ROUND = [
  event('ProfilePropertiesChanged', { profileId: 'p03', set: { email: 'p03@new.example' } }),
  event('ProfileLeftGroup', { groupId: 'vip', profileId: 'p04' }),
  event('ProfileLeftGroup', { groupId: 'customers', profileId: 'p05' }),
  event('ProfileDeleted', { profileId: 'p06' }),
  event('ProfilePropertiesChanged', { profileId: 'p07', set: { firstName: 'Renamed 07' } }),
  event('ProfileCreated', {
    profileId: 'p21',
    properties: { email: email(21), firstName: 'REFUSED', ltv: 2100 },
  }),
  event('ProfileJoinedGroup', { groupId: 'customers', profileId: 'p21' }),
];
const FIX = [event('ProfilePropertiesChanged', { profileId: 'p21', set: { firstName: 'Name 21' } })];

describe.skipIf(!postgresAnswers)('syncline end to end on postgres destinations', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  const schema = freshSchema();
  const env = { PG_URL: withPassword(POSTGRES_URL) };
  const cli = (...args: string[]): Promise<CliResult> => runCli(args, { cwd: dir.path, env });
  const ok = async (...args: string[]): Promise<unknown> => {
    const r = await cli(...args, '--json');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain(PASSWORD);
    return JSON.parse(r.stdout);
  };
  const destination = (destinationId: string, syncMode: string) => ({
    destinationId,
    type: 'postgres',
    syncMode,
    collection: { kind: 'group', groupId: 'customers' },
    keyField: 'email',
    mapping: { email: 'email', first_name: 'firstName', ltv: 'ltv' },
    groupMapping: { customers: 'Customers', vip: 'VIP' },
    options: { connection: { env: 'PG_URL' }, schema, table: destinationId },
  });
  const tables = async (table: string) => ({
    rows: await onServer(
      `SELECT email, first_name, ltv FROM "${schema}"."${table}" ORDER BY email COLLATE "C"`,
    ),
    groups: await onServer(
      `SELECT record_key, group_name FROM "${schema}"."${table}_groups" ORDER BY record_key COLLATE "C", group_name COLLATE "C"`,
    ),
  });

  beforeAll(async () => {
    dir = await tempDir();
    await dir.write('syncline.config.json', {
      store: 'sqlite:events.db',
      destinations: [
        destination('warehouse', 'sync'),
        destination('mailing', 'additive'),
        destination('crm', 'enrich'),
      ],
    });
    await dir.write('round1.jsonl', jsonl(FIRST_ROUND));
    await dir.write('round2.jsonl', jsonl(SECOND_ROUND));
    await dir.write('fix.jsonl', jsonl(FIX));
    // The warehouse's own trigger refuses a name; the CRM's table is typed, holds two customers
    // (each tagged Partner by someone else) and a contact syncline knows nothing of.
    await onServer(`CREATE SCHEMA "${schema}";
      CREATE TABLE "${schema}".warehouse (email text PRIMARY KEY, first_name jsonb, ltv jsonb);
      CREATE FUNCTION "${schema}".refuse() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN IF NEW.first_name = '"REFUSED"'::jsonb THEN RAISE EXCEPTION 'the warehouse refuses that name'; END IF; RETURN NEW; END $$;
      CREATE TRIGGER refuse BEFORE INSERT OR UPDATE ON "${schema}".warehouse FOR EACH ROW EXECUTE FUNCTION "${schema}".refuse();
      CREATE TABLE "${schema}".crm (email text PRIMARY KEY, first_name text, ltv integer);
      CREATE TABLE "${schema}".crm_groups (record_key text NOT NULL, group_name text NOT NULL, PRIMARY KEY (record_key, group_name));
      INSERT INTO "${schema}".crm VALUES ('p03@example.com', 'Old', NULL), ('p05@example.com', 'Old', NULL), ('stranger@example.com', 'Stranger', 1);
      INSERT INTO "${schema}".crm_groups VALUES ('p03@example.com', 'Partner'), ('p05@example.com', 'Partner'), ('stranger@example.com', 'Partner');`);
  });
  afterAll(async () => {
    await dir.remove();
    await dropSchemas();
  });

  it('given the config, when validated, then the server answers and the tables fit, and nothing is created', async () => {
    expect(await ok('validate')).toMatchObject({ valid: true });
    expect(
      await onServer(`SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1`, [
        schema,
      ]),
    ).toEqual([{ table_name: 'crm' }, { table_name: 'crm_groups' }, { table_name: 'warehouse' }]);
  });

  it('when applied, ingested and synced, then sync and additive create the customers and enrich only updates what exists', async () => {
    await ok('apply');
    await ok('ingest', 'round1.jsonl');
    const r = (await ok('sync')) as { destinations: RunSummary[] };
    expect(
      r.destinations.map(({ destinationId, totals: t }) => [
        destinationId,
        t.created,
        t.updated,
        t.skipped,
        t.failed,
      ]),
    ).toEqual([
      ['warehouse', 16, 0, {}, 0],
      ['mailing', 16, 0, {}, 0],
      ['crm', 0, 2, { [NO_CREATE]: 14 }, 0],
    ]);
    const customers = range(1, 16);
    const created = {
      rows: customers.map((n) => row(n)),
      groups: sortGroups([...groupRows(customers, 'Customers'), ...groupRows(range(1, 5), 'VIP')]),
    };
    expect(await tables('warehouse')).toEqual(created);
    expect(await tables('mailing')).toEqual(created);
    expect(await tables('crm')).toEqual({
      rows: [row(3), row(5), { email: 'stranger@example.com', first_name: 'Stranger', ltv: 1 }],
      groups: sortGroups([
        ...groupRows([3, 5], 'Customers'),
        ...groupRows([3, 5], 'Partner'),
        ...groupRows([3, 5], 'VIP'),
        { record_key: 'stranger@example.com', group_name: 'Partner' },
      ]),
    });
  });

  it('given nothing changed, when synced with --full, then every value reads back as written and nothing is decided', async () => {
    const r = (await ok('sync', '--full')) as { destinations: RunSummary[] };
    for (const d of r.destinations)
      expect(d.totals).toMatchObject({ created: 0, updated: 0, deleted: 0, failed: 0 });
  });

  it('when the changes are synced, then each mode treats leavers, renames and deletions its own way, and the refused row fails alone', async () => {
    await ok('ingest', 'round2.jsonl');
    const failing = await cli('sync', '--json');
    expect([failing.code, failing.stderr]).toEqual([
      1,
      'syncline: 1 command failed in warehouse; see syncline log, then syncline retry\n',
    ]);
    const r = JSON.parse(failing.stdout) as { destinations: RunSummary[] };
    expect(
      r.destinations.map(({ destinationId, totals: t }) => [
        destinationId,
        t.created,
        t.updated,
        t.deleted,
        t.skipped,
        t.failed,
      ]),
    ).toEqual([
      ['warehouse', 0, 3, 2, {}, 1],
      ['mailing', 1, 5, 0, {}, 0],
      ['crm', 0, 2, 0, { [NO_CREATE]: 3 }, 0],
    ]);
    expect(JSON.stringify(r.destinations[0]?.failures)).toContain('the warehouse refuses that name');
    const renamed = (n: number) => (n === 3 ? 'p03@new.example' : email(n));
    const adjust = (n: number) =>
      row(n, {
        ...(n === 3 ? { email: 'p03@new.example' } : {}),
        ...(n === 7 ? { first_name: 'Renamed 07' } : {}),
        ...(n === 21 ? { first_name: 'REFUSED' } : {}),
      });
    const kept = [...range(1, 4), ...range(7, 16)];
    expect(await tables('warehouse')).toEqual({
      rows: kept.map(adjust).sort(byEmail),
      groups: sortGroups([...groupRows(kept, 'Customers', renamed), ...groupRows([1, 2, 3], 'VIP', renamed)]),
    });
    expect(await tables('mailing')).toEqual({
      rows: [...range(1, 16), 21].map(adjust).sort(byEmail),
      groups: sortGroups([
        ...groupRows([...kept, 21], 'Customers', renamed),
        ...groupRows([1, 2, 3], 'VIP', renamed),
      ]),
    });
    // enrich: p03 renamed in place with its Partner tag; p05 loses the managed groups only; no p21.
    expect(await tables('crm')).toEqual({
      rows: [
        { email: 'p03@new.example', first_name: 'Name 03', ltv: 300 },
        row(5),
        { email: 'stranger@example.com', first_name: 'Stranger', ltv: 1 },
      ],
      groups: sortGroups([
        ...groupRows([3], 'Customers', renamed),
        ...groupRows([3], 'Partner', renamed),
        ...groupRows([3], 'VIP', renamed),
        { record_key: 'p05@example.com', group_name: 'Partner' },
        { record_key: 'stranger@example.com', group_name: 'Partner' },
      ]),
    });
  });

  it('given the refused profile is fixed, when synced, then the warehouse converges', async () => {
    await ok('ingest', 'fix.jsonl');
    const r = (await ok('sync')) as { destinations: RunSummary[] };
    expect(r.destinations[0]?.totals).toMatchObject({ created: 1, failed: 0 });
    expect(
      await onServer(`SELECT email, first_name, ltv FROM "${schema}".warehouse WHERE email = $1`, [
        email(21),
      ]),
    ).toEqual([row(21)]);
    const again = (await ok('sync', '--full')) as { destinations: RunSummary[] };
    for (const d of again.destinations)
      expect(d.totals).toMatchObject({ created: 0, updated: 0, deleted: 0, failed: 0 });
  });

  it('then the password is nowhere in the store', () => {
    expect(readFileSync(join(dir.path, 'events.db')).includes(PASSWORD)).toBe(false);
  });
});

describe.skipIf(!postgresAnswers)('syncline describe postgres and validate', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  beforeAll(async () => {
    dir = await tempDir();
  });
  afterAll(() => dir.remove());
  const config = (options: Record<string, unknown>) =>
    dir.write('syncline.config.json', {
      destinations: [
        {
          destinationId: 'wh',
          type: 'postgres',
          collection: { kind: 'all' },
          keyField: 'email',
          mapping: { email: 'email', plan: 'plan' },
          options,
        },
      ],
    });

  it('when described, then it lists the three modes, sync the default, its options and the column types it chooses', async () => {
    const r = await runCli(['describe', 'postgres', '--json']);
    expect(r.code).toBe(0);
    const d = JSON.parse(r.stdout) as {
      modes: { name: string; default: boolean }[];
      options: { name: string }[];
      description: string;
    };
    expect(d.modes.map((m) => [m.name, m.default])).toEqual([
      ['sync', true],
      ['additive', false],
      ['enrich', false],
    ]);
    expect(d.options.map((o) => o.name)).toEqual(['connection', 'schema', 'table', 'groupsTable']);
    expect(d.description).toContain('jsonb');
  });

  it('given a server that refuses connections, when validated, then it fails with a clear message without the password', async () => {
    await config({ connection: { env: 'PG_URL' }, table: 'contacts' });
    const r = await runCli(['validate'], {
      cwd: dir.path,
      env: { PG_URL: `postgres://postgres:${PASSWORD}@127.0.0.1:1/postgres` },
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      'destination wh: cannot reach PostgreSQL at options.connection (from env PG_URL)',
    );
    expect(r.stderr).toContain('ECONNREFUSED');
    expect(r.stderr + r.stdout).not.toContain(PASSWORD);
  });

  it('given a table without a mapped column, when validated, then it names table and column and alters nothing', async () => {
    const schema = freshSchema();
    await onServer(`CREATE SCHEMA "${schema}"; CREATE TABLE "${schema}".contacts (email text PRIMARY KEY)`);
    await config({ connection: POSTGRES_URL, schema, table: 'contacts' });
    const r = await runCli(['validate'], { cwd: dir.path });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('destination wh: table contacts has no column plan');
    expect(
      await onServer(`SELECT table_name FROM information_schema.tables WHERE table_schema = $1`, [schema]),
    ).toEqual([{ table_name: 'contacts' }]);
    await dropSchemas();
  });

  it('given a literal connection URL with a password, when validated, then it is refused without repeating it', async () => {
    await config({ connection: withPassword(POSTGRES_URL), table: 'contacts' });
    const r = await runCli(['validate'], { cwd: dir.path });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('options.connection: holds a password');
    expect(r.stderr).not.toContain(PASSWORD);
  });
});
