// Fault injection, destinations: one destination failing (its file cannot be opened, its table lacks
// a mapped column, another process's run holds it, the delete guardrail refuses its run) never stops
// the others. Every destination is synced in order, every outcome printed, and the exit code is 1.
import { spawn, type ChildProcess } from 'node:child_process';
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import * as E from 'fp-ts/lib/Either.js';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { population } from '../adapters/demo/people.js';
import { openSqliteStore } from '../adapters/stores/sqlite/store.js';
import { syncStream } from '../domain/syncEvents.js';
import { closingError, inOrder, notSynced, type SyncResult } from '../adapters/cli/syncReport.js';
import { emptyCounts, type RunSummary } from '../engine/sync/summary.js';
import { CLI_PATH, runCli, type CliResult } from './support/cli.js';

const PROFILES = 60;
/** In the order the config lists them, which is the order sync takes them in. */
const ORDER = ['broken', 'first', 'narrow', 'busy', 'shrinking', 'last'] as const;
const FAILING = ['broken', 'narrow', 'busy', 'shrinking'];
const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';

const destination = (destinationId: string, collection: object = { kind: 'all' }) => ({
  destinationId,
  type: 'sqlite',
  syncMode: 'sync',
  collection,
  keyField: 'email',
  mapping: { email: 'email', first_name: 'firstName', ltv: 'lifetimeValue' },
  groupMapping: { vip: 'VIP' },
  options: { path: `${destinationId}.db`, table: 'contacts' },
});

const configWith = (shrinking: object) => ({
  store: 'sqlite:events.db',
  destinations: ORDER.map((id) => destination(id, id === 'shrinking' ? shrinking : { kind: 'all' })),
});

let world = '';
let holder: ChildProcess;
let busyRun = '';
const dirs: string[] = [];

/** A copy of the world, for a command that changes it. */
const copy = async (): Promise<string> => {
  const dir = await mkdtemp(join(tmpdir(), 'syncline-destinations-'));
  dirs.push(dir);
  await cp(world, dir, { recursive: true });
  return dir;
};

const cli = (dir: string, ...args: string[]): Promise<CliResult> => runCli(args, { cwd: dir });
const rows = (dir: string, id: string): number => {
  const db = new Database(join(dir, `${id}.db`), { readonly: true });
  try {
    return db.prepare('SELECT count(*) FROM contacts').pluck().get() as number;
  } finally {
    db.close();
  }
};

/**
 * Six destinations: `first` and `last` good; `broken`'s file is a directory; `narrow`'s table has no
 * `ltv` column; `busy` has a run started by a process that is still alive; `shrinking` holds the
 * 60 records syncline wrote there, and its collection is now empty, so its run would delete them all.
 */
beforeAll(async () => {
  world = await mkdtemp(join(tmpdir(), 'syncline-destinations-'));
  dirs.push(world);
  const at = (name: string) => join(world, name);
  await writeFile(at('people.jsonl'), [...population(PROFILES)].map((e) => JSON.stringify(e)).join('\n'));
  await writeFile(at('syncline.config.json'), JSON.stringify(configWith({ kind: 'all' })));
  for (const args of [['apply'], ['ingest', 'people.jsonl'], ['sync', '--destination', 'shrinking']]) {
    const r = await cli(world, ...args);
    expect(r.stderr, args.join(' ')).toBe('');
  }
  await writeFile(at('syncline.config.json'), JSON.stringify(configWith({ kind: 'none' })));
  expect((await cli(world, 'apply')).stdout).toMatch(/^changed: shrinking\n/);
  await mkdir(at('broken.db'));
  const narrow = new Database(at('narrow.db'));
  narrow.exec('CREATE TABLE contacts (email TEXT PRIMARY KEY, first_name TEXT)');
  narrow.close();
  // Another process's run, as the store records one: started, owned by a live process, not finished.
  holder = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  const store = openSqliteStore(at('events.db'));
  if (E.isLeft(store)) throw new Error(store.left.message);
  busyRun = '0b0e2f3c-1d2a-4c5b-8e9f-0a1b2c3d4e5f';
  const started = await store.right.append([
    {
      stream: syncStream('busy'),
      expected: 'no-stream',
      events: [
        {
          type: 'RunStarted',
          data: {
            runId: busyRun,
            destinationId: 'busy',
            position: await store.right.head(),
            mode: 'sync',
            config: destination('busy'),
            owner: { host: hostname(), pid: holder.pid },
            startedAt: new Date().toISOString(),
          },
        },
      ],
    },
  ])();
  await store.right.close();
  if (E.isLeft(started)) throw new Error(JSON.stringify(started.left));
}, 60_000);

afterAll(async () => {
  holder?.kill('SIGKILL');
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

/** The reason each failing destination gives, as a line of its own (stderr without `syncline: `). */
const REASONS = [
  new RegExp(`^destination broken: cannot open .*broken\\.db.*$`),
  new RegExp(`^destination narrow: run ${UUID} stopped: table contacts has no column ltv$`),
  new RegExp(
    `^destination busy is being synced by another process \\(run ${'0b0e2f3c-1d2a-4c5b-8e9f-0a1b2c3d4e5f'}\\)$`,
  ),
  new RegExp(
    `^destination shrinking: this sync would delete ${PROFILES} records, more than the limit of 15 .*--max-deletes ${PROFILES}$`,
  ),
];
const LAST_LINE = 'syncline: 4 of 6 destinations were not synced: broken, narrow, busy, shrinking';

const stderrLines = (stderr: string): string[] => {
  expect(stderr.endsWith('\n')).toBe(true);
  return stderr.slice(0, -1).split('\n');
};

describe('sync with a failing destination among several', () => {
  it('given four failing destinations between two good ones, when synced, then the good ones are synced and their summaries printed, each failure is reported in order on stderr, a last line names them, and the exit code is 1', async () => {
    const dir = await copy();
    const r = await cli(dir, 'sync');
    expect(r.code).toBe(1);
    expect(r.stdout).toBe(
      `first (sync): ${PROFILES} profiles considered — ${PROFILES} created, 0 updated, 0 deleted, 0 skipped, 0 failed, 0 unchanged\n` +
        `last (sync): ${PROFILES} profiles considered — ${PROFILES} created, 0 updated, 0 deleted, 0 skipped, 0 failed, 0 unchanged\n`,
    );
    const lines = stderrLines(r.stderr);
    expect(lines).toHaveLength(5);
    lines
      .slice(0, 4)
      .forEach((line, i) => expect(line).toMatch(new RegExp(`^syncline: ${REASONS[i]!.source.slice(1)}`)));
    expect(lines[4]).toBe(LAST_LINE);
    expect(rows(dir, 'first')).toBe(PROFILES);
    expect(rows(dir, 'last')).toBe(PROFILES);
    expect(rows(dir, 'shrinking')).toBe(PROFILES);
  });

  it('given the same, when synced with --json, then the document lists every destination in order, each its summary or its error with a kind and the message, and the exit code is 1', async () => {
    const dir = await copy();
    const r = await cli(dir, 'sync', '--json');
    expect(r.code).toBe(1);
    const { destinations } = JSON.parse(r.stdout) as {
      destinations: ({ destinationId: string } & Record<string, unknown>)[];
    };
    expect(destinations.map((d) => d.destinationId)).toStrictEqual([...ORDER]);
    const byId = new Map(destinations.map((d) => [d.destinationId, d]));
    for (const id of ['first', 'last'])
      expect(byId.get(id)).toStrictEqual({
        destinationId: id,
        runId: expect.stringMatching(new RegExp(`^${UUID}$`)) as unknown,
        mode: 'sync',
        reason: 'first-run',
        considered: PROFILES,
        totals: { created: PROFILES, updated: 0, deleted: 0, skipped: {}, failed: 0, unchanged: 0 },
        failures: [],
      });
    expect(byId.get('broken')).toStrictEqual({
      destinationId: 'broken',
      error: { kind: 'CannotOpen', message: expect.stringMatching(REASONS[0]!) as unknown },
    });
    expect(byId.get('narrow')).toStrictEqual({
      destinationId: 'narrow',
      error: {
        kind: 'RunFailed',
        runId: expect.stringMatching(new RegExp(`^${UUID}$`)) as unknown,
        message: expect.stringMatching(REASONS[1]!) as unknown,
      },
    });
    expect(byId.get('busy')).toStrictEqual({
      destinationId: 'busy',
      error: { kind: 'Busy', runId: busyRun, message: expect.stringMatching(REASONS[2]!) as unknown },
    });
    expect(byId.get('shrinking')).toStrictEqual({
      destinationId: 'shrinking',
      error: {
        kind: 'TooManyDeletes',
        deletes: PROFILES,
        limit: 15,
        message: expect.stringMatching(REASONS[3]!) as unknown,
      },
    });
    // stderr says the same as without --json: the failures, then the last line.
    const lines = stderrLines(r.stderr);
    expect(lines.slice(0, 4)).toStrictEqual(
      FAILING.map((id) => `syncline: ${(byId.get(id)?.error as { message: string }).message}`),
    );
    expect(lines[4]).toBe(LAST_LINE);
  });

  it('given one failing destination synced alone, when synced, then its reason is the one line on stderr, and --json gives its entry', async () => {
    const dir = await copy();
    const text = await cli(dir, 'sync', '--destination', 'busy');
    expect(text).toStrictEqual({
      code: 1,
      stdout: '',
      stderr: `syncline: destination busy is being synced by another process (run ${busyRun})\n`,
    });
    const json = await cli(dir, 'sync', '--destination', 'busy', '--json');
    expect(json.code).toBe(1);
    expect(json.stderr).toBe(text.stderr);
    expect(JSON.parse(json.stdout)).toStrictEqual({
      destinations: [
        {
          destinationId: 'busy',
          error: {
            kind: 'Busy',
            runId: busyRun,
            message: `destination busy is being synced by another process (run ${busyRun})`,
          },
        },
      ],
    });
  });
});

describe('the order of runs when the store fails', () => {
  const summary = (destinationId: string, failed = 0): RunSummary => ({
    destinationId,
    runId: `run-${destinationId}`,
    mode: 'sync',
    reason: 'changes',
    considered: 1,
    ...emptyCounts(),
    totals: { ...emptyCounts().totals, created: 1 - failed, failed },
  });
  const storeFailure = (destinationId: string): SyncResult =>
    E.left(
      notSynced(destinationId, {
        _tag: 'StoreFailed',
        message: 'SQLite store unavailable (SQLITE_FULL): disk full',
      }),
    );

  it('given the store failing in the second of four runs, when synced in order, then the first is synced, the last two are not attempted, and the last line names the three', async () => {
    const asked: string[] = [];
    const told: SyncResult[] = [];
    const outcomes = await inOrder(
      ['a', 'b', 'c', 'd'].map((destinationId) => ({ destinationId })),
      ({ destinationId }) => {
        asked.push(destinationId);
        return Promise.resolve(destinationId === 'b' ? storeFailure('b') : E.right(summary(destinationId)));
      },
      (o) => told.push(o),
    );
    expect(asked).toStrictEqual(['a', 'b']);
    expect(told).toStrictEqual(outcomes.slice(0, 2));
    expect(outcomes.map((o) => (E.isLeft(o) ? o.left.kind : 'synced'))).toStrictEqual([
      'synced',
      'StoreFailed',
      'NotAttempted',
      'NotAttempted',
    ]);
    expect(outcomes[1]).toStrictEqual(
      E.left({
        destinationId: 'b',
        kind: 'StoreFailed',
        message:
          'destination b was not synced: the store failed: SQLite store unavailable (SQLITE_FULL): disk full',
      }),
    );
    expect(closingError(outcomes)).toStrictEqual({
      _tag: 'Failed',
      message: '3 of 4 destinations were not synced: b, c, d',
    });
  });

  it('given a destination failing and another with failed commands, then the last line names both; given one destination alone, its own reason', () => {
    const broken = E.left(notSynced('broken', { _tag: 'UnknownDestination', destinationId: 'broken' }));
    expect(closingError([E.right(summary('a', 1)), broken, E.right(summary('c'))])).toStrictEqual({
      _tag: 'Failed',
      message:
        '1 of 3 destinations was not synced: broken; 1 command failed in a; see syncline log, then syncline retry',
    });
    expect(closingError([E.right(summary('a', 1))])).toStrictEqual({
      _tag: 'Failed',
      message: '1 command failed; see syncline log, then syncline retry',
    });
    expect(closingError([storeFailure('a')])).toStrictEqual({
      _tag: 'StoreFailed',
      message:
        'destination a was not synced: the store failed: SQLite store unavailable (SQLITE_FULL): disk full',
    });
    expect(closingError([E.right(summary('a')), E.right(summary('b'))])).toBeUndefined();
  });
});

describe('plan with a failing destination among several', () => {
  it('given the same destinations, when planned, then every destination that can be is planned and printed, the two that cannot be looked at are reported, in text and JSON, and the exit code is 1', async () => {
    const text = await cli(world, 'plan');
    expect(text.code).toBe(1);
    const headers = text.stdout.split('\n').filter((l) => /^\w+ \(sync\): /.test(l));
    expect(headers.map((l) => l.split(' ')[0])).toStrictEqual(['first', 'busy', 'shrinking', 'last']);
    expect(text.stdout).toMatch(/\nNothing was written \(dry run\)\.\n$/);
    expect(stderrLines(text.stderr)).toStrictEqual([
      expect.stringMatching(/^syncline: destination broken: cannot open .*broken\.db/) as unknown,
      'syncline: destination narrow: table contacts has no column ltv',
      'syncline: 2 of 6 destinations could not be planned: broken, narrow',
    ]);

    const json = await cli(world, 'plan', '--json');
    expect(json.code).toBe(1);
    expect(json.stderr).toBe(text.stderr);
    const { destinations } = JSON.parse(json.stdout) as { destinations: Record<string, unknown>[] };
    expect(destinations.map((d) => d.destinationId)).toStrictEqual([...ORDER]);
    expect(destinations[0]).toStrictEqual({
      destinationId: 'broken',
      error: {
        kind: 'CannotOpen',
        message: expect.stringMatching(/^destination broken: cannot open /) as unknown,
      },
    });
    expect(destinations[2]).toStrictEqual({
      destinationId: 'narrow',
      error: { kind: 'LookupFailed', message: 'destination narrow: table contacts has no column ltv' },
    });
    expect(destinations[4]).toMatchObject({ destinationId: 'shrinking', counts: { delete: PROFILES } });
  });
});

describe('sync --follow with a failing destination among several', () => {
  it('given the same destinations, when a follower runs, then it keeps syncing the good ones as events arrive, reports each failed run, and on SIGTERM exits 1 naming the failing ones', async () => {
    const dir = await copy();
    const child = spawn(process.execPath, [CLI_PATH, 'sync', '--follow', '--json'], { cwd: dir });
    onTestFinished(() => void child.kill('SIGKILL'));
    const lines: Record<string, unknown>[] = [];
    let stderr = '';
    let buffer = '';
    child.stdout.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      const complete = buffer.split('\n');
      buffer = complete.pop() ?? '';
      for (const l of complete) if (l.trim() !== '') lines.push(JSON.parse(l) as Record<string, unknown>);
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const waitFor = async (what: string, done: () => boolean): Promise<void> => {
      for (let waited = 0; !done(); waited += 50) {
        if (waited > 30_000) throw new Error(`waited in vain for ${what}; saw ${JSON.stringify(lines)}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    };
    const created = (id: string) =>
      lines
        .filter((l) => l.destinationId === id && 'totals' in l)
        .map((l) => (l.totals as { created: number }).created);
    const failed = (id: string) => lines.filter((l) => l.destinationId === id && 'error' in l);

    await waitFor('the first round', () => created('first').length === 1 && created('last').length === 1);
    expect(child.exitCode).toBeNull();
    for (const id of FAILING) expect(failed(id)).toHaveLength(1);

    await writeFile(
      join(dir, 'more.jsonl'),
      JSON.stringify({
        type: 'ProfileCreated',
        data: { profileId: 'late', properties: { email: 'late@x.io' } },
      }),
    );
    expect((await cli(dir, 'ingest', 'more.jsonl')).code).toBe(0);
    await waitFor('a second round', () => created('first').length === 2 && created('last').length === 2);
    expect([created('first'), created('last')]).toStrictEqual([
      [PROFILES, 1],
      [PROFILES, 1],
    ]);
    expect(child.exitCode).toBeNull();

    child.kill('SIGTERM');
    expect(await exited).toBe(1);
    const errors = stderrLines(stderr);
    expect(errors.at(-1)).toBe(
      'syncline: stopped with 4 of 6 destinations failing: broken, narrow, busy, shrinking',
    );
  }, 60_000);
});
