// The operator's main job end to end with the built CLI on http destinations, each an example receiver
// in this process: three modes with lookups over two rounds (a rename that keeps unmanaged tags, a
// leaver, a deletion, a newcomer), enrich over records and a tag that were there before; sync and
// additive without lookups (the ledger stands for the receiver). Records read row by row in the
// receivers' SQLite. Also `describe http` and `validate`. The secret, from a variable, is looked for
// in everything syncline prints and stores.
import { createHmac, randomUUID } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunSummary } from '../engine/sync/summary.js';
import { runCli, tempDir, type CliResult } from './support/cli.js';
import { heldBy, startExampleReceiver, type ExampleReceiver } from './support/exampleReceiver.js';

const NO_CREATE = 'Destination sync mode does not allow creating new profiles';
const SECRET = 'sig-Never-Shown-5e1f0a7c';

const pad = (n: number): string => String(n).padStart(2, '0');
const email = (n: number): string => `p${pad(n)}@example.com`;
const range = (from: number, to: number): number[] =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i);
const byText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

type Held = { key: string; fields: Record<string, unknown>; groups: string[] };
const byKey = (a: Held, b: Held) => byText(a.key, b.key);
/** What a receiver holds, row by row in key order; groups sorted (the receiver keeps them as added). */
const held = (r: ExampleReceiver): Held[] =>
  heldBy(r).map((x) => ({ ...x, groups: [...(x.groups as string[])].sort(byText) }) as Held);
const applied = (r: ExampleReceiver) => r.db.prepare('SELECT count(*) FROM applied').pluck().get();
/** Writes a record straight into the receiver's SQLite file, as someone else might. */
const put = (r: ExampleReceiver, x: Held) =>
  r.db
    .prepare('INSERT OR REPLACE INTO records VALUES (?, ?, ?)')
    .run(x.key, JSON.stringify(x.fields), JSON.stringify(x.groups));
/** Profile n's record as syncline writes it, with `changes` to its fields. */
const record = (n: number, groups: readonly string[], changes: Record<string, unknown> = {}): Held => {
  const fields = { email: email(n), first_name: `Name ${pad(n)}`, ltv: n * 100, ...changes };
  return { key: String(fields.email), fields, groups: [...groups].sort(byText) };
};
/** A record someone else wrote. */
const other = (key: string, name: string, groups: string[], more = {}): Held => ({
  key,
  fields: { email: key, first_name: name, ...more },
  groups,
});
const STRANGER = other('stranger@example.com', 'Stranger', ['Partner'], { ltv: 1 });
const TAKEN = other('taken@example.com', 'Someone else', ['Staff']);

const event = (type: string, data: Record<string, unknown>) => ({ id: randomUUID(), type, data });
const jsonl = (events: readonly unknown[]): string => events.map((e) => JSON.stringify(e)).join('\n') + '\n';
const joined = (groupId: string, ns: number[]) =>
  ns.map((n) => event('ProfileJoinedGroup', { groupId, profileId: `p${pad(n)}` }));
const created = (n: number) =>
  event('ProfileCreated', {
    profileId: `p${pad(n)}`,
    properties: { email: email(n), firstName: `Name ${pad(n)}`, ltv: n * 100 },
  });
const changed = (n: number, set: Record<string, unknown>) =>
  event('ProfilePropertiesChanged', { profileId: `p${pad(n)}`, set });
const FIRST_ROUND = [
  event('GroupCreated', { groupId: 'customers', name: 'Customers' }),
  event('GroupCreated', { groupId: 'vip', name: 'VIP' }),
  ...range(1, 20).map(created),
  ...joined('customers', range(1, 16)),
  ...joined('vip', range(1, 5)),
];
// p03 changes email (a rename), p04 leaves vip, p05 leaves the collection, p06 is deleted, p07 is
// renamed in person, and p21 arrives as a customer.
const SECOND_ROUND = [
  changed(3, { email: 'p03@new.example' }),
  event('ProfileLeftGroup', { groupId: 'vip', profileId: 'p04' }),
  event('ProfileLeftGroup', { groupId: 'customers', profileId: 'p05' }),
  event('ProfileDeleted', { profileId: 'p06' }),
  changed(7, { firstName: 'Renamed 07' }),
  created(21),
  ...joined('customers', [21]),
];

const customers = (vip: boolean) => (vip ? ['Customers', 'VIP'] : ['Customers']);
const FIRST_RECORDS = range(1, 16).map((n) => record(n, customers(n <= 5)));
/** After the second round: p03 renamed, p07 renamed in person, only p01–p03 still VIP. */
const second = (n: number, groups = customers(n <= 3)) =>
  record(n, groups, {
    ...(n === 3 ? { email: 'p03@new.example' } : {}),
    ...(n === 7 ? { first_name: 'Renamed 07' } : {}),
  });
/** sync deletes the leaver and the deleted; additive keeps them without the managed groups. */
const SYNCED = [...range(1, 4), ...range(7, 16), 21].map((n) => second(n));
const ADDED = [...SYNCED, second(5, []), second(6, [])].sort(byKey);
const but8 = (records: Held[], ...more: Held[]) =>
  [...records.filter((x) => x.key !== email(8)), ...more].sort(byKey);

/** Records someone else writes through the receiver's own signed POST /apply. */
const seed = async (r: ExampleReceiver, records: readonly Held[]): Promise<void> => {
  const commands = records.map(({ key, fields, groups }) => ({
    ...{ commandId: randomUUID(), operation: 'create', key },
    ...{ fields: { set: fields, unset: [] }, groups: { add: groups, remove: [] } },
  }));
  const body = JSON.stringify({ destinationId: 'someone-else', keyField: 'email', commands });
  const t = Math.floor(Date.now() / 1000);
  const mac = createHmac('sha256', SECRET).update(`${t}.${body}`).digest('hex');
  const headers = { 'content-type': 'application/json', 'syncline-signature': `t=${t},v1=${mac}` };
  const answer = await fetch(`${r.url}/apply`, { method: 'POST', headers, body });
  const results = commands.map(({ commandId }) => ({ commandId, ok: true }));
  expect(await answer.json()).toEqual({ results });
};

const destination = (destinationId: string, syncMode: string, url: string, lookup?: boolean) => ({
  destinationId,
  type: 'http',
  syncMode,
  collection: { kind: 'group', groupId: 'customers' },
  keyField: 'email',
  mapping: { email: 'email', first_name: 'firstName', ltv: 'ltv' },
  groupMapping: { customers: 'Customers', vip: 'VIP' },
  options: { url, secret: { env: 'RECEIVER_SECRET' }, ...(lookup === undefined ? {} : { lookup }) },
});
type Run = { destinations: RunSummary[] };
/** Each destination's totals as `id +created ~updated -deleted !failed`, then its skips by reason. */
const totals = (r: Run) =>
  r.destinations.map(({ destinationId: id, totals: t }) =>
    [`${id} +${t.created} ~${t.updated} -${t.deleted} !${t.failed}`, ...Object.entries(t.skipped)].join(' '),
  );
const skipped = (n: number) => ` ${NO_CREATE},${n}`;

/**
 * A story's directory, a receiver per destination id (started before its tests, closed after), and
 * its CLI with the secret in the environment; `ok` for a command that must succeed.
 */
const story = <Id extends string>(ids: readonly Id[]) => {
  const s = {
    dir: undefined as unknown as Awaited<ReturnType<typeof tempDir>>,
    r: {} as Record<Id, ExampleReceiver>,
    cli: (...args: string[]): Promise<CliResult> =>
      runCli(args, { cwd: s.dir.path, env: { RECEIVER_SECRET: SECRET } }),
    ok: async (...args: string[]): Promise<Run> => {
      const r = await s.cli(...args, '--json');
      expect([r.code, r.stderr]).toEqual([0, '']);
      expect(r.stdout).not.toContain(SECRET);
      return JSON.parse(r.stdout) as Run;
    },
    nothingDecided: async () => {
      for (const d of (await s.ok('sync', '--full')).destinations)
        expect(d.totals).toMatchObject({ created: 0, updated: 0, deleted: 0, failed: 0 });
    },
    /** Every file syncline keeps (the store, its side files, the state file), searched byte by byte. */
    secretNowhereStored: () => {
      const files = readdirSync(s.dir.path, { recursive: true, encoding: 'utf8' }).filter(
        (name) => !/\.jsonl?$/.test(name) && statSync(join(s.dir.path, name)).isFile(),
      );
      expect(files).toEqual(expect.arrayContaining(['events.db', 'events.state.db']));
      for (const name of files)
        expect([name, readFileSync(join(s.dir.path, name)).includes(SECRET)]).toEqual([name, false]);
    },
  };
  beforeAll(async () => {
    s.dir = await tempDir();
    for (const id of ids) s.r[id] = await startExampleReceiver({ secret: SECRET });
  });
  afterAll(async () => {
    await Promise.all(Object.values<ExampleReceiver>(s.r).map((x) => x.close()));
    await s.dir.remove();
  });
  return s;
};

describe('syncline end to end on http destinations that answer lookups', () => {
  const s = story(['warehouse', 'mailing', 'crm']);
  const r = s.r;
  // The CRM holds two of the customers (each tagged Partner by someone else) and a contact syncline knows nothing of.
  const CRM_BEFORE = [other(email(3), 'Old', ['Partner']), other(email(5), 'Old', ['Partner']), STRANGER];

  beforeAll(async () => {
    await seed(r.crm, CRM_BEFORE);
    await s.dir.write('syncline.config.json', {
      store: 'sqlite:events.db',
      destinations: [
        destination('warehouse', 'sync', r.warehouse.url),
        destination('mailing', 'additive', r.mailing.url),
        destination('crm', 'enrich', r.crm.url),
      ],
    });
    await s.dir.write('round1.jsonl', jsonl(FIRST_ROUND));
    await s.dir.write('round2.jsonl', jsonl(SECOND_ROUND));
  });

  it('given the config, when validated, then every receiver answers a signed lookup, and nothing is written', async () => {
    expect(await s.ok('validate')).toMatchObject({ valid: true });
    expect([held(r.warehouse), held(r.mailing), held(r.crm)]).toEqual([[], [], CRM_BEFORE]);
  });

  it('when applied, ingested and synced, then sync and additive create the customers, enrich only updates what exists, and a --full sync decides nothing', async () => {
    await s.ok('apply');
    await s.ok('ingest', 'round1.jsonl');
    expect(totals(await s.ok('sync'))).toEqual([
      'warehouse +16 ~0 -0 !0',
      'mailing +16 ~0 -0 !0',
      `crm +0 ~2 -0 !0${skipped(14)}`,
    ]);
    expect([held(r.warehouse), held(r.mailing)]).toEqual([FIRST_RECORDS, FIRST_RECORDS]);
    const enriched = ['Customers', 'Partner', 'VIP'];
    expect(held(r.crm)).toEqual([record(3, enriched), record(5, enriched), STRANGER]);
    // Every value reads back as written.
    await s.nothingDecided();
  });

  it('when the changes are synced, then each mode treats leavers, renames and deletions its own way', async () => {
    await s.ok('ingest', 'round2.jsonl');
    expect(totals(await s.ok('sync'))).toEqual([
      'warehouse +1 ~3 -2 !0',
      'mailing +1 ~5 -0 !0',
      `crm +0 ~2 -0 !0${skipped(3)}`,
    ]);
    expect([held(r.warehouse), held(r.mailing)]).toEqual([SYNCED, ADDED]);
    // enrich: p03 renamed in place with its Partner tag; p05 loses the managed groups only; no p21.
    const p03 = second(3, ['Customers', 'Partner', 'VIP']);
    expect(held(r.crm)).toEqual([p03, record(5, ['Partner']), STRANGER]);
  });

  it('given the changes synced, when synced with --full, then nothing is decided, and the secret is nowhere in the store or the state file', async () => {
    await s.nothingDecided();
    s.secretNowhereStored();
  });
});

describe('syncline end to end on http destinations without lookups', () => {
  const s = story(['warehouse', 'mailing']);
  const r = s.r;

  beforeAll(async () => {
    put(r.warehouse, TAKEN);
    await s.dir.write('syncline.config.json', {
      store: 'sqlite:events.db',
      destinations: [
        destination('warehouse', 'sync', r.warehouse.url, false),
        destination('mailing', 'additive', r.mailing.url, false),
      ],
    });
    await s.dir.write('round1.jsonl', jsonl(FIRST_ROUND));
    // p08 takes the key of someone else's record at the warehouse, then gives it up.
    await s.dir.write('round2.jsonl', jsonl([...SECOND_ROUND, changed(8, { email: TAKEN.key })]));
    await s.dir.write('fix.jsonl', jsonl([changed(8, { email: 'p08@fixed.example' })]));
  });

  it('given the config, when validated, then every receiver answers a signed apply of no commands, and nothing is applied', async () => {
    expect(await s.ok('validate')).toMatchObject({ valid: true });
    expect([held(r.warehouse), held(r.mailing)]).toEqual([[TAKEN], []]);
    expect([applied(r.warehouse), applied(r.mailing)]).toEqual([0, 0]);
  });

  it('when applied, ingested and synced, then sync and additive create the customers, the record already there is left alone, and a --full sync decides nothing', async () => {
    await s.ok('apply');
    await s.ok('ingest', 'round1.jsonl');
    expect(totals(await s.ok('sync'))).toEqual(['warehouse +16 ~0 -0 !0', 'mailing +16 ~0 -0 !0']);
    expect([held(r.warehouse), held(r.mailing)]).toEqual([[...FIRST_RECORDS, TAKEN], FIRST_RECORDS]);
    await s.nothingDecided();
  });

  it('when the changes are synced, then each mode treats leavers, renames and deletions its own way, and the rename onto a taken key fails alone', async () => {
    await s.ok('ingest', 'round2.jsonl');
    const failing = await s.cli('sync', '--json');
    expect([failing.code, failing.stderr]).toEqual([
      1,
      'syncline: 1 command failed in warehouse; see syncline log, then syncline retry\n',
    ]);
    const run = JSON.parse(failing.stdout) as Run;
    expect(totals(run)).toEqual(['warehouse +1 ~3 -2 !1', 'mailing +1 ~6 -0 !0']);
    expect(JSON.stringify(run.destinations[0]?.failures)).toContain(
      'cannot rename p08@example.com to taken@example.com: that key is taken',
    );
    expect(held(r.warehouse)).toEqual([...SYNCED, TAKEN]);
    expect(held(r.mailing)).toEqual(but8(ADDED, record(8, ['Customers'], { email: TAKEN.key })));
  });

  it('given the profile gives the key up, when synced, then both converge and a --full sync decides nothing', async () => {
    await s.ok('ingest', 'fix.jsonl');
    expect(totals(await s.ok('sync'))).toEqual(['warehouse +0 ~1 -0 !0', 'mailing +0 ~1 -0 !0']);
    const fixed = record(8, ['Customers'], { email: 'p08@fixed.example' });
    expect(held(r.warehouse)).toEqual(but8(SYNCED, fixed, TAKEN));
    expect(held(r.mailing)).toEqual(but8(ADDED, fixed));
    await s.nothingDecided();
  });

  it('given a record changed at the receiver by someone else, when synced with --full, then syncline does not see it, and the secret is nowhere in the store or the state file', async () => {
    const p09 = record(9, ['Customers'], { first_name: 'Changed elsewhere' });
    put(r.warehouse, p09);
    await s.nothingDecided();
    expect(held(r.warehouse).find((x) => x.key === p09.key)).toEqual(p09);
    s.secretNowhereStored();
  });
});

describe('syncline describe http and validate', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let receiver: ExampleReceiver;
  beforeAll(async () => {
    dir = await tempDir();
    receiver = await startExampleReceiver({ secret: SECRET });
  });
  afterAll(async () => {
    await receiver.close();
    await dir.remove();
  });
  const config = (url: string, syncMode = 'sync', lookup?: boolean) =>
    dir.write('syncline.config.json', {
      store: 'sqlite:events.db',
      destinations: [{ ...destination('wh', syncMode, url, lookup), collection: { kind: 'all' } }],
    });
  const cli = (args: string[], secret = SECRET) =>
    runCli(args, { cwd: dir.path, env: { RECEIVER_SECRET: secret } });
  const untouched = () => expect([held(receiver), applied(receiver)]).toEqual([[], 0]);

  it('when described, then it lists the three modes, sync the default, and its options, url required', async () => {
    const r = await runCli(['describe', 'http', '--json']);
    expect(r.code).toBe(0);
    type Item = { name: string; default?: unknown; required?: boolean };
    const d = JSON.parse(r.stdout) as { modes: Item[]; options: Item[]; description: string };
    const shown = (xs: Item[], star: (x: Item) => boolean) =>
      xs.map((x) => x.name + (star(x) ? '*' : '')).join(' ');
    // modes: the default starred; options: the required one
    expect([shown(d.modes, (m) => m.default === true), shown(d.options, (o) => o.required === true)]).toEqual(
      ['sync* additive enrich', 'url* secret lookup batchSize timeoutMs concurrency headers'],
    );
    expect(d.description).toContain('HMAC-SHA256');
    expect(d.description).toContain('enrich is not available');
  });

  it('given a receiver that is down, when validated, then it fails with one line naming the URL, without the secret', async () => {
    const gone = await startExampleReceiver({ secret: SECRET });
    await gone.close();
    await config(gone.url);
    const r = await cli(['validate']);
    expect(r.stderr).not.toContain(SECRET);
    const line = `destination wh: POST ${gone.url}/lookup: connection refused (nothing listens there)\n`;
    expect([r.code, r.stdout, r.stderr]).toEqual([1, '', line]);
  });

  it.each([
    { lookup: undefined, path: '/lookup' },
    { lookup: false, path: '/apply' },
  ])(
    'given the wrong secret (lookup $lookup), when validated, then the receiver refuses the signature, the message names the URL and no secret, and nothing is applied',
    async ({ lookup, path }) => {
      await config(receiver.url, 'sync', lookup);
      const wrong = 'not-The-Secret-93b2d4';
      const r = await cli(['validate'], wrong);
      for (const secret of [SECRET, wrong]) expect(r.stderr).not.toContain(secret);
      untouched();
      expect((await cli(['validate'])).code).toBe(0);
      expect([r.code, r.stdout, r.stderr]).toEqual([
        1,
        '',
        `destination wh: POST ${receiver.url}${path} answered 401: {"error":"signature does not match (wrong secret, or the body was changed)"}\n`,
      ]);
    },
  );

  it.each(['validate', 'apply'])(
    'given enrich without lookups, when %s runs, then it is refused, naming the option, and nothing is written',
    async (command) => {
      await config(receiver.url, 'enrich', false);
      const r = await cli([command]);
      expect([r.code, r.stdout, r.stderr]).toEqual([
        1,
        '',
        'destination wh: syncMode "enrich": enrich needs to see what the receiver holds: it is not available with options.lookup false\n',
      ]);
      untouched();
      await config(receiver.url, 'enrich');
      expect((await cli([command])).code).toBe(0);
    },
  );
});
