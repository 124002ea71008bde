// One run-summary shape everywhere: `sync --json`, `sync --follow --json`, `status --json` (a run's
// totals) and the library's syncDestination all give a RunSummary, skips counted per reason.
import { spawn } from 'node:child_process';
import * as E from 'fp-ts/lib/Either.js';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { MESSAGES } from '../domain/decision.js';
import { RunSummary, RunTotals, recordedTotals, UNRECORDED_REASON } from '../engine/sync/summary.js';
import { CLI_PATH, runCli, tempDir } from './support/cli.js';
import { givenEngine } from './support/engine.js';
import { created, destination } from './support/given.js';

const CONFIG = {
  store: 'sqlite:events.db',
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
};

const event = (profileId: string, properties: Record<string, string>): string =>
  JSON.stringify({ type: 'ProfileCreated', data: { profileId, properties } });

const NO_EMAIL = MESSAGES.noKey('email');
const decodes = (codec: { is: (u: unknown) => boolean }, u: unknown): boolean => codec.is(u);

describe('the run summary', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  beforeAll(async () => {
    dir = await tempDir();
    await dir.write('syncline.config.json', CONFIG);
    await dir.write('first.jsonl', `${event('p1', { email: 'p1@x.io' })}\n${event('p2', {})}\n`);
    await dir.write('second.jsonl', `${event('p3', {})}\n${event('p4', { email: 'p4@x.io' })}\n`);
    expect((await runCli(['apply'], { cwd: dir.path })).code).toBe(0);
    expect((await runCli(['ingest', 'first.jsonl'], { cwd: dir.path })).code).toBe(0);
  });
  afterAll(() => dir.remove());

  it('given a run with a skip, when `sync --json` and then `status --json` report it, then both give the same totals, skips per reason', async () => {
    const synced = await runCli(['sync', '--json'], { cwd: dir.path });
    expect(synced.code).toBe(0);
    const [run] = (JSON.parse(synced.stdout) as { destinations: unknown[] }).destinations;
    expect(decodes(RunSummary, run)).toBe(true);
    const summary = run as RunSummary;
    expect(summary.totals).toStrictEqual({
      created: 1,
      updated: 0,
      deleted: 0,
      skipped: { [NO_EMAIL]: 1 },
      failed: 0,
      unchanged: 0,
    });

    const status = await runCli(['status', '--json'], { cwd: dir.path });
    expect(status.code).toBe(0);
    const { destinations } = JSON.parse(status.stdout) as {
      destinations: { lastRun: { runId: string; totals: unknown } }[];
    };
    const lastRun = destinations[0]?.lastRun;
    expect(lastRun?.runId).toBe(summary.runId);
    expect(decodes(RunTotals, lastRun?.totals)).toBe(true);
    expect(lastRun?.totals).toStrictEqual(summary.totals);
  });

  it('given a follower, when events arrive, then each line it prints is a RunSummary of that same shape', async () => {
    const child = spawn(process.execPath, [CLI_PATH, 'sync', '--follow', '--json'], { cwd: dir.path });
    onTestFinished(() => void child.kill('SIGKILL'));
    let out = '';
    const lines = (): unknown[] =>
      out
        .split('\n')
        .filter((l) => l.trim() !== '')
        .map((l) => JSON.parse(l) as unknown);
    const seen = new Promise<void>((resolve) =>
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        const runs = lines() as RunSummary[];
        const created = runs.reduce((n, r) => n + r.totals.created, 0);
        const skipped = runs.reduce((n, r) => n + (r.totals.skipped[NO_EMAIL] ?? 0), 0);
        if (out.endsWith('\n') && created === 1 && skipped === 1) resolve();
      }),
    );
    // The follower has started once it has opened the store; an ingest before that is also seen.
    expect((await runCli(['ingest', 'second.jsonl'], { cwd: dir.path })).code).toBe(0);
    await seen;
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    for (const l of lines()) expect(decodes(RunSummary, l)).toBe(true);
  });

  it('given the library, when it syncs, then its result is a RunSummary with skips per reason', async () => {
    const w = await givenEngine(destination({ mode: 'sync' }));
    await w.happen(created('p1', { email: 'p1@x.io' }), created('p2', {}));
    const run = await w.synced();
    expect(E.isRight(RunSummary.decode(run))).toBe(true);
    expect(run.totals.skipped).toStrictEqual({ [NO_EMAIL]: 1 });
  });

  it('given a RunFinished from a store that did not record skip reasons, then its skips are counted under a reason saying so', () => {
    const counts = { created: 1, updated: 0, deleted: 0, skipped: 2, failed: 0, unchanged: 3 };
    expect(recordedTotals(counts, undefined)).toStrictEqual({
      ...counts,
      skipped: { [UNRECORDED_REASON]: 2 },
    });
    expect(recordedTotals({ ...counts, skipped: 0 }, undefined).skipped).toStrictEqual({});
  });
});
