// Input the CLI must refuse, run with the built CLI: each case exits 1 with its exact message on
// stderr, prints nothing on stdout, and leaves the store as it was; secrets never reach the store.
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI_PATH, runCli, tempDir, type CliResult } from './support/cli.js';

const TYPES =
  'ProfileCreated, ProfilePropertiesChanged, ProfileDeleted, GroupCreated, GroupDeleted, ' +
  'ProfileJoinedGroup, ProfileLeftGroup, DestinationConfigured, DestinationRemoved';

const crm = (options: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  destinationId: 'crm',
  type: 'sqlite',
  syncMode: 'sync',
  collection: { kind: 'all' },
  keyField: 'email',
  mapping: { email: 'email' },
  options,
  ...extra,
});

const created = (profileId: string) =>
  JSON.stringify({
    type: 'ProfileCreated',
    data: { profileId, properties: { email: `${profileId}@example.com` } },
  });
const lines = (...ls: string[]): string => ls.join('\n') + '\n';

describe('syncline refuses bad input and leaves the store unchanged', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  const cli = (args: string[], env: Record<string, string> = {}): Promise<CliResult> =>
    runCli(args, { cwd: dir.path, env });
  /** Every stored event, as text: what a store audit (or an attacker with the file) would see. */
  const storedEvents = (): string[] => {
    const db = new Database(join(dir.path, '.syncline/events.db'), { readonly: true });
    try {
      return db
        .prepare('SELECT * FROM events ORDER BY position')
        .all()
        .map((e) => JSON.stringify(e));
    } finally {
      db.close();
    }
  };
  const refused = async (args: string[], stderr: string, env: Record<string, string> = {}) => {
    const before = storedEvents();
    expect(await cli(args, env)).toEqual({ code: 1, stdout: '', stderr });
    expect(storedEvents()).toEqual(before);
  };
  const ingestRefused = async (name: string, content: string, problems: readonly string[]) => {
    await dir.write(name, content);
    await refused(['ingest', name], lines(...problems));
    await refused(['ingest', name, '--json'], lines(...problems));
  };

  beforeAll(async () => {
    dir = await tempDir();
    await dir.write('syncline.config.json', { destinations: [crm({ path: 'crm.db', table: 'contacts' })] });
    await dir.write(
      'base.jsonl',
      lines(
        JSON.stringify({ type: 'GroupCreated', data: { groupId: 'vip', name: 'VIP' } }),
        created('p1'),
        created('p2'),
      ),
    );
    expect((await cli(['apply'])).code).toBe(0);
    expect((await cli(['ingest', 'base.jsonl'])).code).toBe(0);
  });
  afterAll(() => dir.remove());

  it('given a line that is not JSON, when ingested, then the line is named with the parser error', async () => {
    const broken = '{"type": "ProfileCreated", data: {}}';
    const reason = ((): string => {
      try {
        JSON.parse(broken);
        return '';
      } catch (e) {
        return (e as Error).message;
      }
    })();
    await ingestRefused('malformed.jsonl', lines(created('p3'), broken), [
      `line 2: not valid JSON (${reason})`,
    ]);
  });

  it('given an unknown event type, when ingested, then the known types are listed', async () => {
    await ingestRefused('unknown-type.jsonl', lines(created('p3'), '{"type":"Foo","data":{}}'), [
      `line 2: type: "Foo" is not one of ${TYPES}`,
    ]);
  });

  it('given events for a profile that does not exist, when ingested, then each line is named', async () => {
    await ingestRefused(
      'unknown-profile.jsonl',
      lines(
        '{"type":"ProfileJoinedGroup","data":{"groupId":"vip","profileId":"p1"}}',
        '{"type":"ProfilePropertiesChanged","data":{"profileId":"p9","set":{"a":1}}}',
        '{"type":"ProfileDeleted","data":{"profileId":"p2"}}',
        '{"type":"ProfileJoinedGroup","data":{"groupId":"vip","profileId":"p2"}}',
        '{"type":"ProfileJoinedGroup","data":{"groupId":"gold","profileId":"p1"}}',
      ),
      [
        'line 2: data.profileId: profile p9 does not exist',
        'line 4: data.profileId: profile p2 does not exist',
        'line 5: data.groupId: group gold does not exist',
      ],
    );
  });

  it('given a profile created twice, in the store or in the file, when ingested, then both are refused', async () => {
    await ingestRefused('created-twice.jsonl', lines(created('p1'), created('p5'), '', created('p5')), [
      'line 1: data.profileId: profile p1 already exists',
      'line 4: data.profileId: profile p5 already exists',
    ]);
  });

  it('given an empty id, when ingested, then the field is named', async () => {
    await ingestRefused('empty-id.jsonl', lines('{"type":"ProfileDeleted","data":{"profileId":""}}'), [
      'line 1: data.profileId: must not be empty',
    ]);
  });

  it('given exactly 20 bad lines, when ingested, then 20 problems and no claim of more', async () => {
    const bad = Array.from(
      { length: 20 },
      (_, i) => `{"type":"ProfileDeleted","data":{"profileId":"x${i + 1}"}}`,
    );
    await ingestRefused(
      'twenty.jsonl',
      lines(...bad),
      bad.map((_, i) => `line ${i + 1}: data.profileId: profile x${i + 1} does not exist`),
    );
  });

  it('given 25 bad lines, when ingested, then the first 20 problems and a line saying there are more', async () => {
    const bad = Array.from(
      { length: 25 },
      (_, i) => `{"type":"ProfileDeleted","data":{"profileId":"x${i + 1}"}}`,
    );
    await ingestRefused('many.jsonl', lines(created('p3'), ...bad), [
      ...Array.from(
        { length: 20 },
        (_, i) => `line ${i + 2}: data.profileId: profile x${i + 1} does not exist`,
      ),
      '... more problems not shown (first 20)',
    ]);
  });

  it('given a bad line on stdin, when ingested from -, then it is refused and the temporary copy removed', async () => {
    const scratch = join(dir.path, 'tmp');
    await mkdir(scratch, { recursive: true });
    const before = storedEvents();
    const env: NodeJS.ProcessEnv = { ...process.env, TMPDIR: scratch };
    for (const name of ['SYNCLINE_STORE', 'FORCE_COLOR', 'NO_COLOR']) delete env[name];
    const r = await new Promise<CliResult>((resolve) => {
      const child = execFile(
        process.execPath,
        [CLI_PATH, 'ingest', '-'],
        { cwd: dir.path, env, encoding: 'utf8' },
        (error, stdout, stderr) =>
          resolve({
            code: error === null ? 0 : typeof error.code === 'number' ? error.code : -1,
            stdout,
            stderr,
          }),
      );
      child.stdin?.end(lines(created('p3'), '{"type":"ProfileDeleted","data":{"profileId":"p9"}}'));
    });
    expect(r).toEqual({ code: 1, stdout: '', stderr: 'line 2: data.profileId: profile p9 does not exist\n' });
    expect(storedEvents()).toEqual(before);
    expect(await readdir(scratch)).toEqual([]);
  });

  it.each([
    ['status'],
    ['plan'],
    ['sync'],
    ['log', '--destination', 'crm'],
    ['replay', '--destination', 'crm'],
  ])(
    'given a directory with no store, when `%s` runs, then it says so and creates none',
    async (...args: string[]) => {
      const fresh = await tempDir();
      try {
        expect(await runCli(args, { cwd: fresh.path })).toEqual({
          code: 1,
          stdout: '',
          stderr:
            `syncline: there is no store at ${join(fresh.path, '.syncline/events.db')} yet: record a configuration ` +
            'with `syncline apply` and events with `syncline ingest` first, or point --store at an existing store\n',
        });
        expect(existsSync(join(fresh.path, '.syncline'))).toBe(false);
      } finally {
        await fresh.remove();
      }
    },
  );

  describe('given a store file that is not a store', () => {
    const readers = [
      ['status'],
      ['plan'],
      ['sync'],
      ['log', '--destination', 'crm'],
      ['explain', '--destination', 'crm', '--profile', 'p1'],
      ['replay', '--destination', 'crm'],
      ['retry', '--destination', 'crm'],
    ];
    const storeIn = async (content: Buffer | null) => {
      const fresh = await tempDir();
      await mkdir(join(fresh.path, '.syncline'));
      const path = join(fresh.path, '.syncline/events.db');
      if (content === null) {
        const db = new Database(path);
        db.exec('CREATE TABLE invoices (id INTEGER PRIMARY KEY)');
        db.close();
      } else writeFileSync(path, content);
      return { fresh, path, before: readFileSync(path) };
    };

    it.each(readers)(
      'when it is empty (zero bytes), then `%s` refuses it naming the file, and leaves it empty',
      async (...args: string[]) => {
        const { fresh, path } = await storeIn(Buffer.alloc(0));
        try {
          expect(await runCli(args, { cwd: fresh.path })).toEqual({
            code: 1,
            stdout: '',
            stderr:
              `syncline: ${path} is empty, not a syncline store: record a configuration with \`syncline apply\` ` +
              'and events with `syncline ingest` to make it one, or point --store at an existing store\n',
          });
          expect(statSync(path).size).toBe(0);
          expect(readdirSync(join(fresh.path, '.syncline'))).toEqual(['events.db']);
        } finally {
          await fresh.remove();
        }
      },
    );

    it('when it is empty (zero bytes), then ingest makes it a store', async () => {
      const { fresh } = await storeIn(Buffer.alloc(0));
      try {
        await fresh.write('one.jsonl', lines(created('p1')));
        expect(await runCli(['ingest', 'one.jsonl'], { cwd: fresh.path })).toEqual({
          code: 0,
          stdout: 'ingested 1 event from one.jsonl\n',
          stderr: '',
        });
        expect((await runCli(['status'], { cwd: fresh.path })).code).toBe(0);
      } finally {
        await fresh.remove();
      }
    });

    it.each([...readers, ['apply'], ['ingest', 'base.jsonl']])(
      "when it is a text file, or another program's SQLite database, then `%s` refuses it and leaves it as it was",
      async (...args: string[]) => {
        for (const content of [Buffer.from('name,email\nann,ann@x.io\n'), null]) {
          const { fresh, path, before } = await storeIn(content);
          try {
            await fresh.write('base.jsonl', lines(created('p1')));
            await fresh.write('syncline.config.json', {
              destinations: [crm({ path: 'crm.db', table: 'contacts' })],
            });
            const r = await runCli(args, { cwd: fresh.path });
            expect({ ...r, stderr: r.stderr.replace(path, 'FILE') }).toEqual({
              code: 1,
              stdout: '',
              stderr:
                content === null
                  ? 'syncline: FILE is a SQLite database, but not a syncline store (it holds tables of its own); ' +
                    'point --store at a syncline store, or at a new file\n'
                  : 'syncline: FILE is not a syncline store: it is not a SQLite database\n',
            });
            expect(readFileSync(path)).toEqual(before);
          } finally {
            await fresh.remove();
          }
        }
      },
    );
  });

  it('given a file that does not exist, when ingested, then it is named and no store is created', async () => {
    const fresh = await tempDir();
    try {
      expect(await runCli(['ingest', 'nope.jsonl'], { cwd: fresh.path })).toEqual({
        code: 1,
        stdout: '',
        stderr: 'syncline: cannot read nope.jsonl: no such file\n',
      });
      expect(existsSync(join(fresh.path, '.syncline'))).toBe(false);
    } finally {
      await fresh.remove();
    }
  });

  it('given a config with a mode that does not exist, when validated or applied, then the modes are listed', async () => {
    await dir.write('mode.config.json', {
      destinations: [crm({ path: 'crm.db', table: 'contacts' }, { syncMode: 'mirror' })],
    });
    const problem = 'destination crm: syncMode: "mirror" is not one of sync, additive, enrich\n';
    await refused(['validate', '--config', 'mode.config.json'], problem);
    await refused(['apply', '--config', 'mode.config.json'], problem);
  });

  it('given a config with an unknown type and a missing option, when validated or applied, then both are named', async () => {
    await dir.write('type.config.json', {
      destinations: [crm({ path: 'crm.db' }), crm({}, { destinationId: 'hub', type: 'hubspot' })],
    });
    const problems = lines(
      'destination crm: options.table: is required by type sqlite',
      'destination hub: type "hubspot" is not a known destination type (http, memory, mysql, postgres, sqlite)',
    );
    await refused(['validate', '--config', 'type.config.json'], problems);
    await refused(['apply', '--config', 'type.config.json'], problems);
  });

  it('given a config file that is not UTF-8 (a Latin-1 é in a name), when validated or applied, then the line and byte are named and nothing is recorded', async () => {
    const text = JSON.stringify(
      { destinations: [crm({ path: 'crm.db', table: 'contacts' }, { name: 'Caf#' })] },
      null,
      2,
    );
    const [head, tail] = text.split('#') as [string, string];
    await writeFile(
      join(dir.path, 'latin1.config.json'),
      Buffer.concat([Buffer.from(head), Buffer.from([0xe9]), Buffer.from(tail)]),
    );
    const line = head.split('\n');
    const problem = `line ${line.length}: not valid UTF-8 (at byte ${(line.at(-1) as string).length + 1} of the line: 0xE9)\n`;
    await refused(['validate', '--config', 'latin1.config.json'], problem);
    await refused(['apply', '--config', 'latin1.config.json'], problem);
  });

  it('given an option nested 100,000 levels deep, when validated or applied, then the option is named, not a crash', async () => {
    const deep = `${'['.repeat(100_000)}1${']'.repeat(100_000)}`;
    await dir.write(
      'deep.config.json',
      JSON.stringify({ destinations: [crm({ path: 'x', table: 'contacts' })] }).replace('"x"', deep),
    );
    const problem = 'destination crm: options.path: nests deeper than 32 levels\n';
    await refused(['validate', '--config', 'deep.config.json'], problem);
    await refused(['apply', '--config', 'deep.config.json'], problem);
  });

  it('given one destination with a bad mode and another of an unknown type, when validated, then both are named at once', async () => {
    await dir.write('both.config.json', {
      destinations: [
        crm({ path: 'crm.db', table: 'contacts' }, { syncMode: 'mirror' }),
        crm({}, { destinationId: 'hub', type: 'hubspot' }),
      ],
    });
    await refused(
      ['validate', '--config', 'both.config.json'],
      lines(
        'destination crm: syncMode: "mirror" is not one of sync, additive, enrich',
        'destination hub: type "hubspot" is not a known destination type (http, memory, mysql, postgres, sqlite)',
      ),
    );
  });

  it('given options sync would refuse, when validated, applied or ingested, then each is named and nothing is stored', async () => {
    const bad = [
      crm({ path: 42, table: '' }),
      crm(
        { path: 'crm.db', table: 'con\u0000tacts', groupsTable: 'sqlite_lists' },
        { destinationId: 'hub', keyField: 'e\u0000mail', mapping: { 'e\u0000mail': 'email' } },
      ),
    ];
    await dir.write('unusable.config.json', { destinations: bad });
    const problems = [
      'destination crm: options.path: must be a string, not 42',
      'destination crm: options.table: must not be empty',
      'destination hub: options.table: must not contain a NUL character',
      'destination hub: options.groupsTable: must not start with sqlite_ (SQLite keeps those names for its own tables)',
      'destination hub: mapping: field "e\\u0000mail" must not contain a NUL character',
    ];
    await refused(['validate', '--config', 'unusable.config.json'], lines(...problems));
    await refused(['apply', '--config', 'unusable.config.json'], lines(...problems));
    await ingestRefused(
      'unusable.jsonl',
      lines(...bad.map((d) => JSON.stringify({ type: 'DestinationConfigured', data: d }))),
      problems.map((p, i) => `line ${i < 2 ? 1 : 2}: data: ${p}`),
    );
  });

  describe('given an option read from a variable that is not set', () => {
    const SECRET = 'vault-7f3a9c.db';
    beforeAll(() =>
      dir.write('env.config.json', {
        destinations: [crm({ path: { env: 'MISSING_VAR' }, table: 'contacts' })],
      }),
    );

    it('validate names the variable', async () => {
      await refused(
        ['validate', '--config', 'env.config.json'],
        'destination crm: options.path: environment variable MISSING_VAR is not set\n',
      );
    });

    it('apply records the reference, and sync then fails naming the variable', async () => {
      expect(await cli(['apply', '--config', 'env.config.json'])).toEqual({
        code: 0,
        stdout: 'changed: crm\n',
        stderr: '',
      });
      await refused(
        ['sync', '--config', 'env.config.json'],
        'syncline: destination crm: options.path: environment variable MISSING_VAR is not set\n',
      );
    });

    it('once it is set, validate and sync pass, and its value is nowhere in the store', async () => {
      const env = { MISSING_VAR: SECRET };
      expect(await cli(['validate', '--config', 'env.config.json'], env)).toEqual({
        code: 0,
        stdout: 'env.config.json is valid: 1 destination\n  crm  sqlite  sync  all profiles\n',
        stderr: '',
      });
      expect((await cli(['sync', '--config', 'env.config.json', '--json'], env)).code).toBe(0);
      expect(existsSync(join(dir.path, SECRET))).toBe(true);
      const events = storedEvents();
      expect(events.some((e) => e.includes('MISSING_VAR'))).toBe(true);
      expect(events.filter((e) => e.includes(SECRET))).toEqual([]);
    });
  });
});
