// What only the SQLite store promises beyond the contract: durability across reopen, safe sharing
// of one file by several connections, schema versioning, and opening stores from URLs.
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { runScript } from './support/cli.js';
import { holdWriteLock } from './support/lockHolder.js';
import { NOTICE_AFTER_MS } from '../adapters/stores/sqlite/writeLock.js';
import * as E from 'fp-ts/lib/Either.js';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { EventStore } from '../engine/ports.js';
import { openStore, parseStoreUrl } from '../adapters/stores/open.js';
import { openSqliteStore, type SqliteStoreOptions } from '../adapters/stores/sqlite/store.js';
import { SLICE } from '../adapters/stores/sqlite/jsonPieces.js';
import { MAX_PIECES } from '../adapters/stores/sqlite/schema.js';
import { collect, failure, success } from './contract/eventStoreHelpers.js';

/** The message of a refusal that should carry one, so specs can match on its wording. */
const messageOf = (
  result: E.Either<{ readonly _tag: string; readonly message?: string }, unknown>,
): string => (E.isLeft(result) ? `${result.left._tag}: ${result.left.message ?? ''}` : 'succeeded');

const directory = mkdtempSync(join(tmpdir(), 'syncline-sqlite-store-'));
let files = 0;
const freshPath = (): string => join(directory, `case-${(files += 1)}`, 'store.db');
const opened: EventStore[] = [];

const open = (path: string, options: SqliteStoreOptions = {}): EventStore => {
  const result = openSqliteStore(path, options);
  if (E.isLeft(result)) throw new Error(result.left.message);
  opened.push(result.right);
  return result.right;
};

afterEach(async () => {
  await Promise.all(opened.splice(0).map((store) => store.close()));
});
afterAll(() => rmSync(directory, { recursive: true, force: true }));

describe('SQLite event store', () => {
  it.each([':memory:', ''])(
    'given the in-memory name %j, when opened from another directory, then events are stored and read back, and no file of that name appears',
    async (name) => {
      const cwd = process.cwd();
      const dir = mkdtempSync(join(tmpdir(), 'syncline-memory-'));
      process.chdir(dir);
      try {
        const opened = openSqliteStore(name);
        if (E.isLeft(opened)) throw new Error(opened.left.message);
        const store = opened.right;
        await success(
          store.append([{ stream: 's', expected: 'no-stream', events: [{ type: 'A', data: 1 }] }]),
        );
        expect((await collect(store.readStream('s'))).map((e) => e.data)).toStrictEqual([1]);
        await store.close();
        expect(readdirSync(dir)).toStrictEqual([]);
      } finally {
        process.chdir(cwd);
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );

  it('given a path in a missing directory, when opened, then the directory and a WAL-mode file at the current schema version, with 16 KiB pages, are created', () => {
    const path = freshPath();
    open(path);
    const raw = new Database(path, { readonly: true });
    expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(raw.pragma('user_version', { simple: true })).toBe(3);
    expect(raw.pragma('page_size', { simple: true })).toBe(16384);
    raw.close();
  });

  it.each([
    [1, ''],
    [
      2,
      `CREATE TABLE snapshots (id INTEGER PRIMARY KEY, format INTEGER NOT NULL, position INTEGER NOT NULL,
         event_id TEXT NOT NULL, taken_at TEXT NOT NULL);
       CREATE TABLE snapshot_parts (snapshot INTEGER NOT NULL, seq INTEGER NOT NULL, body TEXT NOT NULL,
         UNIQUE (snapshot, seq));
       INSERT INTO snapshots VALUES (1, 3, 1, 'e', '2026-01-01T00:00:00.000Z');
       INSERT INTO snapshot_parts VALUES (1, 0, '["head"]');`,
    ],
  ])(
    'given a store of schema version %i (version 2 with a snapshot in its tables), when opened, then it is at version 3 without snapshot tables, and its events are as they were',
    async (version, tables) => {
      const path = freshPath();
      const first = open(path);
      await success(
        first.append([
          { stream: 'profile-p1', expected: 'no-stream', events: [{ type: 'Seeded', data: 1 }] },
        ]),
      );
      await first.close();
      const raw = new Database(path);
      raw.exec(tables);
      raw.pragma(`user_version = ${version}`);
      raw.close();
      const reopened = open(path);
      expect((await collect(reopened.readAll())).map((e) => [e.position, e.data])).toStrictEqual([[1, 1]]);
      await reopened.close();
      const after = new Database(path, { readonly: true });
      expect(after.pragma('user_version', { simple: true })).toBe(3);
      expect(
        after.prepare(`SELECT name FROM sqlite_master WHERE name LIKE 'snapshot%'`).pluck().all(),
      ).toStrictEqual([]);
      after.close();
    },
  );

  it('given an empty file, when opened without leave to create, then it is refused and stays empty; with leave, it becomes a store', async () => {
    const path = freshPath();
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, '');
    expect(messageOf(openSqliteStore(path, { create: false }))).toMatch(
      /^StoreUnavailable: .*store\.db is empty, not a syncline store/,
    );
    expect(statSync(path).size).toBe(0);
    const store = open(path);
    expect(await store.head()).toBe(0);
    expect(statSync(path).size).toBeGreaterThan(0);
  });

  it('given a store with events and a checkpoint, when it is closed and reopened, then everything is still there and positions continue', async () => {
    const path = freshPath();
    const first = open(path);
    const written = await success(
      first.append([
        { stream: 'profile-p', expected: 'no-stream', events: [{ id: 'e1', type: 'T', data: { a: [1] } }] },
      ]),
    );
    await success(first.setCheckpoint('sync-d', null, 1));
    await first.close();

    const again = open(path);
    expect(await collect(again.readAll())).toStrictEqual(written.appended);
    expect(await again.streamRevision('profile-p')).toBe(0);
    expect(await again.getCheckpoint('sync-d')).toBe(1);
    expect(await again.knownIds(['e1'])).toStrictEqual(new Set(['e1']));
    const next = await success(
      again.append([{ stream: 'profile-p', expected: 0, events: [{ type: 'T', data: 2 }] }]),
    );
    expect(next.appended.map((e) => [e.position, e.revision])).toStrictEqual([[2, 1]]);
  });

  it('given more appended than the checkpoint size, when the background checkpoint reports done, then the database file holds the events while the appending connection never checkpoints', async () => {
    const path = freshPath();
    let done: () => void = () => undefined;
    const checkpointed = new Promise<void>((resolve) => (done = resolve));
    const store = open(path, { walCheckpointBytes: 256 * 1024, onWalCheckpoint: () => done() });
    const big = 'x'.repeat(64 * 1024);
    for (let i = 0; i < 8; i++)
      await success(
        store.append([
          { stream: 'log', expected: i === 0 ? 'no-stream' : i - 1, events: [{ type: 'T', data: big }] },
        ]),
      );
    await checkpointed;
    // Only a checkpoint moves pages from the log into the file.
    expect(statSync(path).size).toBeGreaterThan(256 * 1024);
  });

  it('given a process that appended enough for a background checkpoint and never closes the store, when its script ends, then it exits by itself', async () => {
    const path = freshPath();
    const script = join(directory, `checkpointing-${files}.mjs`);
    const built = new URL('../dist/adapters/stores/sqlite/store.js', import.meta.url);
    writeFileSync(
      script,
      `import { openSqliteStore } from ${JSON.stringify(built.href)};
let checkpoints = 0;
let reported;
const checkpointed = new Promise((resolve) => (reported = resolve));
const onWalCheckpoint = () => { checkpoints++; reported(); };
const store = openSqliteStore(${JSON.stringify(path)}, { walCheckpointBytes: 1024, onWalCheckpoint }).right;
const r = await store.append([{ stream: 'log', expected: 'no-stream', events: [{ type: 'T', data: 'x'.repeat(4096) }] }])();
// A checkpoint is best effort and keeps nothing alive: this interval holds the process until the
// checkpoint reports, then lets go, and nothing of the store may hold it after that.
const holding = setInterval(() => undefined, 60_000);
await checkpointed;
clearInterval(holding);
console.log(r._tag, checkpoints);
`,
    );
    const run = await runScript(script);
    // A checkpointer left ref'd would keep the process alive until the timeout kills it.
    expect(run).toStrictEqual({ code: 0, signal: null, stdout: 'Right 1\n' });
  });

  it("given appends past SQLite's own checkpoint threshold but under the store's, then the appending connection checkpoints none of it", async () => {
    const path = freshPath();
    const store = open(path, { walCheckpointBytes: 1 << 30 });
    const big = 'x'.repeat(1024 * 1024);
    // SQLite's default would checkpoint after 1000 pages of 16 KiB: this appends more than that.
    for (let i = 0; i < 18; i++)
      await success(
        store.append([
          { stream: 'log', expected: i === 0 ? 'no-stream' : i - 1, events: [{ type: 'T', data: big }] },
        ]),
      );
    expect(statSync(path).size).toBeLessThan(1024 * 1024);
    expect(statSync(`${path}-wal`).size).toBeGreaterThan(18 * 1024 * 1024);
    // Past what a close leaves for the next process, the close checkpoints the log and removes it.
    await store.close();
    expect(existsSync(`${path}-wal`)).toBe(false);
    expect(statSync(path).size).toBeGreaterThan(18 * 1024 * 1024);
  });

  it('given a store that has checkpointed in the background, when closed, then its small log is left for the next process, which reads every event from it', async () => {
    const path = freshPath();
    let done: () => void = () => undefined;
    const checkpointed = new Promise<void>((resolve) => (done = resolve));
    const store = open(path, { walCheckpointBytes: 1024, onWalCheckpoint: () => done() });
    await success(
      store.append([
        { stream: 'log', expected: 'no-stream', events: [{ type: 'T', data: 'x'.repeat(4096) }] },
      ]),
    );
    await checkpointed;
    await success(store.append([{ stream: 'log', expected: 0, events: [{ type: 'T', data: 'after' }] }]));
    await store.close();
    // The log holds the last append, which no checkpoint has moved into the file: closing left it.
    expect(statSync(`${path}-wal`).size).toBeGreaterThan(0);
    const again = open(path);
    expect((await collect(again.readAll())).map((e) => e.data)).toStrictEqual(['x'.repeat(4096), 'after']);
  });

  it("given two connections to one file, when the second appends with a revision the first has moved past, then it is refused and sees the first one's events", async () => {
    const path = freshPath();
    const one = open(path);
    const two = open(path, { pollIntervalMs: 10 });
    await success(
      one.append([{ stream: 'sync-d', expected: 'no-stream', events: [{ type: 'RunStarted', data: 1 }] }]),
    );
    const seenByTwo = await two.streamRevision('sync-d');
    await success(one.append([{ stream: 'sync-d', expected: 0, events: [{ type: 'RunStarted', data: 2 }] }]));
    expect(
      await failure(
        two.append([{ stream: 'sync-d', expected: seenByTwo, events: [{ type: 'RunStarted', data: 3 }] }]),
      ),
    ).toStrictEqual({ _tag: 'WrongExpectedRevision', stream: 'sync-d', expected: 0, actual: 1 });
    expect((await collect(two.readStream('sync-d'))).map((e) => e.data)).toStrictEqual([1, 2]);
    expect(await one.head()).toBe(2);
  });

  it('given another connection holding the write lock past the busy timeout, when appending, then StoreUnavailable is returned and nothing is written', async () => {
    const path = freshPath();
    const store = open(path, { busyTimeoutMs: 50 });
    const other = new Database(path);
    other.exec('BEGIN IMMEDIATE');
    try {
      const refused = await store.append([
        { stream: 's', expected: 'any', events: [{ type: 'T', data: 1 }] },
      ])();
      expect(messageOf(refused)).toBe(
        `StoreUnavailable: another process is writing to the store at ${path} (an ingest or a sync ` +
          'holds its write lock); gave up after waiting 50 ms for it',
      );
      expect(await failure(store.setCheckpoint('c', null, 1))).toMatchObject({ _tag: 'StoreUnavailable' });
    } finally {
      other.exec('ROLLBACK');
      other.close();
    }
    expect(await store.head()).toBe(0);
    await success(store.append([{ stream: 's', expected: 'any', events: [{ type: 'T', data: 1 }] }]));
  });

  it('given another process holding the write lock for 3 s (a long ingest), when appending, then the append waits for it, says once that it waits, and lands once the lock is let go', async () => {
    const path = freshPath();
    const told: number[] = [];
    let start = 0;
    const store = open(path, { busyTimeoutMs: 60_000, onWaiting: () => told.push(Date.now() - start) });
    await success(store.append([{ stream: 's', expected: 'any', events: [{ type: 'T', data: 1 }] }]));
    const holder = holdWriteLock(path, 3000);
    await holder.locked;
    start = Date.now();
    const written = await success(
      store.append([{ stream: 's', expected: 0, events: [{ type: 'T', data: 2 }] }]),
    );
    expect(Date.now() - start).toBeGreaterThanOrEqual(2500);
    expect(told).toHaveLength(1);
    expect(told[0]).toBeGreaterThanOrEqual(NOTICE_AFTER_MS);
    expect(written.appended.map((e) => e.revision)).toStrictEqual([1]);
    await holder.exited;
  });

  it('given another process holding the write lock longer than a writer waits, when appending, then it gives up saying another process is writing, and nothing is written', async () => {
    const path = freshPath();
    const store = open(path, { busyTimeoutMs: 1500 });
    const holder = holdWriteLock(path, 30_000);
    try {
      await holder.locked;
      const refused = await store.append([
        { stream: 's', expected: 'any', events: [{ type: 'T', data: 1 }] },
      ])();
      expect(messageOf(refused)).toBe(
        `StoreUnavailable: another process is writing to the store at ${path} (an ingest or a sync ` +
          'holds its write lock); gave up after waiting 1.5 s for it',
      );
      const all = await store.appendAll(
        (async function* () {
          await Promise.resolve();
          yield [{ stream: 's', expected: 'any' as const, events: [{ type: 'T', data: 2 }] }];
        })(),
      )();
      expect(messageOf(all)).toMatch(/^StoreUnavailable: another process is writing to the store/);
    } finally {
      holder.kill();
      await holder.exited;
    }
    expect(await store.head()).toBe(0);
  });

  it('given a writer holding the write lock (a long ingest), when another process opens the store to read, then it opens at once and reads what is committed', async () => {
    const path = freshPath();
    const first = open(path);
    await success(first.append([{ stream: 's', expected: 'any', events: [{ type: 'T', data: 1 }] }]));
    await first.close();
    const writer = new Database(path);
    writer.exec('BEGIN IMMEDIATE');
    try {
      const reader = open(path, { busyTimeoutMs: 50 });
      expect((await collect(reader.readAll())).map((e) => e.data)).toStrictEqual([1]);
      await reader.close();
    } finally {
      writer.exec('ROLLBACK');
      writer.close();
    }
  });

  it('given a file written by a newer schema version, when opened, then it is refused with a message naming both versions and the file is left as it was', async () => {
    const path = freshPath();
    await open(path).close();
    const raw = new Database(path);
    raw.pragma('journal_mode = DELETE');
    raw.pragma('user_version = 99');
    raw.close();
    expect(messageOf(openSqliteStore(path))).toMatch(
      /^StoreUnavailable: .*schema version 99.*up to 3.*newer syncline/,
    );
    const after = new Database(path, { readonly: true });
    expect(after.pragma('journal_mode', { simple: true })).toBe('delete');
    after.close();
  });

  it('given a file that is not a SQLite database, when opened, then StoreUnavailable names the file and it is left untouched', () => {
    const path = join(directory, 'not-a-store.db');
    writeFileSync(path, 'profileId,name\np-1,Ada\n'.repeat(100));
    expect(messageOf(openSqliteStore(path))).toMatch(/^StoreUnavailable: .*not-a-store\.db/);
    expect(readFileSync(path, 'utf8')).toBe('profileId,name\np-1,Ada\n'.repeat(100));
  });

  it('when a stream is read, then SQLite searches the (stream, revision) index instead of scanning the events', () => {
    const path = freshPath();
    open(path);
    const raw = new Database(path, { readonly: true });
    const plan = raw
      .prepare(
        'EXPLAIN QUERY PLAN SELECT * FROM events WHERE stream = ? AND revision >= ? ORDER BY revision LIMIT ?',
      )
      .all('s', 0, 10) as { detail: string }[];
    raw.close();
    expect(plan.map((step) => step.detail).join('; ')).toMatch(/SEARCH events USING INDEX events_by_stream/);
  });

  it('given events with long arrays (bound in pieces that SQLite joins), when appended, then each row holds exactly the JSON.stringify of its data and reads back equal', async () => {
    const path = freshPath();
    const store = open(path);
    const item = (i: number) => ({ id: `c-${i}`, name: 'Chloé', tags: ['a', 'b'], v: i / 3 });
    const batches = [
      {
        runId: 'r',
        ids: Array.from({ length: 250 }, (_, i) => `p${i}`),
        items: Array.from({ length: 250 }, (_, i) => item(i)),
      },
      // more slices than one insert takes: joined before binding
      { items: Array.from({ length: (MAX_PIECES + 1) * SLICE }, (_, i) => i) },
      { small: [1, 2, 3] },
    ];
    await success(
      store.append([
        { stream: 'big', expected: 'no-stream', events: batches.map((data) => ({ type: 'Batch', data })) },
      ]),
    );
    const raw = new Database(path, { readonly: true });
    const texts = raw.prepare('SELECT data FROM events ORDER BY position').pluck().all();
    raw.close();
    expect(texts).toStrictEqual(batches.map((b) => JSON.stringify(b)));
    expect((await collect(store.readAll())).map((e) => e.data)).toStrictEqual(batches);
  });
});

describe('opening a store from a URL', () => {
  it('given memory:, then an empty memory store opens', async () => {
    const result = await openStore('memory:')();
    expect(E.isRight(result)).toBe(true);
    if (E.isRight(result)) {
      expect(await result.right.head()).toBe(0);
      await result.right.close();
    }
  });

  it('given sqlite:PATH, then PATH is taken relative to the working directory, and sqlite:///PATH is absolute', async () => {
    expect(parseStoreUrl('sqlite:.syncline/store.db', '/srv/app')).toStrictEqual(
      E.right({ kind: 'sqlite', path: '/srv/app/.syncline/store.db' }),
    );
    expect(parseStoreUrl('sqlite:///var/lib/s.db', '/srv/app')).toStrictEqual(
      E.right({ kind: 'sqlite', path: '/var/lib/s.db' }),
    );
    const result = await openStore('sqlite:nested/store.db', join(directory, 'url'))();
    expect(E.isRight(result)).toBe(true);
    if (E.isRight(result)) opened.push(result.right);
    expect(
      readFileSync(join(directory, 'url', 'nested', 'store.db'))
        .subarray(0, 15)
        .toString(),
    ).toBe('SQLite format 3');
  });

  it('given a URL of no store this build knows, or a malformed one, then a BadStoreUrl value says what is supported', async () => {
    for (const url of ['mysql://x', 'redis://localhost:6379']) {
      expect(messageOf(await openStore(url)())).toMatch(
        /^BadStoreUrl: .*is not a store URL this syncline understands; use memory:, sqlite:PATH \(e\.g\. sqlite:\.syncline\/store\.db\), postgres:\/\/USER@HOST:PORT\/DB\[\?schema=NAME\] or kurrentdb:\/\/HOST:PORT\?tls=false$/,
      );
    }
    for (const url of [
      'kurrentdb://?tls=false',
      '',
      'store.db',
      'mysql://x',
      'memory:extra',
      'sqlite:',
      'sqlite://host/file.db',
      'postgres://host',
    ]) {
      expect(await openStore(url)()).toMatchObject(E.left({ _tag: 'BadStoreUrl' }));
    }
  });

  it('given an unopenable sqlite path, then opening yields StoreUnavailable instead of throwing', async () => {
    const blocker = join(directory, 'a-file');
    writeFileSync(blocker, '');
    expect(await openStore(`sqlite:${join(blocker, 'store.db')}`)()).toMatchObject(
      E.left({ _tag: 'StoreUnavailable' }),
    );
  });
});
