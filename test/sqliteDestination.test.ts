// The SQLite destination as a person reading its file sees it: rows and group rows, tables it creates
// or finds, its value encoding, and how its options (including `{"env": …}`) are read.
import Database from 'better-sqlite3';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Command } from '../domain/command.js';
import type { DestinationConfig } from '../domain/destination.js';
import type { Properties } from '../domain/values.js';
import { sqliteDestinationType } from '../adapters/destinations/sqlite/destination.js';
import type { Destination } from '../engine/ports.js';

let dir: string;
let opened: Destination[] = [];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'syncline-sqlite-'));
});
afterEach(async () => {
  await Promise.all(opened.map((d) => d.close()));
  opened = [];
  rmSync(dir, { recursive: true, force: true });
});

const config = (options: Record<string, unknown> = {}): DestinationConfig => ({
  destinationId: 'crm',
  type: 'sqlite',
  collection: { kind: 'all' },
  keyField: 'email',
  mapping: { email: 'email', first_name: 'firstName', ltv: 'lifetimeValue' },
  groupMapping: { vip: 'VIP' },
  options: { path: join(dir, 'crm.db'), table: 'contacts', ...options },
});

const open = async (c: DestinationConfig = config(), env: NodeJS.ProcessEnv = {}): Promise<Destination> => {
  const result = await sqliteDestinationType.open(c, env)();
  if (result._tag === 'Left') throw new Error(result.left.message);
  opened.push(result.right);
  return result.right;
};

let n = 0;
const command = (
  operation: Command['operation'],
  key: string,
  set: Properties = {},
  more: Partial<Command> = {},
) =>
  ({
    commandId: `c${++n}`,
    profileId: `p-${key}`,
    operation,
    key,
    fields: { set, unset: [] },
    groups: { add: [], remove: [] },
    ...more,
  }) satisfies Command;

const applyAll = async (d: Destination, ...commands: Command[]) => {
  const result = await d.apply(commands)();
  if (result._tag === 'Left') throw new Error(result.left.message);
  return result.right;
};

/** The file as a person reading it sees it, opened beside the destination. */
const query = (sql: string, path = join(dir, 'crm.db')): unknown[] => {
  const db = new Database(path, { readonly: true });
  try {
    return db.prepare(sql).all();
  } finally {
    db.close();
  }
};

describe('sqlite destination tables', () => {
  it('are created on first apply: one row per record, one untyped column per field, the key as primary key', async () => {
    const d = await open();
    await applyAll(
      d,
      command(
        'create',
        'ada@example.com',
        { email: 'ada@example.com', first_name: 'Ada', ltv: 100 },
        {
          groups: { add: ['VIP', 'Partners'], remove: [] },
        },
      ),
    );
    expect(query(`SELECT * FROM contacts`)).toStrictEqual([
      { email: 'ada@example.com', first_name: 'Ada', ltv: 100 },
    ]);
    expect(query(`SELECT * FROM contacts_groups ORDER BY group_name`)).toStrictEqual([
      { record_key: 'ada@example.com', group_name: 'Partners' },
      { record_key: 'ada@example.com', group_name: 'VIP' },
    ]);
    expect(query(`SELECT name, type, pk FROM pragma_table_info('contacts') ORDER BY cid`)).toStrictEqual([
      { name: 'email', type: 'TEXT', pk: 1 },
      { name: 'first_name', type: '', pk: 0 },
      { name: 'ltv', type: '', pk: 0 },
    ]);
    expect(query(`PRAGMA journal_mode`)).toStrictEqual([{ journal_mode: 'wal' }]);
  });

  it('store strings as TEXT, whole numbers as INTEGER, decimals as REAL, booleans and lists as JSON BLOBs', async () => {
    const d = await open();
    const rows: [string, Properties][] = [
      ['a', { first_name: '100', ltv: 100 }],
      ['b', { first_name: null, ltv: 1.5 }],
      ['c', { first_name: true, ltv: ['x', 1] }],
    ];
    await applyAll(d, ...rows.map(([k, set]) => command('create', k, { email: k, ...set })));
    expect(
      query(
        `SELECT email, typeof(first_name) f, typeof(ltv) l, CAST(first_name AS TEXT) ft, CAST(ltv AS TEXT) lt FROM contacts ORDER BY email`,
      ),
    ).toStrictEqual([
      { email: 'a', f: 'text', l: 'integer', ft: '100', lt: '100' },
      { email: 'b', f: 'null', l: 'real', ft: null, lt: '1.5' },
      { email: 'c', f: 'blob', l: 'blob', ft: 'true', lt: '["x",1]' },
    ]);
    const found = await d.lookup(['a', 'b', 'c'])();
    expect(
      found._tag === 'Right' &&
        [...found.right].sort((x, y) => x.key.localeCompare(y.key)).map((r) => r.fields),
    ).toStrictEqual(rows.map(([k, set]) => ({ email: k, ...set })));
  });

  it('use the groupsTable option, defaulting to <table>_groups', async () => {
    const d = await open(config({ groupsTable: 'contact_lists' }));
    await applyAll(d, command('create', 'a', { email: 'a' }, { groups: { add: ['VIP'], remove: [] } }));
    expect(query(`SELECT * FROM contact_lists`)).toStrictEqual([{ record_key: 'a', group_name: 'VIP' }]);
    expect(query(`SELECT name FROM sqlite_master WHERE name = 'contacts_groups'`)).toStrictEqual([]);
  });

  it('are not created by a lookup, so a dry run writes nothing, not even the file', async () => {
    const d = await open();
    const found = await d.lookup(['a'])();
    expect(found).toStrictEqual({ _tag: 'Right', right: [] });
    expect(existsSync(join(dir, 'crm.db'))).toBe(false);
  });

  it('of an existing file are not created by a lookup either', async () => {
    new Database(join(dir, 'crm.db')).close();
    const d = await open();
    expect(await d.lookup(['a'])()).toStrictEqual({ _tag: 'Right', right: [] });
    expect(query(`SELECT name FROM sqlite_master WHERE type = 'table'`)).toStrictEqual([]);
  });

  it('a rename moves the key and every group row, managed or not', async () => {
    const d = await open();
    await applyAll(
      d,
      command('create', 'old', { email: 'old' }, { groups: { add: ['VIP', 'Partners'], remove: [] } }),
    );
    await applyAll(d, command('update', 'old', { email: 'new' }));
    expect(query(`SELECT email FROM contacts`)).toStrictEqual([{ email: 'new' }]);
    expect(query(`SELECT * FROM contacts_groups ORDER BY group_name`)).toStrictEqual([
      { record_key: 'new', group_name: 'Partners' },
      { record_key: 'new', group_name: 'VIP' },
    ]);
  });
});

describe("a user's existing table", () => {
  const seed = (sql: string) => {
    const db = new Database(join(dir, 'crm.db'));
    db.exec(sql);
    db.close();
  };

  it('lacking a mapped column is an error naming table and column, and nothing is written', async () => {
    seed(`CREATE TABLE contacts (email TEXT PRIMARY KEY, ltv INTEGER)`);
    const d = await open();
    const expected = {
      _tag: 'Left',
      left: { _tag: 'DestinationMisconfigured', message: 'table contacts has no column first_name' },
    };
    expect(await d.apply([command('create', 'a', { email: 'a', ltv: 1 })])()).toStrictEqual(expected);
    expect(await d.lookup(['a'])()).toStrictEqual(expected);
    expect(query(`SELECT * FROM contacts`)).toStrictEqual([]);
    expect(query(`SELECT name FROM sqlite_master WHERE name = 'contacts_groups'`)).toStrictEqual([]);
  });

  it('whose key column is not unique is an error: records are addressed by it', async () => {
    seed(`CREATE TABLE contacts (email TEXT, first_name TEXT, ltv INTEGER)`);
    const d = await open();
    const result = await d.apply([command('create', 'a', { email: 'a' })])();
    expect(result).toMatchObject({
      left: { message: 'table contacts: column email must be its PRIMARY KEY or have a UNIQUE index' },
    });
  });

  it('with seeded TEXT, INTEGER, REAL and NULL cells reads back as strings, numbers and null', async () => {
    seed(`CREATE TABLE contacts (email TEXT PRIMARY KEY, first_name TEXT, ltv INTEGER, note TEXT);
          INSERT INTO contacts VALUES ('a@example.com', 'Ada', 100, 'kept'), ('b@example.com', NULL, 2.5, NULL);`);
    const d = await open();
    const found = await d.lookup(['a@example.com', 'b@example.com'])();
    expect(
      found._tag === 'Right' && [...found.right].sort((x, y) => x.key.localeCompare(y.key)),
    ).toStrictEqual([
      { key: 'a@example.com', fields: { email: 'a@example.com', first_name: 'Ada', ltv: 100 }, groups: [] },
      { key: 'b@example.com', fields: { email: 'b@example.com', first_name: null, ltv: 2.5 }, groups: [] },
    ]);
    // An update touches only the columns it names; the user's own columns stay as they were.
    await applyAll(d, command('update', 'a@example.com', { ltv: 200 }));
    expect(query(`SELECT * FROM contacts WHERE email = 'a@example.com'`)).toStrictEqual([
      { email: 'a@example.com', first_name: 'Ada', ltv: 200, note: 'kept' },
    ]);
  });

  it('groups table without a unique key still gets each group once', async () => {
    seed(`CREATE TABLE contacts_groups (record_key TEXT, group_name TEXT, added_by TEXT DEFAULT 'crm')`);
    const d = await open();
    const join = command('create', 'a', { email: 'a' }, { groups: { add: ['VIP'], remove: [] } });
    await applyAll(d, join, join);
    await applyAll(d, join);
    expect(query(`SELECT * FROM contacts_groups`)).toStrictEqual([
      { record_key: 'a', group_name: 'VIP', added_by: 'crm' },
    ]);
  });

  it('rejecting one command (a NOT NULL column) undoes that command alone', async () => {
    seed(`CREATE TABLE contacts (email TEXT PRIMARY KEY, first_name TEXT NOT NULL, ltv INTEGER)`);
    const d = await open();
    await applyAll(
      d,
      command('create', 'old', { email: 'old', first_name: 'Ada' }, { groups: { add: ['VIP'], remove: [] } }),
    );
    const outcomes = await applyAll(
      d,
      command('create', 'a', { email: 'a', first_name: 'A' }),
      // the row is renamed before the unset fails: the savepoint must put it back
      command(
        'update',
        'old',
        { email: 'new' },
        { fields: { set: { email: 'new' }, unset: ['first_name'] } },
      ),
      command('create', 'b', { email: 'b', first_name: 'B' }),
    );
    expect(outcomes.map((o) => o.status)).toStrictEqual(['ok', 'error', 'ok']);
    expect(outcomes[1]).toMatchObject({
      retryable: false,
      message: expect.stringContaining('NOT NULL') as unknown,
    });
    expect(query(`SELECT email FROM contacts ORDER BY email`)).toStrictEqual([
      { email: 'a' },
      { email: 'b' },
      { email: 'old' },
    ]);
    expect(query(`SELECT * FROM contacts_groups`)).toStrictEqual([{ record_key: 'old', group_name: 'VIP' }]);
  });
});

describe('sqlite destination options', () => {
  it('creates the file and its directory when missing, with the first apply and not before', async () => {
    const path = join(dir, 'nested', 'deeper', 'crm.db');
    const d = await open(config({ path }));
    expect(existsSync(join(dir, 'nested'))).toBe(false);
    await applyAll(d, command('create', 'a', { email: 'a' }));
    expect(existsSync(path)).toBe(true);
  });

  it('refuses to open a path that could never be a file, without creating anything', async () => {
    writeFileSync(join(dir, 'plain'), '');
    const r = await sqliteDestinationType.open(config({ path: join(dir, 'plain', 'crm.db') }), {})();
    expect(r).toMatchObject({ _tag: 'Left', left: { _tag: 'OpenFailed' } });
    expect(r._tag === 'Left' && r.left.message).toContain('not a directory');
    const asDir = await sqliteDestinationType.open(config({ path: dir }), {})();
    expect(asDir._tag === 'Left' && asDir.left.message).toContain('it is a directory');
  });

  it('reads an {"env": NAME} option from the environment', async () => {
    const path = join(dir, 'from-env.db');
    const d = await open(config({ path: { env: 'CRM_DB' } }), { CRM_DB: path });
    await applyAll(d, command('create', 'a', { email: 'a' }));
    expect(query(`SELECT email FROM contacts`, path)).toStrictEqual([{ email: 'a' }]);
  });

  it('fails to open, naming destination, option and variable, when the variable is not set', async () => {
    const result = await sqliteDestinationType.open(config({ path: { env: 'CRM_DB' } }), {})();
    expect(result).toStrictEqual({
      _tag: 'Left',
      left: {
        _tag: 'OpenFailed',
        message: 'destination crm: options.path: environment variable CRM_DB is not set',
      },
    });
  });

  it('fails to open, naming destination and option, when a required option is missing or not a string', async () => {
    const missing = await sqliteDestinationType.open(
      { ...config(), options: { path: join(dir, 'x.db') } },
      {},
    )();
    expect(missing).toMatchObject({
      left: { message: 'destination crm: options.table: is required by type sqlite' },
    });
    const wrong = await sqliteDestinationType.open(config({ table: 7 }), {})();
    expect(wrong).toMatchObject({
      left: { message: 'destination crm: options.table: must be a string, not 7' },
    });
  });
});
