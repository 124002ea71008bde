// `sync --follow` and the rxjs bridges: a follower applies events as they are ingested by another
// process, prints one JSON line per run that did something, and stops cleanly on SIGTERM; on each
// kind of event store, which the config file names.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { from, lastValueFrom } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { foldingWorld } from '../adapters/rxjs/live.js';
import { profileOf } from '../projections/world.js';
import { CLI_PATH, runCli, tempDir } from './support/cli.js';
import { created, groupCreated, joined } from './support/given.js';
import { storeKinds, type StoreKind } from './support/storeKinds.js';

const config = (store: string) => ({
  store,
  destinations: [
    {
      destinationId: 'warehouse',
      type: 'sqlite',
      syncMode: 'sync',
      collection: { kind: 'all' },
      keyField: 'email',
      mapping: { email: 'email' },
      options: { path: 'warehouse.db', table: 'customers' },
    },
  ],
});

const line = (profileId: string): string =>
  JSON.stringify({ type: 'ProfileCreated', data: { profileId, properties: { email: `${profileId}@x.io` } } });

for (const kind of storeKinds)
  describe.skipIf(!kind.runs)(`sync --follow on a ${kind.name} store`, () => following(kind));

function following(kind: StoreKind): void {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  beforeAll(async () => {
    dir = await tempDir();
    await dir.write('syncline.config.json', config(kind.freshUrl()));
    await dir.write('first.jsonl', `${line('p1')}\n`);
    await dir.write('second.jsonl', `${line('p2')}\n${line('p3')}\n`);
    expect((await runCli(['apply'], { cwd: dir.path })).code).toBe(0);
    expect((await runCli(['ingest', 'first.jsonl'], { cwd: dir.path })).code).toBe(0);
  });
  afterAll(async () => {
    await dir.remove();
    await kind.dropStores();
  });

  it('given a follower, when events are ingested by another process, then it syncs them and stops on SIGTERM', async () => {
    const child = spawn(process.execPath, [CLI_PATH, 'sync', '--follow', '--json'], { cwd: dir.path });
    // A failing expectation must not leave a follower running after the suite.
    onTestFinished(() => void child.kill('SIGKILL'));
    const runs: { totals: { created: number } }[] = [];
    let buffer = '';
    child.stdout.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      const lines = buffer.split('\n');
      buffer = lines.pop() ?? '';
      for (const l of lines) if (l.trim() !== '') runs.push(JSON.parse(l) as { totals: { created: number } });
    });
    const waitForRuns = async (n: number): Promise<void> => {
      for (let waited = 0; runs.length < n; waited += 50) {
        if (waited > 20_000) throw new Error(`saw ${runs.length} runs, wanted ${n}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    };
    await waitForRuns(1);
    expect(runs[0]?.totals.created).toBe(1);
    expect((await runCli(['ingest', 'second.jsonl'], { cwd: dir.path })).code).toBe(0);
    await waitForRuns(2);
    // The two events may land in one run or two, depending on when the follower wakes.
    for (
      let waited = 0;
      runs.slice(1).reduce((n, r) => n + r.totals.created, 0) < 2 && waited < 5000;
      waited += 50
    ) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(runs.slice(1).reduce((n, r) => n + r.totals.created, 0)).toBe(2);
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    const db = new Database(join(dir.path, 'warehouse.db'), { readonly: true });
    const keys = db.prepare('SELECT email FROM customers ORDER BY email').pluck().all();
    db.close();
    expect(keys).toEqual(['p1@x.io', 'p2@x.io', 'p3@x.io']);
  });
}

describe('the rxjs bridges', () => {
  it('given input events as an Observable, when folded with foldingWorld, then the last world is the fold of all of them', async () => {
    const world = await lastValueFrom(
      from([groupCreated('vip'), created('p1', { email: 'a@x.io' }), joined('p1', 'vip')]).pipe(
        foldingWorld(),
      ),
    );
    expect(profileOf(world, 'p1')).toEqual({ properties: { email: 'a@x.io' }, groups: ['vip'] });
  });
});
