// The SQLite store's durability: by default a commit is acknowledged at once and the write-ahead log
// is synced to disk before any command reaches a destination; syncing every commit, or never, is opt-in.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import * as E from 'fp-ts/lib/Either.js';
import { afterEach, describe, expect, it } from 'vitest';
import { durabilityOf, logSyncer, type Durability } from '../adapters/stores/sqlite/durability.js';
import { prepareSchema } from '../adapters/stores/sqlite/schema.js';
import { connect } from '../adapters/destinations/sqlite/apply.js';
import { notingDestination } from './support/noting.js';
import { syncDestination } from '../engine/sync/run.js';
import { givenEngine, noWait } from './support/engine.js';
import { created, destination } from './support/given.js';
import { REPO_ROOT } from './support/cli.js';

/** SQLite's numbers for PRAGMA synchronous. */
const FULL = 2;
const NORMAL = 1;

const dirs: string[] = [];
const freshDir = (): string => {
  const dir = mkdtempSync(join(tmpdir(), 'syncline-durability-'));
  dirs.push(dir);
  return dir;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('choosing how the SQLite store commits', () => {
  it('given SYNCLINE_SQLITE_SYNCHRONOUS, then FULL syncs every commit, NORMAL never, and anything else (or nothing) syncs before applying', () => {
    const asked = [undefined, 'FULL', 'full', 'NORMAL', 'normal', 'OFF', ''];
    expect(
      asked.map((v) => durabilityOf(v === undefined ? {} : { SYNCLINE_SQLITE_SYNCHRONOUS: v })),
    ).toStrictEqual([
      'before-apply',
      'every-commit',
      'every-commit',
      'never',
      'never',
      'before-apply',
      'before-apply',
    ]);
  });

  it.each([
    ['every-commit', FULL],
    ['before-apply', NORMAL],
    ['never', NORMAL],
  ] as [Durability, number][])(
    'given %s, when a store file is opened, then its connection runs with synchronous %i',
    (d, pragma) => {
      const path = join(freshDir(), 'events.db');
      const db = new Database(path);
      expect(E.isRight(prepareSchema(db, path, true, (transaction) => E.right(transaction()), d))).toBe(true);
      expect(db.pragma('synchronous', { simple: true })).toBe(pragma);
      db.close();
    },
  );
});

describe('syncing the write-ahead log', () => {
  it('given a store file with and without its log, when synced, then it succeeds either way', async () => {
    const dir = freshDir();
    const path = join(dir, 'events.db');
    await expect(logSyncer(path)()).resolves.toBeUndefined();
    writeFileSync(`${path}-wal`, 'frames');
    await expect(logSyncer(path)()).resolves.toBeUndefined();
  });

  it('given a path the system cannot reach, when synced, then it rejects with the system’s reason', async () => {
    const dir = freshDir();
    writeFileSync(join(dir, 'not-a-dir'), '');
    await expect(logSyncer(join(dir, 'not-a-dir', 'events.db'))()).rejects.toThrow(/ENOTDIR/);
  });

  const strace = spawnSync('strace', ['-V']).status === 0;
  it.skipIf(!strace && process.env.CI !== 'true')(
    'given the default, when an append commits and then the store is flushed, then the commit itself syncs nothing and the flush syncs the log (strace)',
    () => {
      const dir = freshDir();
      const script = join(dir, 'append.mjs');
      const store = new URL('../dist/adapters/stores/sqlite/store.js', `file://${REPO_ROOT}/`).href;
      writeFileSync(
        script,
        `import { openSqliteStore } from ${JSON.stringify(store)};
const opened = openSqliteStore(${JSON.stringify(join(dir, 'events.db'))});
const s = opened.right;
const w = (stream) => [{ stream, expected: 'any', events: [{ type: 'T', data: {} }] }];
await s.append(w('warm'))();
process.stdout.write('appending\\n');
await s.append(w('a'))();
process.stdout.write('flushing\\n');
await s.flush()();
process.stdout.write('flushed\\n');
process.exit(0);
`,
      );
      const trace = join(dir, 'trace');
      execFileSync(
        'strace',
        ['-f', '-o', trace, '-e', 'trace=write,fsync,fdatasync', process.execPath, script],
        {
          env: { ...process.env, SYNCLINE_SQLITE_SYNCHRONOUS: '' },
        },
      );
      const lines = readFileSync(trace, 'utf8').split('\n');
      const at = (marker: string) => lines.findIndex((l) => l.includes(`"${marker}\\n"`));
      const syncs = (from: number, to: number) =>
        lines.slice(from, to).filter((l) => /\b(fsync|fdatasync)\(/.test(l)).length;
      expect(at('appending')).toBeGreaterThan(-1);
      expect(syncs(at('appending'), at('flushing'))).toBe(0);
      expect(syncs(at('flushing'), at('flushed'))).toBeGreaterThan(0);
    },
  );
});

describe('the SQLite destination', () => {
  it('given a destination file, when a connection to it opens, then an apply it acknowledges is synced to disk (synchronous FULL)', () => {
    const db = connect(join(freshDir(), 'crm.db'));
    expect(db.pragma('synchronous', { simple: true })).toBe(FULL);
    db.close();
  });
});

describe('the engine makes its record durable before it applies', () => {
  it('given a sync, when the destination is handed commands, then the store was flushed after the batch that recorded them', async () => {
    const w = await givenEngine(destination({ mode: 'sync' }));
    await w.happen(created('p1', { email: 'a@x.io' }), created('p2', { email: 'b@x.io' }));
    const steps: string[] = [];
    const store = {
      ...w.store,
      append: (writes: Parameters<typeof w.store.append>[0]) => () => {
        steps.push(`append ${writes.flatMap((x) => x.events.map((e) => e.type)).join(',')}`);
        return w.store.append(writes)();
      },
      flush: () => () => {
        steps.push('flush');
        return w.store.flush()();
      },
    };
    const real = w.destination.destination(w.config);
    const noted = notingDestination(real, { apply: () => steps.push('apply') });
    const r = await syncDestination(store, w.state, 'crm', noted, noWait);
    expect(E.isRight(r)).toBe(true);
    const apply = steps.indexOf('apply');
    expect(steps.slice(0, apply + 1)).toStrictEqual([
      'append RunStarted',
      'append BatchDecided',
      'flush',
      'apply',
    ]);
  });

  it('given an apply under way, when later batches are recorded, then their flush begins beside that apply, and their commands are applied once it has ended', async () => {
    const w = await givenEngine(destination({ mode: 'sync' }));
    await w.happen(...Array.from({ length: 12 }, (_, i) => created(`p${i}`, { email: `p${i}@x.io` })));
    const steps: string[] = [];
    const store = {
      ...w.store,
      append: (writes: Parameters<typeof w.store.append>[0]) => () => {
        steps.push(`append ${writes.flatMap((x) => x.events.map((e) => e.type)).join(',')}`);
        return w.store.append(writes)();
      },
      flush: () => async () => {
        steps.push('flush');
        const r = await w.store.flush()();
        steps.push('flushed');
        return r;
      },
    };
    // The first apply is held until the run has recorded every batch.
    let release = (): void => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    const real = w.destination.destination(w.config);
    const noted: typeof real = {
      ...real,
      apply: (commands) => async () => {
        const first = !steps.some((s) => s.startsWith('apply'));
        steps.push(`apply ${commands.length}`);
        if (first) await held;
        const r = await real.apply(commands)();
        steps.push('applied');
        return r;
      },
    };
    const onProgress = (done: number, total: number): void => {
      if (done === total) release();
    };
    const r = await syncDestination(store, w.state, 'crm', noted, { ...noWait, batchSize: 4, onProgress });
    expect(E.isRight(r) && r.right.considered).toBe(12);
    expect(steps).toStrictEqual([
      'append RunStarted',
      'append BatchDecided',
      'flush',
      'flushed',
      'apply 4',
      'append BatchDecided',
      'flush',
      'flushed',
      'append BatchDecided',
      'flush',
      'flushed',
      'applied',
      // the flush begun after the last batch's record committed: none is needed after the first apply
      'apply 8',
      'applied',
      'append BatchApplied,BatchApplied,RunFinished',
    ]);
  });

  it('given a flush begun beside an apply fails, when the queued commands are handed over, then the store is flushed again first, and they are applied only if that succeeds', async () => {
    const w = await givenEngine(destination({ mode: 'sync' }));
    await w.happen(...Array.from({ length: 12 }, (_, i) => created(`p${i}`, { email: `p${i}@x.io` })));
    const steps: string[] = [];
    let flushes = 0;
    const store = {
      ...w.store,
      flush: () => async () => {
        flushes++;
        // the flushes begun beside the first apply (the second and third) fail
        if (flushes === 2 || flushes === 3) {
          steps.push('flush failed');
          return E.left({ _tag: 'StoreUnavailable' as const, message: 'disk busy' });
        }
        steps.push('flushed');
        return w.store.flush()();
      },
    };
    let release = (): void => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    const real = w.destination.destination(w.config);
    const noted: typeof real = {
      ...real,
      apply: (commands) => async () => {
        const first = !steps.some((s) => s.startsWith('apply'));
        steps.push(`apply ${commands.length}`);
        if (first) await held;
        return real.apply(commands)();
      },
    };
    const onProgress = (done: number, total: number): void => {
      if (done === total) release();
    };
    const r = await syncDestination(store, w.state, 'crm', noted, {
      ...noWait,
      batchSize: 4,
      onProgress,
    });
    expect(steps).toStrictEqual(['flushed', 'apply 4', 'flush failed', 'flush failed', 'flushed', 'apply 8']);
    expect(E.isRight(r) && [r.right.totals.created, r.right.totals.failed]).toStrictEqual([12, 0]);
  });
});
