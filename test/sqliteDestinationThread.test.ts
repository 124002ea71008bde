// The SQLite destination applies on a writer thread and looks up on a reader thread, which every
// destination of a process shares with a connection of its own: what a lookup sees, when the threads
// start, what sharing them does, and what a process's lifetime does.
import Database from 'better-sqlite3';
import { runScript } from './support/cli.js';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { getPriority } from 'node:os';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Command } from '../domain/command.js';
import type { DestinationConfig } from '../domain/destination.js';
import type { Destination } from '../engine/ports.js';

// Counts the workers started, and the requests sent to them, without the destination exposing
// anything for it.
const started = vi.hoisted(() => ({ workers: 0, requests: 0 }));
vi.mock('node:worker_threads', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:worker_threads')>();
  class CountedWorker extends actual.Worker {
    constructor(...args: ConstructorParameters<typeof actual.Worker>) {
      super(...args);
      started.workers++;
    }

    override postMessage(...args: Parameters<InstanceType<typeof actual.Worker>['postMessage']>): void {
      started.requests++;
      super.postMessage(...args);
    }
  }
  return { ...actual, Worker: CountedWorker };
});

const BUILT_SQLITE = new URL('../dist/adapters/destinations/sqlite/destination.js', import.meta.url);

let dir: string;
let opened: Destination[] = [];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'syncline-sqlite-thread-'));
  started.workers = 0;
  started.requests = 0;
  // Each spec is a process of its own: a fresh module holds no threads yet.
  vi.resetModules();
});
afterEach(async () => {
  await Promise.all(opened.map((d) => d.close()));
  opened = [];
  rmSync(dir, { recursive: true, force: true });
});

const config = (path = join(dir, 'crm.db')): DestinationConfig => ({
  destinationId: 'crm',
  type: 'sqlite',
  collection: { kind: 'all' },
  keyField: 'email',
  mapping: { email: 'email', first_name: 'firstName' },
  groupMapping: {},
  options: { path, table: 'contacts' },
});

const open = async (c: DestinationConfig = config()): Promise<Destination> => {
  const { sqliteDestinationType } = await import('../adapters/destinations/sqlite/destination.js');
  const result = await sqliteDestinationType.open(c, {})();
  if (result._tag === 'Left') throw new Error(result.left.message);
  opened.push(result.right);
  return result.right;
};

const create = (key: string, more: Partial<Command> = {}): Command => ({
  commandId: `c-${key}`,
  profileId: `p-${key}`,
  operation: 'create',
  key,
  fields: { set: { email: key, first_name: `name of ${key}` }, unset: [] },
  groups: { add: ['VIP'], remove: [] },
  ...more,
});

const many = (n: number): Command[] => Array.from({ length: n }, (_, i) => create(`k${i}@example.com`));

const rowCount = (path = join(dir, 'crm.db')): number => {
  const db = new Database(path, { readonly: true });
  try {
    return db.prepare(`SELECT count(*) FROM contacts`).pluck().get() as number;
  } finally {
    db.close();
  }
};

describe('sqlite destination apply and lookup on threads', () => {
  it('given an applied batch, when the caller looks up right after, then the reader sees the rows and groups', async () => {
    const d = await open();
    const applied = await d.apply([create('ada@example.com'), create('bob@example.com')])();
    expect(applied).toStrictEqual({
      _tag: 'Right',
      right: [
        { commandId: 'c-ada@example.com', status: 'ok' },
        { commandId: 'c-bob@example.com', status: 'ok' },
      ],
    });
    expect(await d.lookup(['ada@example.com', 'nobody@example.com'])()).toStrictEqual({
      _tag: 'Right',
      right: [
        {
          key: 'ada@example.com',
          fields: { email: 'ada@example.com', first_name: 'name of ada@example.com' },
          groups: ['VIP'],
        },
      ],
    });
    expect(started.workers).toBe(2);
  });

  it('given a destination just opened, then no thread has booted; lookups with no run expected (a caller of the port alone) boot the reader, start no writer and create no file, and the first apply does both', async () => {
    const d = await open();
    expect(started.workers).toBe(0);
    expect(await d.lookup(['ada@example.com'])()).toStrictEqual({ _tag: 'Right', right: [] });
    expect(await d.lookup(['bob@example.com'])()).toStrictEqual({ _tag: 'Right', right: [] });
    const tables = () => {
      if (!existsSync(join(dir, 'crm.db'))) return 'no file';
      const db = new Database(join(dir, 'crm.db'), { readonly: true });
      try {
        return db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all();
      } finally {
        db.close();
      }
    };
    expect(tables()).toStrictEqual('no file');
    expect(started.workers).toBe(1);
    await d.apply([create('ada@example.com')])();
    expect(tables()).toStrictEqual(['contacts', 'contacts_groups']);
    expect(started.workers).toBe(2);
  });

  it('given a short run expected (5,000 profiles or fewer) and no writer running, when it applies and looks up, then both are answered on the caller`s thread: no writer starts, and the rows are there', async () => {
    const d = await open();
    d.expect?.(5_000);
    expect(await d.count?.()()).toStrictEqual({ _tag: 'Right', right: null });
    const applied = await d.apply(many(3))();
    expect(applied._tag === 'Right' && applied.right.every((o) => o.status === 'ok')).toBe(true);
    expect(await d.lookup(['k1@example.com'])()).toStrictEqual({
      _tag: 'Right',
      right: [
        {
          key: 'k1@example.com',
          fields: { email: 'k1@example.com', first_name: 'name of k1@example.com' },
          groups: ['VIP'],
        },
      ],
    });
    expect(started.workers).toBe(0);
    expect(rowCount()).toBe(3);
  });

  it('given a long run expected, then the reader boots at once, and a lookup asked before it is up is answered all the same, with what the file holds', async () => {
    const d = await open();
    await d.apply(many(2))();
    expect(started.workers).toBe(1);
    d.expect?.(5_001);
    expect(started.workers).toBe(2);
    const sent = started.requests;
    expect(await d.lookup(['k1@example.com', 'nobody@example.com'])()).toMatchObject({
      _tag: 'Right',
      right: [{ key: 'k1@example.com', groups: ['VIP'] }],
    });
    // Asked at once, the lookup was answered here: nothing was sent to the booting reader.
    expect(started.requests).toBe(sent);
    // Once the reader is up, lookups go to it, with the same answer.
    const deadline = Date.now() + 10_000;
    while (started.requests === sent && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(await d.lookup(['k1@example.com'])()).toMatchObject({ right: [{ key: 'k1@example.com' }] });
    }
    expect(started.requests).toBeGreaterThan(sent);
  });

  it('given a long run expected (more than 5,000 profiles), when it applies, then the writer thread starts; and a short run after it, on another destination of the process, applies there too', async () => {
    const d = await open();
    d.expect?.(5_001);
    await d.apply(many(2))();
    expect(started.workers).toBe(2);
    const other = await open(config(join(dir, 'other.db')));
    other.expect?.(10);
    await other.apply(many(2))();
    expect(started.workers).toBe(2);
    expect(rowCount(join(dir, 'other.db'))).toBe(2);
  });

  it('given a destination whose run applied on the writer thread, when its next run is expected short, then it keeps applying on that thread: its writes never cross from one thread to another', async () => {
    const d = await open();
    await d.apply(many(1))();
    expect(started.workers).toBe(1);
    d.expect?.(10);
    const applied = await d.apply([create('late@example.com')])();
    expect(applied._tag).toBe('Right');
    expect(started.workers).toBe(1);
    expect(rowCount()).toBe(2);
  });

  it('given an apply waiting for the write lock, when looking up, then the lookup answers without waiting for it', async () => {
    const d = await open();
    await d.apply([create('ada@example.com')])();
    // Another connection holds the write lock: the writer's next transaction waits for it.
    const other = new Database(join(dir, 'crm.db'));
    other.exec('BEGIN IMMEDIATE');
    let applied = false;
    const applying = d
      .apply([create('bob@example.com')])()
      .then((r) => ((applied = true), r));
    expect(await d.lookup(['ada@example.com', 'bob@example.com'])()).toMatchObject({
      right: [{ key: 'ada@example.com' }],
    });
    expect(applied).toBe(false);
    other.exec('COMMIT');
    other.close();
    expect(await applying).toMatchObject({ _tag: 'Right', right: [{ status: 'ok' }] });
    expect(await d.lookup(['bob@example.com'])()).toMatchObject({ right: [{ key: 'bob@example.com' }] });
  });

  it('given an apply in flight, when closed, then close waits for it and its rows are in the file', async () => {
    const d = await open();
    const applying = d.apply(many(3000))();
    await d.close();
    expect(rowCount()).toBe(3000);
    expect(await applying).toMatchObject({ _tag: 'Right', right: { length: 3000 } });
    await d.close(); // a second close is harmless
    await expect(d.apply([create('late@example.com')])()).rejects.toThrow('closed');
  });

  it('given applied batches, when the destination tidies up after a run, then the database file alone holds them: its write-ahead log was checkpointed, where closing alone leaves it to SQLite', async () => {
    // A connection of our own stays open, so that closing the destination is not the last close
    // (which checkpoints by itself); the file alone is read from a copy of it.
    const inFileAlone = (path: string): number => {
      const copy = `${path}.alone`;
      copyFileSync(path, copy);
      const db = new Database(copy, { readonly: true });
      try {
        const exists = db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'contacts'").get();
        return exists === undefined
          ? 0
          : (db.prepare('SELECT count(*) FROM contacts').pluck().get() as number);
      } finally {
        db.close();
      }
    };
    const held: Database.Database[] = [];
    const synced = async (path: string, tidy: boolean): Promise<void> => {
      const d = await open(config(path));
      await d.apply(many(300))();
      held.push(new Database(path));
      held.at(-1)?.prepare('SELECT count(*) FROM contacts').get();
      if (tidy) await d.tidy?.();
      await d.close();
    };
    try {
      await synced(join(dir, 'untidy.db'), false);
      expect(inFileAlone(join(dir, 'untidy.db'))).toBe(0);
      await synced(join(dir, 'tidy.db'), true);
      expect(inFileAlone(join(dir, 'tidy.db'))).toBe(300);
    } finally {
      for (const db of held) db.close();
    }
  });

  // A process already at niceness 10 or more starts every thread there: nothing to tell apart.
  it.runIf(process.platform === 'linux' && getPriority() < 10)(
    'given a destination that applied, then its writer thread yields to the caller’s: on Linux it runs at niceness 10, and the caller’s thread as it was',
    async () => {
      // Each thread of the process is a task; a task's niceness is the 19th field of its stat.
      const niceness = (): number[] =>
        readdirSync('/proc/self/task').map((task) => {
          const stat = readFileSync(`/proc/self/task/${task}/stat`, 'utf8');
          return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
        });
      const mine = getPriority();
      const before = niceness().filter((n) => n === 10).length;
      const d = await open();
      await d.lookup(['ada@example.com'])();
      expect(niceness().filter((n) => n === 10)).toHaveLength(before);
      await d.apply([create('ada@example.com')])();
      expect(niceness().filter((n) => n === 10)).toHaveLength(before + 1);
      expect(getPriority()).toBe(mine);
    },
  );

  it('given a destination that never applied, when it tidies up, then no writer starts', async () => {
    const d = await open();
    await d.tidy?.();
    await d.close();
    expect(started.workers).toBe(0);
  });

  it('given a command the worker cannot handle (a bug), when applied, then that apply and every later one reject with its message', async () => {
    const d = await open();
    const broken = { ...create('ada@example.com'), fields: { set: {} } } as unknown as Command;
    await expect(d.apply([broken])()).rejects.toThrow(/Cannot read properties of null/);
    await expect(d.apply([create('bob@example.com')])()).rejects.toThrow(/Cannot read properties of null/);
    expect(await d.lookup(['ada@example.com', 'bob@example.com'])()).toStrictEqual({
      _tag: 'Right',
      right: [],
    });
  });

  it('given an in-memory path, when applied, then apply stays on the caller’s thread, whose lookup sees it', async () => {
    const d = await open(config(':memory:'));
    await d.apply([create('ada@example.com')])();
    expect(await d.lookup(['ada@example.com'])()).toMatchObject({ right: [{ key: 'ada@example.com' }] });
    expect(started.workers).toBe(0);
  });
});

describe('sqlite destinations sharing their threads', () => {
  it('given two destinations opened in one process, then they share one reader and one writer, each with a connection of its own, and closing one leaves the other working', async () => {
    const first = await open(config(join(dir, 'a.db')));
    const second = await open(config(join(dir, 'b.db')));
    expect(await first.apply([create('ada@example.com')])()).toMatchObject({ right: [{ status: 'ok' }] });
    expect(await second.apply([create('bob@example.com')])()).toMatchObject({ right: [{ status: 'ok' }] });
    expect(started.workers).toBe(1);
    // Each looks in its own file.
    expect(await first.lookup(['ada@example.com', 'bob@example.com'])()).toMatchObject({
      right: [{ key: 'ada@example.com' }],
    });
    expect(await second.lookup(['ada@example.com', 'bob@example.com'])()).toMatchObject({
      right: [{ key: 'bob@example.com' }],
    });
    expect(started.workers).toBe(2);
    await first.close();
    expect(await second.apply([create('cy@example.com')])()).toMatchObject({ right: [{ status: 'ok' }] });
    expect(await second.lookup(['bob@example.com', 'cy@example.com'])()).toMatchObject({
      right: [{ key: 'bob@example.com' }, { key: 'cy@example.com' }],
    });
    await expect(first.lookup(['ada@example.com'])()).rejects.toThrow('closed');
    expect(rowCount(join(dir, 'a.db'))).toBe(1);
    expect(rowCount(join(dir, 'b.db'))).toBe(2);
  });

  it('given one file opened by two destinations, when one closes, then the other still reads and writes it', async () => {
    const first = await open();
    const second = await open();
    await first.apply([create('ada@example.com')])();
    await second.lookup(['ada@example.com'])();
    await first.close();
    expect(await second.apply([create('bob@example.com')])()).toMatchObject({ right: [{ status: 'ok' }] });
    expect(await second.lookup(['ada@example.com', 'bob@example.com'])()).toMatchObject({
      right: [{ key: 'ada@example.com' }, { key: 'bob@example.com' }],
    });
  });

  it('given every destination closed, when another is opened and applies, then it uses the threads already running', async () => {
    const first = await open(config(join(dir, 'a.db')));
    await first.apply([create('ada@example.com')])();
    await first.close();
    const second = await open(config(join(dir, 'b.db')));
    await second.apply([create('bob@example.com')])();
    expect(started.workers).toBe(1);
  });

  it('given a destination closed, then its connections on the threads are closed: the last close removes the write-ahead log', async () => {
    const d = await open();
    await d.apply(many(300))();
    expect(existsSync(join(dir, 'crm.db-wal'))).toBe(true);
    await d.close();
    expect(existsSync(join(dir, 'crm.db-wal'))).toBe(false);
    expect(rowCount()).toBe(300);
  });

  it('given a destination whose directory is gone when its thread opens it, then its calls answer why, and the threads go on serving the others', async () => {
    const other = await open(config(join(dir, 'other.db')));
    await other.apply([create('ada@example.com')])();
    const gone = join(dir, 'gone');
    const d = await open(config(join(gone, 'crm.db')));
    // A file where its directory was: the thread's connection cannot be opened there.
    rmSync(gone, { recursive: true, force: true });
    writeFileSync(gone, '');
    const looked = await d.lookup(['ada@example.com'])();
    expect(looked).toMatchObject({ _tag: 'Left', left: { _tag: 'DestinationUnavailable' } });
    expect(looked._tag === 'Left' && looked.left.message).toContain(`cannot open ${join(gone, 'crm.db')}`);
    expect(await d.apply([create('bob@example.com')])()).toMatchObject({
      _tag: 'Left',
      left: { _tag: 'DestinationUnavailable', retryable: false },
    });
    expect(await other.apply([create('cy@example.com')])()).toMatchObject({ right: [{ status: 'ok' }] });
    expect(await other.lookup(['ada@example.com', 'cy@example.com'])()).toMatchObject({
      right: [{ key: 'ada@example.com' }, { key: 'cy@example.com' }],
    });
    expect(started.workers).toBe(2);
  });

  it('given the writer failed on a bug, then the destinations sharing it fail their applies, and a destination opened afterwards gets a writer of its own that works', async () => {
    const before = await open(config(join(dir, 'a.db')));
    await before.apply([create('ada@example.com')])();
    const broken = { ...create('bob@example.com'), fields: { set: {} } } as unknown as Command;
    await expect(before.apply([broken])()).rejects.toThrow(/Cannot read properties of null/);
    await expect(before.apply([create('cy@example.com')])()).rejects.toThrow(/Cannot read properties/);
    const after = await open(config(join(dir, 'b.db')));
    expect(await after.apply([create('dee@example.com')])()).toMatchObject({ right: [{ status: 'ok' }] });
    expect(started.workers).toBe(2);
    expect(rowCount(join(dir, 'b.db'))).toBe(1);
  });
});

describe('a process using the sqlite destination', () => {
  it('given a destination opened and never used or closed, when its script ends, then the process exits by itself', async () => {
    const script = join(dir, 'idle.mjs');
    writeFileSync(
      script,
      `import { sqliteDestinationType } from ${JSON.stringify(BUILT_SQLITE.href)};
const opened = await sqliteDestinationType.open(${JSON.stringify(config(join(dir, 'idle.db')))}, {})();
console.log(opened._tag);
`,
    );
    // Its reader boots at open: idle, it must not keep the process alive.
    expect(await runScript(script)).toStrictEqual({ code: 0, signal: null, stdout: 'Right\n' });
  });

  it('given an apply awaited and no close, when its script ends, then the process exits by itself with the rows written', async () => {
    const path = join(dir, 'crm.db');
    const script = join(dir, 'apply.mjs');
    writeFileSync(
      script,
      `import { sqliteDestinationType } from ${JSON.stringify(BUILT_SQLITE.href)};
const opened = await sqliteDestinationType.open(${JSON.stringify(config(path))}, {})();
const applied = await opened.right.apply(${JSON.stringify(many(500))})();
console.log(applied._tag, applied.right.length);
`,
    );
    const run = await runScript(script);
    // Unanswered top-level awaits exit 13; a worker left ref'd would hang until the timeout kills it.
    expect(run).toStrictEqual({ code: 0, signal: null, stdout: 'Right 500\n' });
    expect(rowCount(path)).toBe(500);
  });
});
