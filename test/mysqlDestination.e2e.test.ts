// The operator's job end to end with the built CLI into MySQL: three destinations (one per mode) in
// one database, two rounds of changes, the tables checked row by row with SQL after each sync.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempDir, type CliResult } from './support/cli.js';
import { dropMysqlDatabase, freshMysqlDatabase, mysqlAnswers, onMysql } from './support/mysql.js';

const NO_CREATE = 'Destination sync mode does not allow creating new profiles';
const ENV = 'SYNCLINE_E2E_MYSQL';

const destination = (destinationId: string, syncMode: string) => ({
  destinationId,
  type: 'mysql',
  syncMode,
  collection: { kind: 'group', groupId: 'customers' },
  keyField: 'email',
  mapping: { email: 'email', first_name: 'firstName', ltv: 'ltv' },
  groupMapping: { customers: 'Customers', vip: 'VIP' },
  options: { connection: { env: ENV }, table: destinationId },
});
const CONFIG = {
  destinations: [
    destination('warehouse', 'sync'),
    destination('mailing', 'additive'),
    destination('crm', 'enrich'),
  ],
};

const pad = (n: number): string => String(n).padStart(2, '0');
const email = (n: number): string => `p${pad(n)}@example.com`;
const row = (n: number, changes: Record<string, unknown> = {}) => ({
  email: email(n),
  first_name: `Name ${pad(n)}`,
  ltv: n * 100,
  ...changes,
});
const byText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const range = (from: number, to: number): number[] =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i);
const groupRows = (ns: readonly number[], name: string, key = email) =>
  ns.map((n) => ({ record_key: key(n), group_name: name }));
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
// renamed in person, and p21 arrives as a customer.
const SECOND_ROUND = [
  event('ProfilePropertiesChanged', { profileId: 'p03', set: { email: 'p03@new.example' } }),
  event('ProfileLeftGroup', { groupId: 'vip', profileId: 'p04' }),
  event('ProfileLeftGroup', { groupId: 'customers', profileId: 'p05' }),
  event('ProfileDeleted', { profileId: 'p06' }),
  event('ProfilePropertiesChanged', { profileId: 'p07', set: { firstName: 'Renamed 07' } }),
  event('ProfileCreated', {
    profileId: 'p21',
    properties: { email: email(21), firstName: 'Name 21', ltv: 2100 },
  }),
  event('ProfileJoinedGroup', { groupId: 'customers', profileId: 'p21' }),
];

/** A JSON column's text, as the value it holds. */
const json = (cell: unknown): unknown => JSON.parse(String(cell));

describe.skipIf(!mysqlAnswers)('syncline end to end into MySQL: three modes, two rounds', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let db: { name: string; url: string };
  const cli = (...args: string[]): Promise<CliResult> =>
    runCli(args, { cwd: dir.path, env: { [ENV]: db.url } });
  const ok = async (...args: string[]): Promise<unknown> => {
    const r = await cli(...args, '--json');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    return JSON.parse(r.stdout);
  };
  const tables = async (table: string) => {
    // CAST(… AS CHAR): a JSON column's own text on both servers (mysql2 may parse JSON columns itself).
    const rows = await onMysql(
      table === 'crm'
        ? 'SELECT email, first_name, ltv FROM crm'
        : `SELECT email, CAST(first_name AS CHAR) AS first_name, CAST(ltv AS CHAR) AS ltv FROM \`${table}\``,
      [],
      db.name,
    );
    const groups = await onMysql<{ record_key: string; group_name: string }>(
      `SELECT record_key, group_name FROM \`${table}_groups\``,
      [],
      db.name,
    );
    const typed = table === 'crm';
    return {
      rows: rows
        .map((r) => ({
          email: r['email'] as string,
          first_name: typed ? r['first_name'] : json(r['first_name']),
          ltv: typed ? r['ltv'] : json(r['ltv']),
        }))
        .sort(byEmail),
      groups: sortGroups(groups.map((g) => ({ record_key: g.record_key, group_name: g.group_name }))),
    };
  };
  const totals = (r: unknown) =>
    (r as { destinations: { destinationId: string; totals: Record<string, unknown> }[] }).destinations.map(
      (d) => [d.destinationId, d.totals],
    );

  beforeAll(async () => {
    dir = await tempDir();
    db = await freshMysqlDatabase();
    await dir.write('syncline.config.json', CONFIG);
    await dir.write('round1.jsonl', jsonl(FIRST_ROUND));
    await dir.write('round2.jsonl', jsonl(SECOND_ROUND));
    // The CRM's own typed tables already hold two of the customers, each tagged 'Partner' by someone
    // else, and a contact syncline knows nothing of.
    for (const statement of [
      `CREATE TABLE crm (email VARCHAR(255) COLLATE utf8mb4_bin PRIMARY KEY, first_name VARCHAR(100), ltv INT)`,
      `CREATE TABLE crm_groups (record_key VARCHAR(255) COLLATE utf8mb4_bin NOT NULL,
         group_name VARCHAR(100) COLLATE utf8mb4_bin NOT NULL, PRIMARY KEY (record_key, group_name))`,
      `INSERT INTO crm VALUES ('p03@example.com', 'Old', NULL), ('p05@example.com', 'Old', NULL), ('stranger@example.com', 'Stranger', 1)`,
      `INSERT INTO crm_groups VALUES ('p03@example.com', 'Partner'), ('p05@example.com', 'Partner'), ('stranger@example.com', 'Partner')`,
    ])
      await onMysql(statement, [], db.name);
  });
  afterAll(async () => {
    await dir?.remove();
    if (db !== undefined) await dropMysqlDatabase(db.name);
  });

  it('given the config, when validated, applied and ingested, then every destination is checked and nothing is created', async () => {
    expect(await ok('validate')).toMatchObject({ valid: true });
    expect(await ok('apply')).toMatchObject({ added: ['warehouse', 'mailing', 'crm'] });
    expect(await ok('ingest', 'round1.jsonl')).toEqual({ lines: 43, appended: 43, duplicates: 0 });
    const plan = await cli('plan', '--json');
    expect(plan.code).toBe(0);
    const names = await onMysql(
      'SELECT TABLE_NAME AS t FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? ORDER BY TABLE_NAME',
      [db.name],
    );
    expect(names.map((n) => n['t'])).toEqual(['crm', 'crm_groups']);
  });

  it('when synced, then sync and additive create the customers and enrich only updates what exists', async () => {
    const counts = { updated: 0, deleted: 0, skipped: {}, failed: 0, unchanged: 4 };
    expect(totals(await ok('sync'))).toEqual([
      ['warehouse', { ...counts, created: 16 }],
      ['mailing', { ...counts, created: 16 }],
      ['crm', { ...counts, created: 0, updated: 2, skipped: { [NO_CREATE]: 14 } }],
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

  it('given nothing changed, when synced again in full, then nothing is decided: lookup reads back what apply wrote', async () => {
    const r = (await ok('sync', '--full')) as { destinations: { totals: Record<string, unknown> }[] };
    for (const d of r.destinations)
      expect(d.totals).toMatchObject({ created: 0, updated: 0, deleted: 0, failed: 0 });
  });

  it('when the second round is synced, then each mode treats leavers, renames and deletions its own way', async () => {
    expect(await ok('ingest', 'round2.jsonl')).toEqual({ lines: 7, appended: 7, duplicates: 0 });
    const r = (await ok('sync')) as {
      destinations: { destinationId: string; totals: Record<string, unknown> }[];
    };
    expect(
      r.destinations.map(({ destinationId, totals: t }) => [
        destinationId,
        t['created'],
        t['updated'],
        t['deleted'],
        t['skipped'],
      ]),
    ).toEqual([
      ['warehouse', 1, 3, 2, {}],
      ['mailing', 1, 5, 0, {}],
      ['crm', 0, 2, 0, { [NO_CREATE]: 3 }],
    ]);
    const renamed = (n: number) => (n === 3 ? 'p03@new.example' : email(n));
    const adjust = (n: number) =>
      row(n, {
        ...(n === 3 ? { email: 'p03@new.example' } : {}),
        ...(n === 7 ? { first_name: 'Renamed 07' } : {}),
      });
    const kept = [...range(1, 4), ...range(7, 16), 21];
    const groups = () =>
      sortGroups([...groupRows(kept, 'Customers', renamed), ...groupRows([1, 2, 3], 'VIP', renamed)]);
    // sync: the leaver (p05) and the deleted profile (p06) are gone; p21 is created.
    expect(await tables('warehouse')).toEqual({ rows: kept.map(adjust).sort(byEmail), groups: groups() });
    // additive: p05 and p06 stay, out of every managed group.
    expect(await tables('mailing')).toEqual({
      rows: [...range(1, 16), 21].map(adjust).sort(byEmail),
      groups: groups(),
    });
    // enrich: p03 renamed in place with its unmanaged Partner tag; p05 loses the managed groups only.
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
    const again = (await ok('sync', '--full')) as { destinations: { totals: Record<string, unknown> }[] };
    for (const d of again.destinations)
      expect(d.totals).toMatchObject({ created: 0, updated: 0, deleted: 0, failed: 0 });
  });

  it('given a table that lacks a mapped column, when validated, then the problem names table and column', async () => {
    await onMysql('ALTER TABLE crm DROP COLUMN ltv', [], db.name);
    const r = await cli('validate');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('destination crm: table crm has no column ltv');
  });

  it('when `syncline describe mysql` runs, then it lists the three modes, the default and the options', async () => {
    const d = (await ok('describe', 'mysql')) as Record<string, unknown>;
    expect(d).toMatchObject({ type: 'mysql', defaultMode: 'sync' });
    expect((d['modes'] as { name: string; default: boolean }[]).map((m) => [m.name, m.default])).toEqual([
      ['sync', true],
      ['additive', false],
      ['enrich', false],
    ]);
    expect((d['options'] as { name: string }[]).map((o) => o.name)).toEqual([
      'connection',
      'table',
      'groupsTable',
    ]);
    const text = await cli('describe', 'mysql');
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/mysql/);
    expect(text.stdout).toMatch(/JSON/);
    expect(text.stdout).toMatch(/connection/);
  });
});
