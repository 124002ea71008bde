// Snapshots through the built CLI: a sync keeps one, every command then starts from it and answers
// exactly as a fold of the whole store does, and a damaged one is reported and folded around.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { CLI_PATH, runCli, tempDir } from './support/cli.js';

type Kept = { position: number; parts: number } | null;

/** The output without status's line (or field) naming the snapshot it started from, which may differ. */
const apartFromSnapshot = (stdout: string): string =>
  stdout.startsWith('{')
    ? JSON.stringify({ ...(JSON.parse(stdout) as object), snapshot: 'apart' })
    : stdout.replace(/^snapshot: .*$/m, 'snapshot: apart');

describe('projection snapshots in the CLI', () => {
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  let dir = '';
  const cli = (...args: string[]) => runCli(args, { cwd: dir });
  const store = () => new Database(join(dir, 'events.db'));
  const kept = (): Kept => {
    const db = store();
    try {
      const row = db.prepare('SELECT id, position FROM snapshots ORDER BY id DESC LIMIT 1').get() as
        { id: number; position: number } | undefined;
      if (row === undefined) return null;
      const parts = db.prepare('SELECT count(*) FROM snapshot_parts WHERE snapshot = ?').pluck().get(row.id);
      return { position: row.position, parts: parts as number };
    } finally {
      db.close();
    }
  };
  const head = (): number => {
    const db = store();
    try {
      return db.prepare('SELECT max(position) FROM events').pluck().get() as number;
    } finally {
      db.close();
    }
  };

  beforeAll(async () => {
    tmp = await tempDir();
    // The demo's 10,000 profiles and two syncs fold far more than a snapshot needs to be worth it.
    expect((await runCli(['demo', 'demo', '--json'], { cwd: tmp.path })).code).toBe(0);
    dir = join(tmp.path, 'demo');
  }, 120_000);
  afterAll(() => tmp.remove());

  it('given a store with no snapshot, when sync has run, then one is kept at the end of the store, in many parts', async () => {
    expect(kept()).toBeNull();
    const r = await cli('sync');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const snapshot = kept();
    expect(snapshot?.position).toBe(head());
    expect(snapshot?.parts).toBeGreaterThan(5);
  });

  it('when status and plan start from the snapshot, then they print what a fold of the whole store prints, and status names the snapshot it started from', async () => {
    for (const command of [['status'], ['plan'], ['status', '--json'], ['plan', '--json']]) {
      const fromSnapshot = await cli(...command);
      const whole = await cli('--no-snapshots', ...command);
      expect(fromSnapshot.stderr).toBe('');
      expect(fromSnapshot.code).toBe(whole.code);
      expect(apartFromSnapshot(fromSnapshot.stdout)).toBe(apartFromSnapshot(whole.stdout));
    }
    const position = kept()?.position;
    const json = JSON.parse((await cli('status', '--json')).stdout) as { snapshot: unknown };
    expect(json.snapshot).toEqual({
      position,
      takenAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) as unknown,
    });
    expect(JSON.parse((await cli('--no-snapshots', 'status', '--json')).stdout)).toMatchObject({
      snapshot: null,
    });
    expect((await cli('status')).stdout).toMatch(
      new RegExp(
        `^snapshot: taken at position ${position} \\(\\d{4}-[^)]+\\); folded 0 positions after it$`,
        'm',
      ),
    );
    expect((await cli('--no-snapshots', 'status')).stdout).toMatch(
      new RegExp(`^snapshot: none used \\(folded all ${head()} positions\\)$`, 'm'),
    );
  });

  it('given new events ingested, when the CLI reads, then it folds them onto the snapshot; ingest itself keeps none, sync keeps one only when enough was folded since', async () => {
    const before = kept();
    const events = [
      { type: 'ProfileCreated', data: { profileId: 'snap-1', properties: { email: 'snap-1@x.io' } } },
      { type: 'ProfilePropertiesChanged', data: { profileId: 'p0000001', set: { plan: 'pro' } } },
    ];
    await tmp.write('demo/more.jsonl', events.map((e) => JSON.stringify(e)).join('\n'));
    expect((await cli('ingest', 'more.jsonl')).code).toBe(0);
    expect(kept()).toEqual(before);
    const plan = await cli('plan', '--json');
    expect(plan.stdout).toBe((await cli('--no-snapshots', 'plan', '--json')).stdout);
    expect(plan.stdout).toContain('snap-1@x.io');
    // Two profiles' worth of folding since the snapshot: a new one would not pay for its writing.
    expect((await cli('sync')).code).toBe(0);
    expect(kept()).toEqual(before);
    const status = (await cli('status')).stdout;
    expect(apartFromSnapshot(status)).toBe(apartFromSnapshot((await cli('--no-snapshots', 'status')).stdout));
    // The two events ingested, and the sync's own record of its runs, were folded onto the snapshot.
    expect(status).toContain(`snapshot: taken at position ${before?.position} (`);
    expect(status).toContain(`; folded ${head() - (before?.position ?? 0)} positions after it\n`);
  });

  it('given a damaged snapshot, when a command runs, then it says so on stderr, folds the whole store and answers the same; the next sync keeps a sound one', async () => {
    const whole = await cli('--no-snapshots', 'status', '--json');
    const db = store();
    db.prepare(
      'UPDATE snapshot_parts SET body = \'["profiles", [[\' WHERE seq = 1 AND snapshot = (SELECT max(id) FROM snapshots)',
    ).run();
    db.close();
    const position = kept()?.position;
    const damaged = await cli('status', '--json');
    expect(damaged.code).toBe(0);
    expect(apartFromSnapshot(damaged.stdout)).toBe(apartFromSnapshot(whole.stdout));
    expect(JSON.parse(damaged.stdout)).toMatchObject({ snapshot: null });
    expect(damaged.stderr).toMatch(
      new RegExp(
        `^syncline: the snapshot taken at position ${position} cannot be read: part 2 is malformed: .+; folded the whole store instead\\n$`,
      ),
    );
    expect((await cli('sync')).code).toBe(0);
    expect(kept()?.position).toBe(head());
    const after = await cli('status', '--json');
    expect(after.stderr).toBe('');
    expect(apartFromSnapshot(after.stdout)).toBe(
      apartFromSnapshot((await cli('--no-snapshots', 'status', '--json')).stdout),
    );
  });

  it('given a follower and no snapshot, when its first round of runs ends, then it keeps one while it goes on following, and stops cleanly', async () => {
    const db = store();
    db.exec('DELETE FROM snapshot_parts; DELETE FROM snapshots');
    db.close();
    const child = spawn(process.execPath, [CLI_PATH, 'sync', '--follow', '--json'], { cwd: dir });
    onTestFinished(() => void child.kill('SIGKILL'));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    for (let waited = 0; kept() === null; waited += 100) {
      if (waited > 30_000) throw new Error('the follower kept no snapshot');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(child.exitCode).toBeNull();
    expect(kept()?.position).toBe(head());
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    const status = await cli('status', '--json');
    expect(status.stderr).toBe('');
    expect(apartFromSnapshot(status.stdout)).toBe(
      apartFromSnapshot((await cli('--no-snapshots', 'status', '--json')).stdout),
    );
  }, 60_000);

  it('given --no-snapshots, when sync runs with every snapshot gone, then it keeps none', async () => {
    const db = store();
    db.exec('DELETE FROM snapshot_parts; DELETE FROM snapshots');
    db.close();
    expect((await cli('--no-snapshots', 'sync')).code).toBe(0);
    expect(kept()).toBeNull();
    expect((await cli('sync')).code).toBe(0);
    expect(kept()?.position).toBe(head());
  });
  it('given a sync that ends with a destination refusing its commands (exit 1), then it still keeps a snapshot: its state is the fold of the store all the same', async () => {
    const db = store();
    db.exec('DELETE FROM snapshot_parts; DELETE FROM snapshots');
    db.close();
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
    const r = await cli('sync', '--destination', 'warehouse');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('ltv');
    expect(kept()?.position).toBe(head());
  });
});
