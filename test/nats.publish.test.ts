// `syncline publish` against the real NATS JetStream server: given a store with runs, when published,
// then each of syncline's events is in the stream once, in store order, whatever killed a publisher.
import * as E from 'fp-ts/lib/Either.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { population } from '../adapters/demo/people.js';
import { openSqliteStore } from '../adapters/stores/sqlite/store.js';
import { natsServerOf, subjectToken } from '../adapters/nats/connection.js';
import type { EventStore, StoredEvent } from '../engine/ports.js';
import { publishEvents } from '../adapters/nats/publish.js';
import {
  createWorld,
  launch,
  removeWorld,
  syncToEnd,
  type Exit,
  type FaultWorld,
} from './support/faultWorld.js';
import { NATS_URL, natsAnswers, testStreams, type TestStreams } from './support/nats.js';

/** syncline's own events in the world's store, in store order. */
const ownEvents = async (w: FaultWorld): Promise<StoredEvent[]> => {
  const opened = openSqliteStore(w.storePath);
  if (E.isLeft(opened)) throw new Error(opened.left.message);
  const out: StoredEvent[] = [];
  try {
    for await (const e of opened.right.readAll()) if (e.stream.startsWith('sync-')) out.push(e);
  } finally {
    await opened.right.close();
  }
  return out;
};

const publish = (w: FaultWorld, ...args: string[]): Promise<Exit> =>
  launch(w, ['publish', '--to', NATS_URL, ...args]).exit;

describe.skipIf(!natsAnswers)('syncline publish', () => {
  let streams: TestStreams;
  let w: FaultWorld;
  beforeAll(async () => {
    streams = await testStreams();
    w = await createWorld([...population(400, 11)], 'all');
    // Small batches: many decided and applied batches to publish.
    await syncToEnd(w, ['--batch-size', '10']);
  }, 60_000);
  afterAll(async () => {
    await removeWorld(w);
    await streams.close();
  });

  it('given a store with a run, when published, then the stream holds each of its events once in store order, under <prefix>.<destination>.<type>, with its id as Nats-Msg-Id; published again, nothing', async () => {
    const { name, prefix } = await streams.fresh();
    const own = await ownEvents(w);
    const first = await publish(w, '--subject-prefix', prefix, '--json');
    expect([first.code, first.stderr]).toEqual([0, '']);
    const head = own.at(-1)?.position ?? 0;
    expect(JSON.parse(first.stdout)).toStrictEqual({
      server: 'nats://127.0.0.1:4222',
      checkpoint: `publish:${prefix}`,
      from: 0,
      to: expect.any(Number) as unknown,
      published: own.length,
      duplicates: 0,
    });
    expect((JSON.parse(first.stdout) as { to: number }).to).toBeGreaterThanOrEqual(head);
    const messages = await streams.messages(name);
    expect(messages.map((m) => [m.subject, m.header.get('Nats-Msg-Id')])).toStrictEqual(
      own.map((e) => [`${prefix}.warehouse.${e.type}`, e.id]),
    );
    expect(messages[0]?.json()).toStrictEqual({
      id: own[0]?.id,
      stream: 'sync-warehouse',
      position: own[0]?.position,
      type: 'RunStarted',
      data: own[0]?.data,
    });
    const again = await publish(w, '--subject-prefix', prefix);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(
      /^nothing to publish to nats:\/\/127\.0\.0\.1:4222: the store is published up to position \d+ \(checkpoint publish:synclinetest_\w+\)\n$/,
    );
    expect((await streams.jsm.streams.info(name)).state.messages).toBe(own.length);
  });

  it('given a publisher killed with SIGKILL while it follows a sync, when publish runs again, then the stream holds every event once, in store order', async () => {
    const { name, prefix } = await streams.fresh();
    const following = launch(w, ['publish', '--to', NATS_URL, '--subject-prefix', prefix, '--follow']);
    // A sync of everyone again while it follows: a run decided and applied in batches of 10.
    const syncing = syncToEnd(w, ['--full', '--batch-size', '10']);
    for (let i = 0; i < 200 && (await streams.jsm.streams.info(name)).state.messages < 50; i++)
      await new Promise((resolve) => setTimeout(resolve, 10));
    following.kill();
    expect((await following.exit).signal).toBe('SIGKILL');
    await syncing;
    const rest = await publish(w, '--subject-prefix', prefix);
    expect(rest.code).toBe(0);
    const own = await ownEvents(w);
    const ids = (await streams.messages(name)).map((m) => m.header.get('Nats-Msg-Id'));
    expect(ids).toStrictEqual(own.map((e) => e.id));
  }, 60_000);

  it('given --destination, then only that destination is published, under a checkpoint of its own', async () => {
    const { name, prefix } = await streams.fresh();
    const other = await publish(w, '--subject-prefix', prefix, '--destination', 'nobody', '--json');
    expect(JSON.parse(other.stdout)).toMatchObject({ checkpoint: `publish:${prefix}:nobody`, published: 0 });
    const own = await publish(w, '--subject-prefix', prefix, '--destination', 'warehouse', '--json');
    expect(JSON.parse(own.stdout)).toMatchObject({
      checkpoint: `publish:${prefix}:warehouse`,
      duplicates: 0,
    });
    expect((await streams.jsm.streams.info(name)).state.messages).toBe((await ownEvents(w)).length);
  });

  it('given another publisher that moved the checkpoint meanwhile, when this one saves, then it stops saying so and leaves the checkpoint as the other set it', async () => {
    const { prefix } = await streams.fresh();
    const opened = openSqliteStore(w.storePath);
    if (E.isLeft(opened)) throw new Error(opened.left.message);
    const store = opened.right;
    const name = `publish:${prefix}`;
    // The other publisher gets there first: between this one's read of the checkpoint and its save.
    const racing: EventStore = {
      ...store,
      setCheckpoint: (n, expected, value) => async () => {
        await store.setCheckpoint(n, expected, 3)();
        return store.setCheckpoint(n, expected, value)();
      },
    };
    const server = natsServerOf(NATS_URL);
    if (E.isLeft(server)) throw new Error(server.left);
    const r = await publishEvents(racing, streams.nc, server.right, {
      prefix,
      window: 16,
      follow: false,
      checkpointMs: 60_000,
    });
    expect(r).toStrictEqual(
      E.left({
        _tag: 'CheckpointMoved',
        message: `another publisher moved the checkpoint ${name} (to 3, from nothing): stopped, leaving the rest to it`,
      }),
    );
    expect(await store.getCheckpoint(name)).toBe(3);
    await store.close();
  });

  it('given no server there, when published, then it fails naming the URL, and no checkpoint is kept', async () => {
    const down = await publish(w, '--to', 'nats://127.0.0.1:4299', '--subject-prefix', 'nowhere');
    expect([down.code, down.stdout, down.stderr]).toEqual([
      1,
      '',
      'syncline: cannot reach NATS at nats://127.0.0.1:4299: connection refused\n',
    ]);
    const opened = openSqliteStore(w.storePath);
    if (E.isLeft(opened)) throw new Error(opened.left.message);
    expect(await opened.right.getCheckpoint('publish:nowhere')).toBeNull();
    await opened.right.close();
  });

  it('given no stream taking the prefix, when published, then it says so and how to make one', async () => {
    const none = await publish(w, '--subject-prefix', 'synclinetest_nostream');
    expect([none.code, none.stderr]).toEqual([
      1,
      `syncline: no JetStream stream at nats://127.0.0.1:4222 takes the subjects synclinetest_nostream.> (create one, e.g. nats stream add SYNCLINE --subjects 'synclinetest_nostream.>')\n`,
    ]);
  });

  it('given a bad URL or prefix, when published, then it is a usage error', async () => {
    expect((await publish(w, '--to', 'http://x', '--subject-prefix', 'a')).code).toBe(2);
    expect((await publish(w, '--subject-prefix', 'a.*')).code).toBe(2);
  });
});

describe('NATS names', () => {
  it('given a nats URL, then the client gets host and port, with 4222 by default, and messages never a password', () => {
    expect(natsServerOf('nats://127.0.0.1')).toStrictEqual(
      E.right({ servers: '127.0.0.1:4222', shown: 'nats://127.0.0.1:4222' }),
    );
    expect(natsServerOf('nats://u:p%40ss@h:1')).toStrictEqual(
      E.right({ servers: 'h:1', shown: 'nats://h:1', user: 'u', pass: 'p@ss' }),
    );
    expect(E.isLeft(natsServerOf('http://h:1'))).toBe(true);
  });

  it('given a destination id with dots, stars or spaces, then its subject token keeps it one token, apart from every other id', () => {
    expect(subjectToken('crm-eu_1')).toBe('crm-eu_1');
    expect(subjectToken('a.b')).toBe('a%2Eb');
    expect(subjectToken('a b*>')).toBe('a%20b%2A%3E');
    expect(subjectToken('é')).toBe('%C3%A9');
    expect(subjectToken('a%2Eb')).not.toBe(subjectToken('a.b'));
  });
});
