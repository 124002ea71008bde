// Fault injection, the secrets class: a sentinel value reaches one option at a time through
// `{"env": NAME}`, and every command runs where it succeeds and where that option makes it fail. The
// sentinel must appear in no output and nowhere in the store's files; failures name option and variable.
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { runCli, tempDir, type CliResult } from './support/cli.js';

/** Random, so that no fixed text the program prints can match it by chance. */
const SENTINEL = `s3ntinel${randomBytes(6).toString('hex')}`;

const destination = (type: string, options: Record<string, unknown> | undefined) => ({
  destinationId: 'crm',
  type,
  syncMode: 'sync',
  collection: { kind: 'all' },
  keyField: 'email',
  mapping: { email: 'email', name: 'name' },
  groupMapping: { vip: 'VIP' },
  ...(options === undefined ? {} : { options }),
});

const PROFILES = [
  { type: 'GroupCreated', data: { groupId: 'vip', name: 'VIP' } },
  {
    type: 'ProfileCreated',
    data: { profileId: 'p1', properties: { email: 'ada@example.com', name: 'Ada' } },
  },
  { type: 'ProfileCreated', data: { profileId: 'p2', properties: { email: 'bo@example.com', name: 'Bo' } } },
  { type: 'ProfileJoinedGroup', data: { groupId: 'vip', profileId: 'p1' } },
];
const jsonl = (events: readonly unknown[]): string => events.map((e) => JSON.stringify(e)).join('\n') + '\n';
const configured = (d: unknown) => ({ type: 'DestinationConfigured', data: d });

/** A destination type and one of its options, given through a variable. */
type OptionCase = {
  readonly type: 'sqlite' | 'memory';
  readonly option: string;
  readonly variable: string;
  /** the destination's options, with the one under test read from the variable */
  readonly options: (reference: unknown) => Record<string, unknown> | undefined;
  /** a value holding the sentinel with which every command succeeds (none for a type without options) */
  readonly good: string | undefined;
  /** a value holding the sentinel that the option's constraints refuse, if any can be */
  readonly refused: string | undefined;
  /** a value holding the sentinel that passes the checks, and the destination made to fail on it */
  readonly failing?: {
    readonly value: string;
    readonly prepare: (dir: string) => void;
    /** the commands whose output names the option, after the failed sync */
    readonly namedBy: readonly (readonly string[])[];
  };
};

const sqlite = (option: string, literal: Record<string, string>) => (reference: unknown) => ({
  ...literal,
  [option]: reference,
});

const withDatabase = (file: string, sql: string): void => {
  const db = new Database(file);
  try {
    db.exec(sql);
  } finally {
    db.close();
  }
};

const CASES: readonly OptionCase[] = [
  {
    type: 'sqlite',
    option: 'path',
    variable: 'SYNCLINE_SECRET_PATH',
    options: sqlite('path', { table: 'contacts' }),
    good: `${SENTINEL}.db`,
    // A path ending in a separator names a directory, which no SQLite file can be.
    refused: `${SENTINEL}/`,
    failing: {
      // A file that is not a database: the destination cannot open it.
      value: SENTINEL,
      prepare: (dir) => writeFileSync(join(dir, SENTINEL), 'not a database, '.repeat(512)),
      namedBy: [['sync'], ['plan']],
    },
  },
  {
    type: 'sqlite',
    option: 'table',
    variable: 'SYNCLINE_SECRET_TABLE',
    options: sqlite('table', { path: 'crm.db' }),
    good: SENTINEL,
    refused: `sqlite_${SENTINEL}`,
    failing: {
      // The user's table lacks a mapped column: the run fails as a whole, and status shows why.
      value: SENTINEL,
      prepare: (dir) =>
        withDatabase(join(dir, 'crm.db'), `CREATE TABLE "${SENTINEL}" (email TEXT PRIMARY KEY)`),
      namedBy: [['sync'], ['plan'], ['status'], ['status', '--json']],
    },
  },
  {
    type: 'sqlite',
    option: 'groupsTable',
    variable: 'SYNCLINE_SECRET_GROUPS',
    options: sqlite('groupsTable', { path: 'crm.db', table: 'contacts' }),
    good: SENTINEL,
    refused: `sqlite_${SENTINEL}`,
    failing: {
      // SQLite refuses each group row (its own message names the table): commands fail one by one.
      value: SENTINEL,
      prepare: (dir) =>
        withDatabase(
          join(dir, 'crm.db'),
          `CREATE TABLE "${SENTINEL}" (record_key TEXT NOT NULL, group_name TEXT NOT NULL, added_by TEXT NOT NULL)`,
        ),
      namedBy: [
        ['sync', '--json'],
        ['log', '--destination', 'crm', '--json'],
        ['explain', '--destination', 'crm', '--profile', 'p1', '--json'],
      ],
    },
  },
  {
    // The memory type takes no options: one read from a variable is refused, never resolved.
    type: 'memory',
    option: 'token',
    variable: 'SYNCLINE_SECRET_TOKEN',
    options: (reference) => (reference === undefined ? undefined : { token: reference }),
    good: undefined,
    refused: undefined,
  },
];

const labelOf = (c: OptionCase): string => `options.${c.option} (from env ${c.variable})`;

/** The commands that read the store, each once: they print what runs recorded, failures included. */
const READERS: readonly (readonly string[])[] = [
  ['status'],
  ['status', '--json'],
  ['log', '--destination', 'crm', '--json'],
  ['explain', '--destination', 'crm', '--profile', 'p1'],
  ['replay', '--destination', 'crm', '--verify'],
  ['retry', '--destination', 'crm'],
];

type Workspace = {
  readonly dir: string;
  /** runs a command and checks that the sentinel is nowhere in what it printed */
  readonly run: (args: readonly string[]) => Promise<CliResult>;
  readonly remove: () => Promise<void>;
};

const workspace = async (
  c: OptionCase,
  value: string | undefined,
  reference: unknown,
): Promise<Workspace> => {
  const dir = await tempDir();
  const d = destination(c.type, c.options(reference));
  await dir.write('syncline.config.json', { destinations: [d] });
  await dir.write('events.jsonl', jsonl([configured(d), ...PROFILES]));
  await dir.write('scenario.json', { destination: d, events: PROFILES });
  const env: Record<string, string> = value === undefined ? {} : { [c.variable]: value };
  return {
    dir: dir.path,
    run: async (args) => {
      const r = await runCli(args, { cwd: dir.path, env });
      expect(r.stdout, `stdout of ${args.join(' ')}`).not.toContain(SENTINEL);
      expect(r.stderr, `stderr of ${args.join(' ')}`).not.toContain(SENTINEL);
      return r;
    },
    remove: dir.remove,
  };
};

/** The store's files as bytes: what a backup, a copy or an attacker with the file would hold. */
const expectStoreClean = (dir: string): void => {
  const files = ['events.db', 'events.db-wal', 'events.db-shm'].map((f) => join(dir, '.syncline', f));
  for (const file of files.filter((f) => existsSync(f)))
    expect(readFileSync(file).includes(SENTINEL), `${file} holds the sentinel`).toBe(false);
};

const textOf = (r: CliResult): string => r.stdout + r.stderr;

describe.each(CASES)('given the $type option $option read from a variable', (c) => {
  const reference = { env: c.variable };

  it('when it holds a good value, then every command succeeds and the value is in no output and not in the store', async () => {
    // The memory type has no option to hold it: its destination runs without, the variable set all the same.
    const w = await workspace(c, c.good ?? SENTINEL, c.good === undefined ? undefined : reference);
    try {
      for (const args of [
        ['validate'],
        ['apply'],
        ['ingest', 'events.jsonl'],
        ['plan'],
        ['sync'],
        ['sync', '--json'],
      ])
        expect((await w.run(args)).code, args.join(' ')).toBe(0);
      for (const args of [
        ...READERS,
        ['describe'],
        ['describe', 'sqlite', '--json'],
        ['simulate', 'scenario.json'],
      ])
        expect((await w.run(args)).code, args.join(' ')).toBe(0);
      if (c.type === 'sqlite' && c.option !== 'path')
        // The destination was written under the variable's value, as asked.
        expect(existsSync(join(w.dir, 'crm.db'))).toBe(true);
      if (c.option === 'path') expect(existsSync(join(w.dir, `${SENTINEL}.db`))).toBe(true);
      expectStoreClean(w.dir);
    } finally {
      await w.remove();
    }
  });

  // The memory type takes no option, so nothing it holds can be refused or fail it.
  const refused = c.refused;
  if (refused !== undefined)
    it('when it holds a value its constraints refuse, then validate, plan and sync fail naming option and variable, not the value', async () => {
      const w = await workspace(c, refused, reference);
      try {
        const validate = await w.run(['validate']);
        expect(validate.code).toBe(1);
        expect(validate.stderr).toContain(`destination crm: ${labelOf(c)}: `);
        // apply and ingest record the reference: the variable is read where the destination opens.
        expect((await w.run(['apply'])).code).toBe(0);
        expect((await w.run(['ingest', 'events.jsonl'])).code).toBe(0);
        for (const args of [['plan'], ['sync'], ['sync', '--json']]) {
          const r = await w.run(args);
          expect(r.code, args.join(' ')).toBe(1);
          expect(r.stderr, args.join(' ')).toContain(`destination crm: ${labelOf(c)}: `);
        }
        for (const args of READERS) await w.run(args);
        expect((await w.run(['simulate', 'scenario.json'])).code).toBe(0);
        expectStoreClean(w.dir);
      } finally {
        await w.remove();
      }
    });

  const failing = c.failing;
  if (failing !== undefined)
    it('when the destination fails on its value, then every failure names option and variable, and the value is nowhere', async () => {
      const w = await workspace(c, failing.value, reference);
      try {
        failing.prepare(w.dir);
        for (const args of [['validate'], ['apply'], ['ingest', 'events.jsonl']])
          expect((await w.run(args)).code, args.join(' ')).toBe(0);
        const sync = await w.run(['sync']);
        expect(sync.code).toBe(1);
        // A second run meets the same fault (or, after failed commands, has nothing left to do).
        await w.run(['sync', '--json']);
        for (const args of [['plan'], ...READERS]) await w.run(args);
        for (const args of failing.namedBy)
          expect(textOf(await w.run(args)), args.join(' ')).toContain(labelOf(c));
        expect((await w.run(['retry', '--destination', 'crm'])).code).toBe(0);
        expect((await w.run(['simulate', 'scenario.json'])).code).toBe(0);
        expectStoreClean(w.dir);
      } finally {
        await w.remove();
      }
    });

  it('when its reference is malformed, then validate, apply, ingest and simulate refuse it naming the option', async () => {
    // An unknown field beside `env` (or, for the memory type, the option itself) is refused, and the
    // variable it names is never read.
    const malformed = c.type === 'memory' ? reference : { env: c.variable, fallback: 'x' };
    const w = await workspace(c, SENTINEL, malformed);
    try {
      for (const args of [
        ['validate'],
        ['apply'],
        ['ingest', 'events.jsonl'],
        ['simulate', 'scenario.json'],
      ]) {
        const r = await w.run(args);
        expect(r.code, args.join(' ')).toBe(1);
        expect(r.stderr, args.join(' ')).toContain(`options.${c.option}`);
      }
      for (const args of [['plan'], ['sync'], ['status'], ['describe', 'nosuchtype']]) await w.run(args);
      expectStoreClean(w.dir);
    } finally {
      await w.remove();
    }
  });
});
