// A NATS server dropping mid-run: syncline talks to NATS through a relay in front of the real server
// (test/support/tcpCut.ts), and the relay is cut, as a server gone would be; the test fills and reads
// the streams on the server itself. Given `ingest --from` or `publish --to` at work, when the server
// goes, then the process exits 1 soon, in one line naming the server, having stored or checkpointed
// no more than it has; and run again against the server, every event is there exactly once, in order.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import * as E from 'fp-ts/lib/Either.js';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { jetstream } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { population } from '../adapters/demo/people.js';
import { openSqliteStore } from '../adapters/stores/sqlite/store.js';
import { v5 } from '../domain/ids.js';
import { SYNC_PREFIX } from '../domain/syncEvents.js';
import { CLI_PATH, runCli, tempDir } from './support/cli.js';
import { NATS_URL, natsAnswers, testStreams, type TestStreams } from './support/nats.js';
import { tcpCut, type TcpCut } from './support/tcpCut.js';

type Dir = Awaited<ReturnType<typeof tempDir>>;

/** How long a process may take to exit once its server is gone: the client's reconnects (10 × 500 ms) and then some. */
const EXIT_WITHIN_MS = 30_000;

const server = new URL(NATS_URL);
/** The test server as syncline names it. */
const shownUrl = `nats://${server.hostname}:${server.port === '' ? '4222' : server.port}`;

/** A relay in front of the test server, cut (again, harmlessly) when the test ends. */
const relayed = async (): Promise<TcpCut & { readonly url: string }> => {
  const relay = await tcpCut(server.hostname, Number(server.port === '' ? '4222' : server.port));
  onTestFinished(() => relay.cut());
  return { ...relay, url: `nats://127.0.0.1:${relay.port}` };
};

type Exit = {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
};

type Running = {
  readonly exit: Promise<Exit>;
  readonly exited: () => boolean;
  /** SIGSTOP and SIGCONT: the process held where it is while the server goes */
  readonly freeze: () => void;
  readonly thaw: () => void;
  /** SIGTERM: stop when done with what it is doing */
  readonly terminate: () => void;
};

/** The built `syncline` in `cwd`, killed when the test ends if it is still running. */
const start = (args: readonly string[], cwd: string): Running => {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of ['SYNCLINE_STORE', 'FORCE_COLOR', 'NO_COLOR']) delete env[name];
  const child = spawn(process.execPath, [CLI_PATH, ...args], { cwd, env });
  let stdout = '';
  let stderr = '';
  let ended = false;
  child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
  child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  // 'close' comes after 'exit' and after the pipes drain, so the output is complete.
  const exit = new Promise<Exit>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      ended = true;
      resolve({ code, signal, stdout, stderr });
    });
  });
  onTestFinished(async () => {
    if (ended) return;
    child.kill('SIGKILL');
    await exit.catch(() => undefined);
  });
  return {
    exit,
    exited: () => ended,
    freeze: () => void child.kill('SIGSTOP'),
    thaw: () => void child.kill('SIGCONT'),
    terminate: () => void child.kill('SIGTERM'),
  };
};

/** The process's exit, with the milliseconds it took from now; fails if it is still running after `ms`. */
const exitWithin = async (running: Running, ms: number): Promise<Exit & { readonly ms: number }> => {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'still running'>((resolve) => {
    timer = setTimeout(() => resolve('still running'), ms);
  });
  try {
    const exit = await Promise.race([running.exit, late]);
    if (exit === 'still running') throw new Error(`still running ${ms} ms on, saying nothing`);
    return { ...exit, ms: performance.now() - started };
  } finally {
    clearTimeout(timer);
  }
};

/** Polls `holds` until it is true; fails if the process ends first, or after `ms`. */
const waitUntil = async (
  holds: () => boolean | Promise<boolean>,
  what: string,
  running: Running,
  ms = 60_000,
): Promise<void> => {
  const deadline = performance.now() + ms;
  while (!(await holds())) {
    if (running.exited()) throw new Error(`the process ended before ${what}: ${(await running.exit).stderr}`);
    if (performance.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
};

const storePath = (dir: Dir): string => join(dir.path, '.syncline', 'events.db');

/** SQL on the store beside the process writing it (undefined before the store has its tables). */
const onStore = <A>(dir: Dir, read: (db: Database.Database) => A): A | undefined => {
  if (!existsSync(storePath(dir))) return undefined;
  try {
    const db = new Database(storePath(dir), { readonly: true, fileMustExist: true });
    try {
      return read(db);
    } finally {
      db.close();
    }
  } catch {
    return undefined; // made but not yet given its tables
  }
};

const countIn = (dir: Dir): number =>
  onStore(dir, (db) => db.prepare('SELECT count(*) FROM events').pluck().get() as number) ?? 0;

/** The store's events as the adapter reads them back, in store order. */
const storedIn = async (dir: Dir): Promise<{ id: string; stream: string; position: number }[]> => {
  const opened = openSqliteStore(storePath(dir));
  if (E.isLeft(opened)) throw new Error(opened.left.message);
  const out: { id: string; stream: string; position: number }[] = [];
  try {
    for await (const e of opened.right.readAll())
      out.push({ id: e.id, stream: e.stream, position: e.position });
  } finally {
    await opened.right.close();
  }
  return out;
};

/** Where each id is in `order` (the id itself when it is not there): a diff of numbers reads better than one of ids. */
const placesIn = (order: readonly string[], ids: readonly (string | undefined)[]): (number | string)[] => {
  const place = new Map(order.map((id, i) => [id, i]));
  return ids.map((id) => place.get(id ?? '') ?? String(id));
};

/** 0, 1, 2… n - 1 */
const upTo = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

/** One line, `syncline: cannot reach NATS at <url>: <reason>`, and nothing else: no stack. */
const lostLine = (url: string): RegExp =>
  new RegExp(`^syncline: cannot reach NATS at ${url.replace(/[.]/g, '\\.')}: [^\\n]+\\n$`);

/**
 * Publishes `n` events where order matters, in order, and gives their ids as ingest makes them. Even
 * messages create a profile, odd ones change the profile created 99 messages before, most often one
 * of the batch before: stored out of the stream's order, a change would come before its profile's
 * creation and be refused.
 */
const dependentBacklog = async (nc: NatsConnection, subject: string, n: number): Promise<string[]> => {
  const js = jetstream(nc);
  await Promise.all(
    Array.from({ length: n }, (_, i) =>
      js.publish(
        subject,
        JSON.stringify(
          i % 2 === 0 || i < 99
            ? { type: 'ProfileCreated', data: { profileId: `p${i}`, properties: { email: `p${i}@x.io` } } }
            : { type: 'ProfilePropertiesChanged', data: { profileId: `p${i - 99}`, set: { seen: i } } },
        ),
        { msgID: `msg-${i}` },
      ),
    ),
  );
  // Published in order on one connection: the stream holds them in that order.
  return Array.from({ length: n }, (_, i) => v5(`message:msg-${i}`));
};

describe.skipIf(!natsAnswers)('a NATS server dropping mid-run', () => {
  let streams: TestStreams;
  beforeAll(async () => {
    streams = await testStreams();
  });
  afterAll(() => streams.close());

  it("given a backlog of thousands and `ingest --follow` through the relay, when the relay is cut part-way, then it exits 1 within seconds naming the server, with a prefix of the stream stored; and ingested again from the server, every event is stored once, in the stream's order", async () => {
    const { name, prefix } = await streams.fresh();
    const dir = await tempDir();
    onTestFinished(() => dir.remove());
    const n = 3000;
    const expected = await dependentBacklog(streams.nc, `${prefix}.events`, n);
    const flags = [
      '--stream',
      name,
      '--subject',
      `${prefix}.events`,
      '--reject-subject',
      `${prefix}.rejected`,
    ];
    const relay = await relayed();
    const following = start(
      ['ingest', '--from', relay.url, ...flags, '--follow', '--batch', '100'],
      dir.path,
    );
    await waitUntil(() => countIn(dir) >= 500, 'it stored 500 events', following);
    await relay.cut();
    const lost = await exitWithin(following, EXIT_WITHIN_MS);
    expect([lost.code, lost.signal]).toEqual([1, null]);
    expect(lost.stdout).toBe(`ingesting from ${relay.url}, stream ${name}; Ctrl-C to stop\n`);
    expect(lost.stderr).toMatch(lostLine(relay.url));
    const before = (await storedIn(dir)).map((e) => e.id);
    expect(before.length).toBeGreaterThanOrEqual(500);
    expect(before.length).toBeLessThan(n);
    // A prefix of the stream: each event once, none skipped, none out of order.
    expect(placesIn(expected, before)).toStrictEqual(upTo(before.length));

    const again = await runCli(['ingest', '--from', NATS_URL, ...flags, '--batch', '100', '--json'], {
      cwd: dir.path,
    });
    expect([again.code, again.stderr]).toEqual([0, '']);
    const counts = JSON.parse(again.stdout) as { received: number; duplicates: number };
    // What the cut reader had stored and not acknowledged comes again, and is stored once.
    expect(counts).toStrictEqual({
      source: shownUrl,
      stream: name,
      received: n - before.length + counts.duplicates,
      stored: n - before.length,
      duplicates: counts.duplicates,
      rejected: 0,
    });
    expect(counts.duplicates).toBeLessThanOrEqual(100);
    expect(
      placesIn(
        expected,
        (await storedIn(dir)).map((e) => e.id),
      ),
    ).toStrictEqual(upTo(n));
    const set = (await streams.messages(name)).filter((m) => m.subject === `${prefix}.rejected`);
    expect(set.map((m) => m.header.get('Syncline-Error'))).toStrictEqual([]);
  }, 180_000);

  it("given a backlog and `ingest --follow` through the relay, when the server restarts part-way (its connections dropped, new ones taken), then it rides that out and goes on: every event stored once, in the stream's order, and SIGTERM ends it with 0", async () => {
    const { name, prefix } = await streams.fresh();
    const dir = await tempDir();
    onTestFinished(() => dir.remove());
    const n = 2000;
    const expected = await dependentBacklog(streams.nc, `${prefix}.events`, n);
    const relay = await relayed();
    const following = start(
      [
        'ingest',
        '--from',
        relay.url,
        '--stream',
        name,
        '--subject',
        `${prefix}.events`,
        '--reject-subject',
        `${prefix}.rejected`,
        '--follow',
        '--batch',
        '100',
      ],
      dir.path,
    );
    await waitUntil(() => countIn(dir) >= 300, 'it stored 300 events', following);
    relay.drop();
    await waitUntil(() => countIn(dir) >= n, 'it stored every event', following, 60_000);
    following.terminate();
    const ended = await exitWithin(following, EXIT_WITHIN_MS);
    expect([ended.code, ended.stderr]).toEqual([0, '']);
    expect(
      placesIn(
        expected,
        (await storedIn(dir)).map((e) => e.id),
      ),
    ).toStrictEqual(upTo(n));
    const set = (await streams.messages(name)).filter((m) => m.subject === `${prefix}.rejected`);
    expect(set).toStrictEqual([]);
  }, 180_000);

  it('given `ingest --follow` through the relay with nothing left to ingest, when the relay is cut while it waits for messages, then it exits 1 naming the server, what it stored kept', async () => {
    const { name, prefix } = await streams.fresh();
    const dir = await tempDir();
    onTestFinished(() => dir.remove());
    await jetstream(streams.nc).publish(
      `${prefix}.events`,
      JSON.stringify({ type: 'GroupCreated', data: { groupId: 'vip', name: 'VIP' } }),
      { msgID: 'only' },
    );
    const relay = await relayed();
    const following = start(['ingest', '--from', relay.url, '--stream', name, '--follow'], dir.path);
    await waitUntil(() => countIn(dir) === 1, 'it stored the event', following);
    // Well into its wait for the next message (a second at most each).
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    await relay.cut();
    const lost = await exitWithin(following, EXIT_WITHIN_MS);
    expect([lost.code, lost.signal]).toEqual([1, null]);
    expect(lost.stdout).toBe(`ingesting from ${relay.url}, stream ${name}; Ctrl-C to stop\n`);
    expect(lost.stderr).toMatch(lostLine(relay.url));
    expect((await storedIn(dir)).map((e) => e.id)).toStrictEqual([v5('message:only')]);
  }, 60_000);

  describe('publish', () => {
    let dir: Dir;
    beforeAll(async () => {
      dir = await tempDir();
      await dir.write('syncline.config.json', {
        destinations: [
          {
            destinationId: 'warehouse',
            type: 'sqlite',
            syncMode: 'sync',
            collection: { kind: 'all' },
            keyField: 'email',
            mapping: { email: 'email', first_name: 'firstName', last_name: 'lastName' },
            groupMapping: { vip: 'VIP' },
            options: { path: 'warehouse.db', table: 'contacts' },
          },
        ],
      });
      await dir.write('people.jsonl', [...population(400, 5)].map((e) => `${JSON.stringify(e)}\n`).join(''));
      // A first sync a profile per batch, each applied on its own: some 800 sync events to publish.
      for (const args of [
        ['apply'],
        ['ingest', 'people.jsonl'],
        ['sync', '--batch-size', '1', '--apply-batch-size', '1'],
      ]) {
        const r = await runCli(args, { cwd: dir.path });
        if (r.code !== 0) throw new Error(`syncline ${args.join(' ')}: ${r.stderr}`);
      }
    }, 120_000);
    afterAll(() => dir.remove());

    /** syncline's own events, in store order, and the store's head. */
    const own = async (): Promise<{ ids: string[]; positions: number[]; head: number }> => {
      const all = await storedIn(dir);
      const sync = all.filter((e) => e.stream.startsWith(SYNC_PREFIX));
      return {
        ids: sync.map((e) => e.id),
        positions: sync.map((e) => e.position),
        head: all.at(-1)?.position ?? 0,
      };
    };
    const checkpointOf = (prefix: string): number | undefined =>
      onStore(
        dir,
        (db) =>
          db.prepare('SELECT value FROM checkpoints WHERE name = ?').pluck().get(`publish:${prefix}`) as
            number | undefined,
      );
    const idsIn = async (stream: string): Promise<(string | undefined)[]> =>
      (await streams.messages(stream)).map((m) => m.header.get('Nats-Msg-Id'));

    it('given `publish --follow` through the relay, when the relay is cut part-way through the backlog, then it exits 1 naming the server, its checkpoint no further than the stream holds; and published again to the server, the stream holds every sync event once, in store order', async () => {
      const { name, prefix } = await streams.fresh();
      const { ids, positions, head } = await own();
      expect(ids.length).toBeGreaterThan(700);
      const relay = await relayed();
      const following = start(
        ['publish', '--to', relay.url, '--subject-prefix', prefix, '--follow'],
        dir.path,
      );
      await waitUntil(
        async () => (await streams.jsm.streams.info(name)).state.messages > 0,
        'it published an event',
        following,
      );
      // Held where it is, the server goes: with events published and not acknowledged.
      following.freeze();
      const atCut = (await streams.jsm.streams.info(name)).state.messages;
      await relay.cut();
      following.thaw();
      expect(atCut, 'the cut came after the whole backlog was published').toBeLessThan(ids.length);
      const lost = await exitWithin(following, EXIT_WITHIN_MS);
      expect([lost.code, lost.signal]).toEqual([1, null]);
      expect(lost.stdout).toBe(`publishing to ${relay.url} as the store grows; Ctrl-C to stop\n`);
      expect(lost.stderr).toMatch(lostLine(relay.url));
      const held = await idsIn(name);
      expect(placesIn(ids, held)).toStrictEqual(upTo(held.length));
      const checkpoint = checkpointOf(prefix);
      const covered = positions.filter((p) => p <= (checkpoint ?? 0)).length;
      expect(covered).toBeLessThanOrEqual(held.length);

      const again = await runCli(['publish', '--to', NATS_URL, '--subject-prefix', prefix, '--json'], {
        cwd: dir.path,
      });
      expect([again.code, again.stderr]).toEqual([0, '']);
      // From the checkpoint on, each sent again: JetStream knows the ones it holds by their ids.
      expect(JSON.parse(again.stdout)).toStrictEqual({
        server: shownUrl,
        checkpoint: `publish:${prefix}`,
        from: checkpoint ?? 0,
        to: head,
        published: ids.length - covered,
        duplicates: held.length - covered,
      });
      expect(placesIn(ids, await idsIn(name))).toStrictEqual(upTo(ids.length));
      expect(checkpointOf(prefix)).toBe(head);
    }, 120_000);

    it('given `publish --follow` through the relay, when the server restarts part-way through the backlog (its connections dropped, new ones taken), then it rides that out: the stream holds every sync event once, in store order, the checkpoint reaches the head, and SIGTERM ends it with 0', async () => {
      const { name, prefix } = await streams.fresh();
      const { ids, head } = await own();
      const relay = await relayed();
      const following = start(
        ['publish', '--to', relay.url, '--subject-prefix', prefix, '--follow'],
        dir.path,
      );
      await waitUntil(
        async () => (await streams.jsm.streams.info(name)).state.messages > 0,
        'it published an event',
        following,
      );
      // Held where it is, the server restarts: with events published and not acknowledged.
      following.freeze();
      const atDrop = (await streams.jsm.streams.info(name)).state.messages;
      relay.drop();
      following.thaw();
      expect(atDrop, 'the restart came after the whole backlog was published').toBeLessThan(ids.length);
      await waitUntil(() => checkpointOf(prefix) === head, 'its checkpoint reached the head', following);
      following.terminate();
      const ended = await exitWithin(following, EXIT_WITHIN_MS);
      expect([ended.code, ended.stderr]).toEqual([0, '']);
      expect(placesIn(ids, await idsIn(name))).toStrictEqual(upTo(ids.length));
    }, 120_000);

    it('given `publish --follow` through the relay with everything published, when the relay is cut while it waits for new events, then it exits 1 naming the server, the checkpoint and the stream as they were', async () => {
      const { name, prefix } = await streams.fresh();
      const { ids, head } = await own();
      const relay = await relayed();
      const following = start(
        ['publish', '--to', relay.url, '--subject-prefix', prefix, '--follow'],
        dir.path,
      );
      await waitUntil(() => checkpointOf(prefix) === head, 'its checkpoint reached the head', following);
      // Now it only polls the store: nothing it does would meet the server gone, so it must look.
      await relay.cut();
      const lost = await exitWithin(following, EXIT_WITHIN_MS);
      expect([lost.code, lost.signal]).toEqual([1, null]);
      expect(lost.stdout).toBe(`publishing to ${relay.url} as the store grows; Ctrl-C to stop\n`);
      expect(lost.stderr).toMatch(lostLine(relay.url));
      expect(checkpointOf(prefix)).toBe(head);
      expect(placesIn(ids, await idsIn(name))).toStrictEqual(upTo(ids.length));
      const again = await runCli(['publish', '--to', NATS_URL, '--subject-prefix', prefix, '--json'], {
        cwd: dir.path,
      });
      expect(JSON.parse(again.stdout)).toMatchObject({ from: head, to: head, published: 0 });
    }, 120_000);

    it('given the relay cut before it starts, when `publish --follow` runs through it, then it exits 1 straight away naming the server, and writes nothing to the store', async () => {
      const prefix = `synclinetest_gone_${process.pid}`;
      const relay = await relayed();
      await relay.cut();
      const rows = () =>
        onStore(dir, (db) => [
          db.prepare('SELECT count(*), max(position) FROM events').raw().get(),
          db.prepare('SELECT name, value FROM checkpoints ORDER BY name').raw().all(),
        ]);
      const before = rows();
      expect(before).toBeDefined();
      const gone = await exitWithin(
        start(['publish', '--to', relay.url, '--subject-prefix', prefix, '--follow'], dir.path),
        EXIT_WITHIN_MS,
      );
      expect([gone.code, gone.signal, gone.stdout, gone.stderr]).toEqual([
        1,
        null,
        '',
        `syncline: cannot reach NATS at ${relay.url}: connection refused\n`,
      ]);
      expect(checkpointOf(prefix)).toBeUndefined();
      expect(rows()).toStrictEqual(before);
    }, 60_000);
  });
});
