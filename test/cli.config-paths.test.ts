// Relative paths in a config file (`store`, a destination's `options.path`) are relative to the
// file's directory, so a command run from anywhere with --config finds the same files.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempDir } from './support/cli.js';

const CONFIG = {
  store: 'sqlite:data/events.db',
  destinations: [
    {
      destinationId: 'warehouse',
      type: 'sqlite',
      syncMode: 'sync',
      collection: { kind: 'all' },
      keyField: 'email',
      mapping: { email: 'email' },
      options: { path: 'out/warehouse.db', table: 'customers' },
    },
  ],
};

describe('relative paths in a config file', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let project: string;
  let elsewhere: string;
  beforeAll(async () => {
    dir = await tempDir();
    project = join(dir.path, 'project');
    elsewhere = join(dir.path, 'elsewhere');
    mkdirSync(project);
    mkdirSync(elsewhere);
    await dir.write('project/syncline.config.json', CONFIG);
    await dir.write(
      'people.jsonl',
      `${JSON.stringify({ type: 'ProfileCreated', data: { profileId: 'p1', properties: { email: 'p1@x.io' } } })}\n`,
    );
  });
  afterAll(() => dir.remove());

  it('given a config with a relative store and destination path, when every command runs from another directory, then they are the files beside the config', async () => {
    const config = ['--config', '../project/syncline.config.json'];
    for (const args of [['apply'], ['ingest', '../people.jsonl'], ['sync']]) {
      const r = await runCli([...args, ...config], { cwd: elsewhere });
      expect(r.stderr, args.join(' ')).toBe('');
      expect(r.code, args.join(' ')).toBe(0);
    }
    expect(existsSync(join(project, 'data', 'events.db'))).toBe(true);
    const db = new Database(join(project, 'out', 'warehouse.db'), { readonly: true });
    const emails = db.prepare('SELECT email FROM customers').pluck().all();
    db.close();
    expect(emails).toEqual(['p1@x.io']);
    expect(existsSync(join(elsewhere, 'data'))).toBe(false);
    expect(existsSync(join(elsewhere, 'out'))).toBe(false);

    // status opens the destination to count its records: the same file, seen from the project too.
    const fromElsewhere = await runCli(['status', '--json', ...config], { cwd: elsewhere });
    const fromProject = await runCli(['status', '--json'], { cwd: project });
    const records = (out: string) =>
      (JSON.parse(out) as { destinations: { records: unknown }[] }).destinations[0]?.records;
    expect(records(fromElsewhere.stdout)).toStrictEqual({ held: 1, written: 1, missing: 0 });
    expect(records(fromProject.stdout)).toStrictEqual({ held: 1, written: 1, missing: 0 });
  });

  it('given --store on the command line, then its relative path is relative to the working directory', async () => {
    const r = await runCli(
      ['status', '--store', 'sqlite:../project/data/events.db', '--config', 'none.json'],
      {
        cwd: elsewhere,
      },
    );
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('store head: position');
  });
});
