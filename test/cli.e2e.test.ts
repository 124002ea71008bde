// The operator's main job end to end with the built CLI: apply a config of three SQLite destinations
// (one per mode), ingest profiles, sync, change things, sync again, reading the tables after each;
// told once per kind of event store, which the config file names.
import { randomUUID } from 'node:crypto';
import { realpathSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunSummary } from '../engine/sync/summary.js';
import { runCli, tempDir, type CliResult } from './support/cli.js';
import { storeKinds, type StoreKind } from './support/storeKinds.js';

const NO_CREATE = 'Destination sync mode does not allow creating new profiles';

const destination = (destinationId: string, syncMode: string) => ({
  destinationId,
  type: 'sqlite',
  syncMode,
  collection: { kind: 'group', groupId: 'customers' },
  keyField: 'email',
  mapping: { email: 'email', first_name: 'firstName', ltv: 'ltv' },
  groupMapping: { customers: 'Customers', vip: 'VIP' },
  options: { path: `${destinationId}.db`, table: 'contacts' },
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
/** The row syncline writes for profile n as first ingested. */
const row = (n: number, changes: Record<string, unknown> = {}) => ({
  email: email(n),
  first_name: `Name ${pad(n)}`,
  ltv: n * 100,
  ...changes,
});
/** Code-unit order, as SQLite's ORDER BY on TEXT sorts. */
const byText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const range = (from: number, to: number): number[] =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i);
const groupRows = (ns: readonly number[], name: string, key = email) =>
  ns.map((n) => ({ record_key: key(n), group_name: name }));

const event = (type: string, data: Record<string, unknown>) => ({ id: randomUUID(), type, data });
const jsonl = (events: readonly unknown[]): string => events.map((e) => JSON.stringify(e)).join('\n') + '\n';

// 20 profiles; p01–p16 are customers (the collection of every destination), p01–p05 also vip.
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

type Tables = { readonly rows: unknown[]; readonly groups: unknown[] };
type Status = {
  head: number;
  state: { path: string };
  destinations: { destinationId: string; lag: { profiles: number } }[];
};

for (const kind of storeKinds)
  describe.skipIf(!kind.runs)(
    `syncline end to end on a ${kind.name} store: apply, ingest, sync and status on SQLite destinations`,
    () => endToEnd(kind),
  );

function endToEnd(kind: StoreKind): void {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let url: string;
  const cli = (...args: string[]): Promise<CliResult> => runCli(args, { cwd: dir.path });
  const ok = async (...args: string[]): Promise<unknown> => {
    const r = await cli(...args, '--json');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    return JSON.parse(r.stdout);
  };
  const tables = (id: string): Tables => {
    const db = new Database(join(dir.path, `${id}.db`), { readonly: true });
    try {
      return {
        rows: db.prepare('SELECT email, first_name, ltv FROM contacts ORDER BY email').all(),
        groups: db
          .prepare('SELECT record_key, group_name FROM contacts_groups ORDER BY record_key, group_name')
          .all(),
      };
    } finally {
      db.close();
    }
  };
  const status = async (): Promise<Status> => (await ok('status')) as Status;
  const sortGroups = (rows: { record_key: string; group_name: string }[]) =>
    rows.sort((a, b) => byText(a.record_key, b.record_key) || byText(a.group_name, b.group_name));

  beforeAll(async () => {
    dir = await tempDir();
    url = kind.freshUrl();
    await dir.write('syncline.config.json', { store: url, ...CONFIG });
    await dir.write('round1.jsonl', jsonl(FIRST_ROUND));
    await dir.write('round2.jsonl', jsonl(SECOND_ROUND));
    // The CRM already holds two of the customers, each tagged 'Partner' by someone else, and a
    // contact syncline knows nothing of.
    const db = new Database(join(dir.path, 'crm.db'));
    db.exec(`CREATE TABLE contacts (email TEXT PRIMARY KEY, first_name, ltv);
      CREATE TABLE contacts_groups (record_key TEXT NOT NULL, group_name TEXT NOT NULL, PRIMARY KEY (record_key, group_name));
      INSERT INTO contacts VALUES ('p03@example.com', 'Old', NULL), ('p05@example.com', 'Old', NULL), ('stranger@example.com', 'Stranger', 1);
      INSERT INTO contacts_groups VALUES ('p03@example.com', 'Partner'), ('p05@example.com', 'Partner'), ('stranger@example.com', 'Partner');`);
    db.close();
  });
  afterAll(async () => {
    await dir.remove();
    await kind.dropStores();
  });

  it('given a valid config, when applied twice, then the second run records nothing and the head stays', async () => {
    expect(await ok('apply')).toEqual({
      added: ['warehouse', 'mailing', 'crm'],
      changed: [],
      unchanged: [],
      missing: [],
      removed: [],
    });
    const head = (await status()).head;
    expect(await ok('apply')).toEqual({
      added: [],
      changed: [],
      unchanged: ['warehouse', 'mailing', 'crm'],
      missing: [],
      removed: [],
    });
    expect((await status()).head).toBe(head);
  });

  it('given a JSONL file, when ingested, then every line is appended', async () => {
    expect(await ok('ingest', 'round1.jsonl')).toEqual({ lines: 43, appended: 43, duplicates: 0 });
  });

  it('given the same file with ids, when ingested again, then nothing is appended', async () => {
    const head = (await status()).head;
    expect(await ok('ingest', 'round1.jsonl')).toEqual({ lines: 43, appended: 0, duplicates: 43 });
    expect(await cli('ingest', 'round1.jsonl')).toEqual({
      code: 0,
      stdout: 'ingested 0 events from round1.jsonl (43 already stored)\n',
      stderr: '',
    });
    expect((await status()).head).toBe(head);
  });

  it('when synced, then sync and additive create the customers and enrich only updates what exists', async () => {
    const r = (await ok('sync')) as { destinations: Record<string, unknown>[] };
    expect(r.destinations.map(({ runId: _runId, ...counts }) => counts)).toEqual([
      {
        destinationId: 'warehouse',
        mode: 'sync',
        reason: 'first-run',
        considered: 20,
        totals: {
          created: 16,
          updated: 0,
          deleted: 0,
          skipped: {},
          failed: 0,
          unchanged: 4,
        },
        failures: [],
      },
      {
        destinationId: 'mailing',
        mode: 'additive',
        reason: 'first-run',
        considered: 20,
        totals: {
          created: 16,
          updated: 0,
          deleted: 0,
          skipped: {},
          failed: 0,
          unchanged: 4,
        },
        failures: [],
      },
      {
        destinationId: 'crm',
        mode: 'enrich',
        reason: 'first-run',
        considered: 20,
        totals: {
          created: 0,
          updated: 2,
          deleted: 0,
          skipped: { [NO_CREATE]: 14 },
          failed: 0,
          unchanged: 4,
        },
        failures: [],
      },
    ]);
    const customers = range(1, 16);
    const created: Tables = {
      rows: customers.map((n) => row(n)),
      groups: sortGroups([...groupRows(customers, 'Customers'), ...groupRows(range(1, 5), 'VIP')]),
    };
    expect(tables('warehouse')).toEqual(created);
    expect(tables('mailing')).toEqual(created);
    expect(tables('crm')).toEqual({
      rows: [row(3), row(5), { email: 'stranger@example.com', first_name: 'Stranger', ltv: 1 }],
      groups: sortGroups([
        ...groupRows([3, 5], 'Customers'),
        ...groupRows([3, 5], 'Partner'),
        ...groupRows([3, 5], 'VIP'),
        { record_key: 'stranger@example.com', group_name: 'Partner' },
      ]),
    });
  });

  it('given nothing changed, when synced again, then nothing is decided', async () => {
    const r = (await ok('sync')) as { destinations: Record<string, unknown>[] };
    for (const d of r.destinations)
      expect(d).toMatchObject({
        considered: 0,
        totals: { created: 0, updated: 0, deleted: 0, skipped: {}, failed: 0 },
      });
  });

  it('after a sync the status shows each last run and no lag; after an ingest, lag', async () => {
    const after = await status();
    expect(after.destinations.map((d) => [d.destinationId, d.lag.profiles])).toEqual([
      ['crm', 0],
      ['mailing', 0],
      ['warehouse', 0],
    ]);
    expect(after.destinations[0]).toMatchObject({
      runs: 2,
      lastRun: { mode: 'enrich', totals: { created: 0, updated: 0 } },
      openRun: null,
      failures: { waiting: 0, retryable: 0, terminal: 0 },
      pending: 0,
      lag: { profiles: 0, configChanged: false },
    });
    expect(await ok('ingest', 'round2.jsonl')).toEqual({ lines: 7, appended: 7, duplicates: 0 });
    const lagging = await status();
    if (kind.densePositions) expect(lagging.head).toBe(after.head + 7);
    else expect(lagging.head).toBeGreaterThan(after.head);
    // p03, p04, p05, p06, p07 and p21 changed.
    for (const d of lagging.destinations) expect(d.lag).toEqual({ profiles: 6, configChanged: false });
  });

  it('when the status is read, then it names the state file this store keeps on this machine', async () => {
    expect((await status()).state.path).toBe(kind.statePath(realpathSync(dir.path), url));
  });

  it('when the changes are synced, then each mode treats leavers, renames and deletions its own way', async () => {
    const r = (await ok('sync')) as { destinations: RunSummary[] };
    expect(
      r.destinations.map(({ destinationId, considered, totals: t }) => [
        destinationId,
        considered,
        t.created,
        t.updated,
        t.deleted,
        t.skipped,
      ]),
    ).toEqual([
      ['warehouse', 6, 1, 3, 2, {}],
      ['mailing', 6, 1, 5, 0, {}],
      ['crm', 6, 0, 2, 0, { [NO_CREATE]: 3 }],
    ]);
    const renamed = (n: number) => (n === 3 ? 'p03@new.example' : email(n));
    const adjust = (n: number) =>
      row(n, {
        ...(n === 3 ? { email: 'p03@new.example' } : {}),
        ...(n === 7 ? { first_name: 'Renamed 07' } : {}),
      });
    const byEmail = (a: { email: string }, b: { email: string }) => byText(a.email, b.email);
    // sync: the leaver (p05) and the deleted profile (p06) are gone; p21 is created.
    const kept = [...range(1, 4), ...range(7, 16), 21];
    expect(tables('warehouse')).toEqual({
      rows: kept.map(adjust).sort(byEmail),
      groups: sortGroups([...groupRows(kept, 'Customers', renamed), ...groupRows([1, 2, 3], 'VIP', renamed)]),
    });
    // additive: p05 and p06 stay, out of every managed group.
    expect(tables('mailing')).toEqual({
      rows: [...range(1, 16), 21].map(adjust).sort(byEmail),
      groups: sortGroups([...groupRows(kept, 'Customers', renamed), ...groupRows([1, 2, 3], 'VIP', renamed)]),
    });
    // enrich: p03 renamed in place with its Partner tag; p05 loses the managed groups only; no p21.
    expect(tables('crm')).toEqual({
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
    for (const d of (await status()).destinations) expect(d.lag.profiles).toBe(0);
  });
}
