// The engine state file through the built CLI: built once from the store and then only caught up,
// saved at the end of every command (a failed sync's too) and between a follower's rounds, and
// emptied and folded again on --rebuild-state; status says where the state is and what it folded.
import { spawn } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { Readable } from 'node:stream';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import * as E from 'fp-ts/lib/Either.js';
import { openSqliteStore } from '../adapters/stores/sqlite/store.js';
import { ingest } from '../engine/input/ingest.js';
import { initialState } from '../engine/state/engineState.js';
import { FOLDED_AT_END } from '../adapters/cli/workspace.js';
import { CLI_PATH, runCli, tempDir } from './support/cli.js';

type Status = { head: number; state: { path: string | null; savedAt: number; folded: number } };

/** status --json without its `state`, which says how the answer was come by, not what it is. */
const apartFromState = (stdout: string): string => {
  const { state: _, ...rest } = JSON.parse(stdout) as Status;
  return JSON.stringify(rest);
};

describe('the engine state file in the CLI', () => {
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  let dir = '';
  let statePath = '';
  const cli = (...args: string[]) => runCli(args, { cwd: dir });
  const head = (): number => {
    const db = new Database(join(dir, 'events.db'), { readonly: true });
    try {
      return db.prepare('SELECT max(position) FROM events').pluck().get() as number;
    } finally {
      db.close();
    }
  };
  /** The position the state file was last saved at, read as another process reads it. */
  const saved = (): number | null => {
    if (!existsSync(statePath)) return null;
    const db = new Database(statePath, { readonly: true });
    try {
      return Number(db.prepare(`SELECT value FROM meta WHERE name = 'position'`).pluck().get());
    } finally {
      db.close();
    }
  };
  const removeState = (): void => {
    for (const suffix of ['', '-wal', '-shm']) rmSync(`${statePath}${suffix}`, { force: true });
  };
  const status = async (...global: string[]): Promise<Status> => {
    const r = await cli(...global, 'status', '--json');
    expect(r.code).toBe(0);
    return JSON.parse(r.stdout) as Status;
  };

  beforeAll(async () => {
    tmp = await tempDir();
    expect((await runCli(['demo', 'demo', '--json'], { cwd: tmp.path })).code).toBe(0);
    dir = join(tmp.path, 'demo');
    statePath = join(dir, 'events.state.db');
  }, 120_000);
  afterAll(() => tmp.remove());

  it('given a store and no state file, when a command runs, then it says once that it builds the state from the store, and the next says nothing and folds nothing', async () => {
    removeState();
    const first = await cli('status');
    expect(first.stderr).toBe(`syncline: building the engine state in ${statePath} from the store\n`);
    expect(first.code).toBe(0);
    expect(first.stdout).toContain(
      `\nstate: ${statePath}, saved at position 0; folded ${head()} positions after it\n`,
    );
    expect(saved()).toBe(head());
    const second = await cli('status');
    expect(second.stderr).toBe('');
    expect(second.stdout).toContain(
      `\nstate: ${statePath}, saved at position ${head()}; folded 0 positions after it\n`,
    );
    expect(await status()).toMatchObject({ state: { path: statePath, savedAt: head(), folded: 0 } });
  });

  it('given new events ingested, then the ingest folds what it appended and saves it: the next status folds nothing, and plan sees the new profile', async () => {
    const events = [
      { type: 'ProfileCreated', data: { profileId: 'state-1', properties: { email: 'state-1@x.io' } } },
      { type: 'ProfilePropertiesChanged', data: { profileId: 'p0000001', set: { plan: 'pro' } } },
    ];
    await tmp.write('demo/more.jsonl', events.map((e) => JSON.stringify(e)).join('\n'));
    const before = head();
    expect((await cli('ingest', 'more.jsonl')).code).toBe(0);
    expect(head()).toBe(before + events.length);
    expect(saved()).toBe(head());
    expect((await status()).state).toStrictEqual({ path: statePath, savedAt: head(), folded: 0 });
    const plan = await cli('plan', '--json');
    expect(plan.stdout).toContain('state-1@x.io');
  });

  it('given events appended by a writer that keeps no state file (a library ingest), when status runs, then it folds them onto the saved state and saves; the next status folds nothing again', async () => {
    const before = saved() ?? 0;
    expect(before).toBe(head());
    const events = [
      { type: 'ProfileCreated', data: { profileId: 'state-2', properties: { email: 'state-2@x.io' } } },
    ];
    const opened = openSqliteStore(join(dir, 'events.db'));
    if (E.isLeft(opened)) throw new Error(opened.left.message);
    const store = opened.right;
    try {
      const bytes = new TextEncoder().encode(events.map((e) => JSON.stringify(e)).join('\n'));
      const ingested = await ingest(store, initialState(), () => Readable.from([bytes]), {
        checkDestination: () => [],
        maxProblems: 10,
        chunkSize: 100,
      });
      expect(ingested).toMatchObject({ _tag: 'Right', right: { appended: 1 } });
    } finally {
      await store.close();
    }
    expect(saved()).toBe(before);
    expect((await status()).state).toStrictEqual({ path: statePath, savedAt: before, folded: 1 });
    expect(saved()).toBe(head());
    expect((await status()).state).toStrictEqual({ path: statePath, savedAt: head(), folded: 0 });
  });

  it('given the state file, when status and plan run with --rebuild-state, then they say it is rebuilt as asked, fold the store from its first event, and answer as from the saved state', async () => {
    for (const command of [
      ['status', '--json'],
      ['plan', '--json'],
    ]) {
      const kept = await cli(...command);
      const rebuilt = await cli('--rebuild-state', ...command);
      expect(rebuilt.stderr).toBe(
        `syncline: rebuilding the engine state in ${statePath} from the store, as asked\n`,
      );
      expect(rebuilt.code).toBe(0);
      expect(kept.code).toBe(0);
      if (command[0] === 'status') {
        expect(apartFromState(rebuilt.stdout)).toBe(apartFromState(kept.stdout));
        expect((JSON.parse(rebuilt.stdout) as Status).state).toStrictEqual({
          path: statePath,
          savedAt: 0,
          folded: head(),
        });
      } else expect(rebuilt.stdout).toBe(kept.stdout);
    }
    expect(saved()).toBe(head());
  });

  it('given a memory store, when status runs, then it says the state is in memory and how much it folded', async () => {
    expect(await status('--store', 'memory:')).toStrictEqual({
      head: 0,
      state: { path: null, savedAt: 0, folded: 0 },
      destinations: [],
    });
    expect((await cli('--store', 'memory:', 'status')).stdout).toContain(
      '\nstate: in memory (folded all 0 positions)\n',
    );
  });

  it('given a follower and no state file, when its first round of runs ends, then the state is saved while it goes on following, and it stops cleanly on SIGTERM', async () => {
    removeState();
    const before = head();
    const child = spawn(process.execPath, [CLI_PATH, 'sync', '--follow', '--json'], { cwd: dir });
    onTestFinished(() => void child.kill('SIGKILL'));
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    // The catch-up alone saves nothing (the demo's store is far below a save's worth of events):
    // the first save is the round's, past the runs it recorded.
    for (let waited = 0; (saved() ?? 0) <= before; waited += 100) {
      if (waited > 30_000) throw new Error('the follower saved no state');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(child.exitCode).toBeNull();
    expect(saved()).toBe(head());
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(stderr).toBe(`syncline: building the engine state in ${statePath} from the store\n`);
    const after = await cli('status', '--json');
    expect(after.stderr).toBe('');
    expect((JSON.parse(after.stdout) as Status).state).toStrictEqual({
      path: statePath,
      savedAt: head(),
      folded: 0,
    });
  }, 60_000);

  it('given a sync that ends with a destination refusing its commands (exit 1), then the state is still saved at the end of the store: it is the fold of what the store holds all the same', async () => {
    // The warehouse loses a mapped column: syncline never alters a user's table, so its apply fails.
    const warehouse = new Database(join(dir, 'warehouse.db'));
    warehouse.exec('ALTER TABLE customers DROP COLUMN ltv');
    warehouse.close();
    await tmp.write(
      'demo/failing.jsonl',
      JSON.stringify({
        type: 'ProfilePropertiesChanged',
        data: { profileId: 'p0000002', set: { lifetimeValue: 1 } },
      }),
    );
    expect((await cli('ingest', 'failing.jsonl')).code).toBe(0);
    const savedBefore = saved() ?? 0;
    const r = await cli('sync', '--destination', 'warehouse');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('ltv');
    expect(saved()).toBeGreaterThan(savedBefore);
    expect(saved()).toBe(head());
    expect((await status()).state).toStrictEqual({ path: statePath, savedAt: head(), folded: 0 });
  });
  it('given an ingest of more events than a command folds at its end, then it exits with its events stored and the state saved before them; the next command folds them', async () => {
    const before = head();
    expect(saved()).toBe(before);
    const events = Array.from({ length: FOLDED_AT_END + 1 }, (_, i) => ({
      type: 'ProfileCreated',
      data: { profileId: `bulk-${i}`, properties: { email: `bulk-${i}@x.io` } },
    }));
    await tmp.write('demo/bulk.jsonl', events.map((e) => JSON.stringify(e)).join('\n'));
    expect((await cli('ingest', 'bulk.jsonl')).code).toBe(0);
    expect(head()).toBe(before + events.length);
    expect(saved()).toBe(before);
    expect((await status()).state).toStrictEqual({ path: statePath, savedAt: before, folded: events.length });
    expect(saved()).toBe(head());
  }, 60_000);
});
