// What the SQLite destination says when it fails: each option read from a variable is named by option
// and variable in its own messages and SQLite's, and read-only write-ahead log files are explained.
import { execFile } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import * as E from 'fp-ts/lib/Either.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Command } from '../domain/command.js';
import type { DestinationConfig } from '../domain/destination.js';
import { sqliteDestinationType } from '../adapters/destinations/sqlite/destination.js';
import { applierOn } from '../adapters/destinations/sqlite/apply.js';
import {
  openMessage,
  placeOf,
  readOnlyHint,
  sqliteMessage,
  type FileAccess,
} from '../adapters/destinations/sqlite/errors.js';
import { lookupOn } from '../adapters/destinations/sqlite/lookup.js';
import { tableNamesOf } from '../adapters/destinations/sqlite/tables.js';
import { toWire } from '../adapters/destinations/sqlite/wire.js';
import type { Destination } from '../engine/ports.js';

const SECRET = 'Zq9-secret-name';

let dir: string;
let opened: Destination[] = [];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'syncline-sqlite-errors-'));
});
afterEach(async () => {
  await Promise.all(opened.map((d) => d.close()));
  opened = [];
  rmSync(dir, { recursive: true, force: true });
});

const config = (options: Record<string, unknown>): DestinationConfig => ({
  destinationId: 'crm',
  type: 'sqlite',
  collection: { kind: 'all' },
  keyField: 'email',
  mapping: { email: 'email', name: 'name' },
  groupMapping: { vip: 'VIP' },
  options,
});

const create = (key: string, set: Record<string, string | null>, add: string[] = []): Command => ({
  commandId: `c-${key}`,
  profileId: `p-${key}`,
  operation: 'create',
  key,
  fields: { set: { email: key, ...set }, unset: [] },
  groups: { add, remove: [] },
});

const exec = (file: string, sql: string): void => {
  const db = new Database(file);
  try {
    db.exec(sql);
  } finally {
    db.close();
  }
};

const open = async (c: DestinationConfig, env: NodeJS.ProcessEnv): Promise<E.Either<string, Destination>> => {
  const r = await sqliteDestinationType.open(c, env)();
  if (E.isLeft(r)) return E.left(r.left.message);
  opened.push(r.right);
  return E.right(r.right);
};

const must = <A>(r: E.Either<string, A>): A => {
  if (E.isLeft(r)) throw new Error(r.left);
  return r.right;
};

describe('given each SQLite option read from a variable holding a name', () => {
  it('when all is well, then records land where the variables say', async () => {
    const env = { P: join(dir, `${SECRET}.db`), T: SECRET, G: `${SECRET}_lists` };
    const d = must(
      await open(config({ path: { env: 'P' }, table: { env: 'T' }, groupsTable: { env: 'G' } }), env),
    );
    expect(await d.apply([create('a', { name: 'Ada' }, ['VIP'])])()).toStrictEqual(
      E.right([{ commandId: 'c-a', status: 'ok' }]),
    );
    const db = new Database(env.P, { readonly: true });
    expect(db.prepare(`SELECT * FROM "${SECRET}"`).all()).toStrictEqual([{ email: 'a', name: 'Ada' }]);
    expect(db.prepare(`SELECT * FROM "${SECRET}_lists"`).all()).toStrictEqual([
      { record_key: 'a', group_name: 'VIP' },
    ]);
    db.close();
  });

  it('when the path is a file that is no database, then opening fails naming the option', async () => {
    writeFileSync(join(dir, SECRET), 'not a database, '.repeat(512));
    expect(
      await open(config({ path: { env: 'P' }, table: 'contacts' }), { P: join(dir, SECRET) }),
    ).toStrictEqual(E.left('destination crm: cannot open options.path (from env P): file is not a database'));
  });

  it('when a directory on the path is a file, then opening fails naming the option, and no part of the path', async () => {
    writeFileSync(join(dir, SECRET), '');
    expect(
      await open(config({ path: { env: 'P' }, table: 'contacts' }), {
        P: join(dir, SECRET, 'deeper', 'crm.db'),
      }),
    ).toStrictEqual(
      E.left('destination crm: cannot open options.path (from env P): a part of the path is not a directory'),
    );
    // The file's own directory is the file: the same, found without creating anything.
    expect(
      await open(config({ path: { env: 'P' }, table: 'contacts' }), { P: join(dir, SECRET, 'crm.db') }),
    ).toStrictEqual(
      E.left('destination crm: cannot open options.path (from env P): a part of the path is not a directory'),
    );
  });

  it('when the table lacks a mapped column or a unique key, then lookups fail naming the option', async () => {
    const path = join(dir, 'crm.db');
    exec(path, `CREATE TABLE "${SECRET}" (email TEXT PRIMARY KEY); CREATE TABLE "${SECRET}2" (email, name)`);
    const lacking = must(await open(config({ path, table: { env: 'T' } }), { T: SECRET }));
    expect(await lacking.lookup(['a'])()).toStrictEqual(
      E.left({
        _tag: 'DestinationMisconfigured',
        message: 'table options.table (from env T) has no column name',
      }),
    );
    const notUnique = must(await open(config({ path, table: { env: 'T' } }), { T: `${SECRET}2` }));
    expect(await notUnique.lookup(['a'])()).toStrictEqual(
      E.left({
        _tag: 'DestinationMisconfigured',
        message:
          'table options.table (from env T): column email must be its PRIMARY KEY or have a UNIQUE index',
      }),
    );
  });

  it('when the default groups table lacks its columns, then it is named after the table option', async () => {
    const path = join(dir, 'crm.db');
    exec(path, `CREATE TABLE "${SECRET}_groups" (record_key)`);
    const d = must(await open(config({ path, table: { env: 'T' } }), { T: SECRET }));
    expect(await d.apply([create('a', { name: 'Ada' })])()).toStrictEqual(
      E.left({
        _tag: 'DestinationMisconfigured',
        message: 'table options.table (from env T)_groups has no column group_name',
      }),
    );
  });

  it('when SQLite refuses a row of either table in its own words, then those words name the option', async () => {
    const path = join(dir, 'crm.db');
    exec(
      path,
      `CREATE TABLE "${SECRET}" (email TEXT PRIMARY KEY, name NOT NULL);` +
        `CREATE TABLE "${SECRET}_g" (record_key NOT NULL, group_name NOT NULL, added_by NOT NULL)`,
    );
    const d = must(
      await open(config({ path, table: { env: 'T' }, groupsTable: { env: 'G' } }), {
        T: SECRET,
        G: `${SECRET}_g`,
      }),
    );
    expect(
      await d.apply([create('a', { name: null }), create('b', { name: 'Bo' }, ['VIP'])])(),
    ).toStrictEqual(
      E.right([
        {
          commandId: 'c-a',
          status: 'error',
          retryable: false,
          message: 'NOT NULL constraint failed: options.table (from env T).name',
        },
        {
          commandId: 'c-b',
          status: 'error',
          retryable: false,
          message: 'NOT NULL constraint failed: options.groupsTable (from env G).added_by',
        },
      ]),
    );
  });

  it('when the adapter is asked directly, below the guard of the port, then its messages already name the options', () => {
    // lookupOn and applierOn are what the threads run: they must not rely on the wrapper in secrets.ts.
    const db = new Database(':memory:');
    db.exec(`CREATE TABLE "${SECRET}" (email TEXT PRIMARY KEY, name NOT NULL)`);
    const label = 'options.table (from env T)';
    const names = tableNamesOf(config({}), SECRET, undefined, { table: label });
    const place = placeOf(':memory:', ':memory:', [[SECRET, label]]);
    expect(applierOn(db, names, place)(toWire([create('a', { name: null })]))).toStrictEqual(
      E.right([[0, `NOT NULL constraint failed: ${label}.name`, false]]),
    );
    db.exec(`DROP TABLE "${SECRET}"; CREATE TABLE "${SECRET}" (email TEXT PRIMARY KEY)`);
    expect(lookupOn(db, names, place)(['a'])).toStrictEqual(
      E.left({ _tag: 'DestinationMisconfigured', message: `table ${label} has no column name` }),
    );
    db.close();
  });
});

describe('messages for files SQLite cannot write', () => {
  const place = placeOf('/data/crm.db', 'exports/crm.db');
  const access =
    (readOnly: readonly string[], missing: readonly string[] = []): FileAccess =>
    (path) =>
      missing.includes(path) ? 'missing' : readOnly.includes(path) ? 'read-only' : 'writable';

  it('given a -shm file left read-only beside a writable database, when a write fails, then the file is named with what to do', () => {
    expect(
      sqliteMessage(
        { code: 'SQLITE_READONLY', message: 'attempt to write a readonly database' },
        place,
        access(['/data/crm.db-shm']),
      ),
    ).toBe(
      'attempt to write a readonly database (exports/crm.db-shm is read-only: SQLite made it beside the database ' +
        'while the database was read-only, and it keeps every write failing after the database is made writable ' +
        'again; make it writable by the user syncline runs as)',
    );
  });

  it('given both side files read-only, when SQLite cannot open, then both are named', () => {
    expect(readOnlyHint('SQLITE_CANTOPEN', place, access(['/data/crm.db-wal', '/data/crm.db-shm']))).toMatch(
      /^exports\/crm\.db-wal and exports\/crm\.db-shm are read-only: SQLite made them .* make them writable/,
    );
  });

  it('given the database itself read-only, when a write fails, then the database is named first', () => {
    expect(readOnlyHint('SQLITE_READONLY', place, access(['/data/crm.db', '/data/crm.db-shm']))).toBe(
      'exports/crm.db is read-only: make it writable by the user syncline runs as, and its -wal and -shm files ' +
        "too if SQLite made them meanwhile (it gives them the database file's permissions)",
    );
  });

  it('given a read-only directory, when SQLite cannot make its side files, then the directory is named', () => {
    expect(
      readOnlyHint('SQLITE_READONLY_DIRECTORY', place, access([], ['/data/crm.db-wal', '/data/crm.db-shm'])),
    ).toBe(
      "the directory of exports/crm.db is read-only: SQLite creates the database's -wal and -shm files beside it, " +
        'so make the directory writable by the user syncline runs as',
    );
  });

  it('given other failures, or a private database, when said, then nothing is added', () => {
    expect(readOnlyHint('SQLITE_CONSTRAINT_NOTNULL', place, access(['/data/crm.db-shm']))).toBeUndefined();
    expect(readOnlyHint('SQLITE_READONLY', placeOf(':memory:'), access([':memory:-shm']))).toBeUndefined();
    expect(readOnlyHint('SQLITE_READONLY', place, access([]))).toBeUndefined();
  });

  it('given a system call that fails on a path, when said, then its reason is given without the path', () => {
    const e = Object.assign(new Error(`EACCES: permission denied, mkdir '/vault/${SECRET}'`), {
      code: 'EACCES',
      syscall: 'mkdir',
    });
    expect(openMessage(e, placeOf(`/vault/${SECRET}/crm.db`, 'options.path (from env P)'))).toBe(
      'cannot open options.path (from env P): permission denied',
    );
  });
});

/** Runs `script` as a user for whom permissions hold: root reads and writes whatever the mode says. */
const asUnprivileged = (script: string): Promise<{ code: number | null; stdout: string; stderr: string }> =>
  new Promise((resolve) => {
    const root = process.getuid?.() === 0;
    const child = execFile(
      process.execPath,
      [script],
      { encoding: 'utf8', timeout: 30_000, ...(root ? { uid: 65534, gid: 65534 } : {}) },
      (_, stdout, stderr) => resolve({ code: child.exitCode, stdout, stderr }),
    );
  });

const BUILT_SQLITE = new URL('../dist/adapters/destinations/sqlite/destination.js', import.meta.url);

describe('a destination whose database was read-only for a while', () => {
  it('given its -wal and -shm files were made while it was read-only, when the database is writable again, then writes fail naming them', async (ctx) => {
    const work = join(dir, 'work');
    mkdirSync(work);
    const path = join(work, 'crm.db');
    const script = join(work, 'readonly.mjs');
    const c = config({ path, table: 'contacts' });
    // Each step opens the destination afresh, as each `sync` does.
    writeFileSync(
      script,
      `import { chmodSync } from 'node:fs';
import { sqliteDestinationType } from ${JSON.stringify(BUILT_SQLITE.href)};
const command = (key) => ({
  commandId: key, profileId: key, operation: 'create', key,
  fields: { set: { email: key, name: key }, unset: [] }, groups: { add: [], remove: [] },
});
const applyOnce = async (key) => {
  const d = (await sqliteDestinationType.open(${JSON.stringify(c)}, {})()).right;
  const r = await d.apply([command(key)])();
  await d.close();
  return r._tag === 'Left' ? r.left.message : r.right[0].status === 'ok' ? 'ok' : r.right[0].message;
};
const seen = [await applyOnce('a')];
chmodSync(${JSON.stringify(path)}, 0o444);
seen.push(await applyOnce('b'));
chmodSync(${JSON.stringify(path)}, 0o644);
seen.push(await applyOnce('c'));
console.log(JSON.stringify(seen));
`,
    );
    if (process.getuid?.() === 0) {
      // Run as nobody; the files it makes are then its own.
      chmodSync(dir, 0o755);
      chownSync(work, 65534, 65534);
    }
    const run = await asUnprivileged(script);
    if (run.code !== 0 && /EACCES|EPERM|Cannot find module/.test(run.stderr))
      return ctx.skip(
        `cannot run as an unprivileged user here, and as root permissions deny nothing: ${run.stderr.split('\n')[0]}`,
      );
    expect(run.stderr).toBe('');
    const [first, whileReadOnly, after] = JSON.parse(run.stdout) as string[];
    expect(first).toBe('ok');
    expect(whileReadOnly).toMatch(
      /^attempt to write a readonly database \(.*crm\.db is read-only: make it writable/,
    );
    expect(after).toMatch(
      /^attempt to write a readonly database \(.*crm\.db-shm is read-only: SQLite made it beside/,
    );
  });
});
