// A workspace for the ingest fault specs: a config, a store holding a few events, the built CLI run
// in it (with stdin when given), every stored row as text to compare, and events of the wrong shape.
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { CLI_PATH, runCli, tempDir, type CliResult } from './cli.js';

export const crm = {
  destinationId: 'crm',
  type: 'sqlite',
  syncMode: 'sync',
  collection: { kind: 'all' },
  keyField: 'email',
  mapping: { email: 'email' },
  options: { path: 'crm.db', table: 'contacts' },
};

export const created = (profileId: string, email = `${profileId}@example.com`): string =>
  JSON.stringify({ type: 'ProfileCreated', data: { profileId, properties: { email } } });

export const lines = (...ls: string[]): string => `${ls.join('\n')}\n`;

/** The message JSON.parse gives for `text`, as ingest quotes it. */
export const jsonError = (text: string): string => {
  try {
    JSON.parse(text);
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error(`${text} is valid JSON`);
};

export type Workspace = Awaited<ReturnType<typeof workspace>>;

/** A directory with the crm config applied and vip, p1 and p2 ingested. */
export const workspace = async () => {
  const dir = await tempDir();
  const storePath = join(dir.path, '.syncline/events.db');
  await dir.write('syncline.config.json', { destinations: [crm] });
  const cli = (args: readonly string[], stdin?: Buffer): Promise<CliResult> =>
    stdin === undefined
      ? runCli(args, { cwd: dir.path })
      : new Promise((resolve) => {
          const env = { ...process.env };
          for (const name of ['SYNCLINE_STORE', 'FORCE_COLOR', 'NO_COLOR']) delete env[name];
          const child = execFile(
            process.execPath,
            [CLI_PATH, ...args],
            { cwd: dir.path, env, encoding: 'utf8' },
            (error, stdout, stderr) =>
              resolve({
                code: error === null ? 0 : typeof error.code === 'number' ? error.code : -1,
                stdout,
                stderr,
              }),
          );
          child.stdin?.end(stdin);
        });
  /** Every stored event row, as text: what a store audit would see. */
  const rows = (): string[] => {
    const db = new Database(storePath, { readonly: true });
    try {
      return db
        .prepare('SELECT * FROM events ORDER BY position')
        .all()
        .map((e) => JSON.stringify(e));
    } finally {
      db.close();
    }
  };
  const put = (name: string, content: string | Buffer): Promise<void> =>
    writeFile(join(dir.path, name), content);
  await put(
    'base.jsonl',
    lines(
      JSON.stringify({ type: 'GroupCreated', data: { groupId: 'vip', name: 'VIP' } }),
      created('p1'),
      created('p2'),
    ),
  );
  for (const args of [['apply'], ['ingest', 'base.jsonl']]) {
    const r = await cli(args);
    if (r.code !== 0) throw new Error(`${args.join(' ')} failed: ${r.stderr}`);
  }
  return { dir, storePath, cli, rows, put };
};

const destination = { ...crm, destinationId: 'crm2', name: 'CRM 2' };

/** An event of each type, and the fields to put a value of the wrong type in, with that value. */
export const wrongTypes: [unknown, [string, unknown][]][] = [
  [
    { type: 'ProfileCreated', data: { profileId: 'p8', properties: { email: 'p8@x.io' } } },
    [
      ['type', 42],
      ['data', 'x'],
      ['data.profileId', 42],
      ['data.properties', []],
      ['data.properties.email', {}],
      ['id', 42],
      ['occurredAt', 42],
      ['x', 1],
    ],
  ],
  [
    { type: 'ProfilePropertiesChanged', data: { profileId: 'p1', set: { a: 1 }, unset: ['b'] } },
    [
      ['data.profileId', 42],
      ['data.set', 'x'],
      ['data.set.a', {}],
      ['data.unset', 'b'],
      ['data.unset[0]', 5],
    ],
  ],
  [
    { type: 'ProfileDeleted', data: { profileId: 'p1' } },
    [
      ['data.profileId', []],
      ['data.x', 1],
    ],
  ],
  [
    { type: 'GroupCreated', data: { groupId: 'g9', name: 'G' } },
    [
      ['data.groupId', 42],
      ['data.name', 42],
    ],
  ],
  [{ type: 'GroupDeleted', data: { groupId: 'vip' } }, [['data.groupId', false]]],
  [
    { type: 'ProfileJoinedGroup', data: { groupId: 'vip', profileId: 'p1' } },
    [
      ['data.groupId', 42],
      ['data.profileId', null],
    ],
  ],
  [
    { type: 'ProfileLeftGroup', data: { groupId: 'vip', profileId: 'p1' } },
    [
      ['data.groupId', {}],
      ['data.profileId', 42],
    ],
  ],
  [
    { type: 'DestinationConfigured', data: destination },
    [
      ['data.destinationId', 42],
      ['data.name', 42],
      ['data.type', 42],
      ['data.syncMode', 42],
      ['data.collection', 'all'],
      ['data.collection.kind', 42],
      ['data.keyField', 42],
      ['data.mapping', 'x'],
      ['data.mapping.email', 42],
      ['data.options', 'x'],
    ],
  ],
  [{ type: 'DestinationRemoved', data: { destinationId: 'crm' } }, [['data.destinationId', 42]]],
];

/** `event` with the value at `path` (`a.b[0]`) replaced. */
export const changedAt = (event: unknown, path: string, value: unknown): unknown => {
  const copy = structuredClone(event) as Record<string, unknown>;
  const keys = path.replace(/\[(\d+)\]/g, '.$1').split('.');
  let at = copy;
  for (const k of keys.slice(0, -1)) at = at[k] as Record<string, unknown>;
  at[keys.at(-1) as string] = value;
  return copy;
};
