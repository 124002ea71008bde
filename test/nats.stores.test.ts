// Store independence (issue 25): both NATS directions, through the library, on every store (SQLite,
// PostgreSQL, KurrentDB, memory): events in through consumeEvents, syncline's own events out through
// publishEvents, with its checkpoint kept in the store; and a store that fails is called the store's
// failure, never NATS's. Each test makes its own store and stream and removes them.
import { randomUUID } from 'node:crypto';
import * as E from 'fp-ts/lib/Either.js';
import { describe, expect, it, onTestFinished } from 'vitest';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstream } from '@nats-io/jetstream';
import { natsServerOf, type NatsServer } from '../adapters/nats/connection.js';
import { consumeEvents, type ConsumeSettings } from '../adapters/nats/consume.js';
import { checkpointName, publishEvents, type PublishSettings } from '../adapters/nats/publish.js';
import { createMemoryRecords } from '../adapters/destinations/memory.js';
import { openMemoryEventStore } from '../adapters/stores/memory.js';
import { openStore } from '../adapters/stores/open.js';
import { streamOf } from '../domain/events.js';
import { v5 } from '../domain/ids.js';
import { applyConfig } from '../engine/input/configure.js';
import { StoreReadFailed, type EventStore, type StoredEvent } from '../engine/ports.js';
import { initialState } from '../engine/state/engineState.js';
import { syncDestination } from '../engine/sync/run.js';
import { startStandIn } from './kurrentdb/standIn.js';
import { noWait } from './support/engine.js';
import { created, destination } from './support/given.js';
import { tempDir } from './support/cli.js';
import { NATS_URL, natsAnswers, testStreams } from './support/nats.js';
import {
  POSTGRES_URL,
  freshSchema,
  onServer,
  postgresAnswers,
  postgresStoreUrl,
} from './support/postgres.js';
import { storeKinds } from './support/storeKinds.js';
import { tcpCut } from './support/tcpCut.js';

const SERVER: NatsServer = (() => {
  const s = natsServerOf(NATS_URL);
  if (E.isLeft(s)) throw new Error(s.left);
  return s.right;
})();

/** The store kinds of the CLI stories, and memory, the library's own. */
const kinds = [
  ...storeKinds.map((k) => ({ name: k.name, runs: k.runs, freshUrl: k.freshUrl })),
  { name: 'memory', runs: true, freshUrl: () => 'memory:' },
] as const;

type Kind = (typeof kinds)[number];

/** A store of the test's own; further handles on it are what another process would open. */
type Stores = {
  readonly store: EventStore;
  /** another handle on the same store (memory: the same one, it has no other) */
  readonly another: () => Promise<EventStore>;
};

/** A fresh store of `kind` for this test: closed, and its schema or directory removed, once it ends. */
const freshStore = async (kind: Kind): Promise<Stores> => {
  const url = kind.freshUrl();
  const dir = await tempDir();
  const handles: EventStore[] = [];
  onTestFinished(async () => {
    for (const h of handles) await h.close().catch(() => undefined);
    await dir.remove();
    const schema = url.startsWith('postgres') ? new URL(url).searchParams.get('schema') : null;
    // The KurrentDB streams are under a prefix of the test's own on the stand-in, gone when it stops.
    if (schema !== null) await onServer(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  });
  const open = async (mustExist: boolean): Promise<EventStore> => {
    const opened = await openStore(url, dir.path, { mustExist })();
    if (E.isLeft(opened)) throw new Error(opened.left.message);
    handles.push(opened.right);
    return opened.right;
  };
  const store = await open(false);
  return { store, another: () => (url === 'memory:' ? Promise.resolve(store) : open(true)) };
};

/** A NATS connection of the test's own (a publisher of its own), closed once the test ends. */
const ownConnection = async (): Promise<NatsConnection> => {
  const nc = await connect({ servers: SERVER.servers, timeout: 3000 });
  onTestFinished(() => nc.close());
  return nc;
};

/** A fresh JetStream stream taking `<prefix>.>`, deleted once the test ends. */
const freshStream = async () => {
  const streams = await testStreams();
  onTestFinished(() => streams.close());
  return { streams, ...(await streams.fresh()) };
};

const readAll = async (store: EventStore): Promise<StoredEvent[]> => {
  const out: StoredEvent[] = [];
  for await (const e of store.readAll()) out.push(e);
  return out;
};

const settingsFor = (name: string, prefix: string, batch: number): ConsumeSettings => ({
  stream: name,
  subject: `${prefix}.events`,
  durable: 'syncline',
  rejectSubject: `${prefix}.rejected`,
  batch,
  follow: false,
  checkDestination: () => [],
});

const publishingTo = (prefix: string, more: Partial<PublishSettings> = {}): PublishSettings => ({
  prefix,
  window: 4,
  follow: false,
  checkpointMs: 60_000,
  ...more,
});

/** Messages into the stream, each with its Nats-Msg-Id when given. */
const sendAll = async (
  nc: NatsConnection,
  subject: string,
  bodies: readonly { body: unknown; msgId?: string }[],
): Promise<void> => {
  const js = jetstream(nc);
  for (const { body, msgId } of bodies)
    await js.publish(
      subject,
      typeof body === 'string' ? body : JSON.stringify(body),
      msgId === undefined ? {} : { msgID: msgId },
    );
};

const profile = (profileId: string, id?: string) => ({
  ...(id === undefined ? {} : { id }),
  type: 'ProfileCreated',
  data: { profileId, properties: { email: `${profileId}@x.io` } },
});

/**
 * A store holding a run's events: 40 profiles synced to a memory destination in batches of 10 (a
 * run started, decided and applied batches, a run finished). Returns syncline's own events.
 */
const givenSynced = async (store: EventStore): Promise<StoredEvent[]> => {
  const config = destination({ mode: 'sync' });
  const state = initialState();
  const configured = await applyConfig(store, state, [config], false);
  if (E.isLeft(configured)) throw new Error(JSON.stringify(configured.left));
  for (let i = 0; i < 40; i++) {
    const e = created(`p${i}`, { email: `p${i}@x.io`, firstName: `P${i}` });
    const r = await store.append([{ stream: streamOf(e), events: [e], expected: 'any' }])();
    if (E.isLeft(r)) throw new Error(JSON.stringify(r.left));
  }
  const records = createMemoryRecords();
  const run = await syncDestination(store, state, config.destinationId, records.destination(config), {
    ...noWait,
    batchSize: 10,
  });
  if (E.isLeft(run)) throw new Error(JSON.stringify(run.left));
  expect(records.records()).toHaveLength(40);
  return (await readAll(store)).filter((e) => e.stream.startsWith('sync-'));
};

/** Every store, wrapped so that each handle's checkpoint read waits until all of them have read it. */
const readingTogether = (stores: readonly EventStore[]): EventStore[] => {
  let read = 0;
  let all: () => void = () => undefined;
  const together = new Promise<void>((resolve) => (all = resolve));
  return stores.map((s) => ({
    ...s,
    getCheckpoint: async (name) => {
      const value = await s.getCheckpoint(name);
      if (++read === stores.length) all();
      await together;
      return value;
    },
  }));
};

describe.skipIf(!natsAnswers)('NATS in and out, on every store', () => {
  for (const kind of kinds)
    describe.skipIf(!kind.runs)(`on the ${kind.name} store`, () => {
      it('given good messages, one redelivered under another Nats-Msg-Id in a later batch and a malformed one, when consumed, then the store holds each good event once, the bad one is on the reject subject, and every message is acknowledged; consumed again from the start, nothing more is stored', async () => {
        const { store } = await freshStore(kind);
        const { streams, name, prefix } = await freshStream();
        const ann = randomUUID();
        await sendAll(streams.nc, `${prefix}.events`, [
          { body: { type: 'GroupCreated', data: { groupId: 'vip', name: 'VIP' } }, msgId: 'g-1' },
          { body: profile('ann', ann), msgId: 'm-1' },
          // batch 2: the same event again, found through the store, not the batch
          { body: profile('ann', ann), msgId: 'm-1-again' },
          { body: 'not json {', msgId: 'bad-1' },
          // batch 3: no id of its own, nor a Nats-Msg-Id: named after the stream and its sequence
          { body: { type: 'ProfileJoinedGroup', data: { groupId: 'vip', profileId: 'ann' } } },
        ]);

        const first = await consumeEvents(
          store,
          initialState(),
          streams.nc,
          SERVER,
          settingsFor(name, prefix, 2),
        );

        expect(first).toStrictEqual(E.right({ received: 5, stored: 3, duplicates: 1, rejected: 1 }));
        expect((await readAll(store)).map((e) => [e.id, e.type])).toStrictEqual([
          [v5('message:g-1'), 'GroupCreated'],
          [ann, 'ProfileCreated'],
          [v5(`message:${name}:5`), 'ProfileJoinedGroup'],
        ]);
        const rejected = (await streams.messages(name)).filter((m) => m.subject === `${prefix}.rejected`);
        expect(
          rejected.map((m) => [
            m.string(),
            m.header.get('Syncline-Error'),
            m.header.get('Syncline-Sequence'),
          ]),
        ).toStrictEqual([['not json {', expect.stringMatching(/^not valid JSON/) as unknown, '4']]);
        const durable = await streams.jsm.consumers.info(name, 'syncline');
        expect([durable.num_pending, durable.num_ack_pending, durable.ack_floor.consumer_seq]).toEqual([
          0, 0, 5,
        ]);

        // Another durable reads the stream from its start, as a reader with a lost position would.
        const again = await consumeEvents(store, initialState(), streams.nc, SERVER, {
          ...settingsFor(name, prefix, 2),
          durable: 'from-the-start',
        });
        expect(again).toStrictEqual(E.right({ received: 5, stored: 0, duplicates: 4, rejected: 1 }));
        expect(await readAll(store)).toHaveLength(3);
      });

      it("given a run's events in the store, when published, then the stream holds each of syncline's events once in store order and the checkpoint is the store's; published again through another handle on the store, nothing is", async () => {
        const { store, another } = await freshStore(kind);
        const own = await givenSynced(store);
        const last = (await readAll(store)).at(-1)?.position;
        const { streams, name, prefix } = await freshStream();

        const first = await publishEvents(store, streams.nc, SERVER, publishingTo(prefix));

        expect(first).toStrictEqual(
          E.right({
            checkpoint: `publish:${prefix}`,
            from: 0,
            to: last,
            published: own.length,
            duplicates: 0,
          }),
        );
        const messages = await streams.messages(name);
        expect(messages.map((m) => [m.subject, m.header.get('Nats-Msg-Id')])).toStrictEqual(
          own.map((e) => [`${prefix}.crm.${e.type}`, e.id]),
        );
        expect(messages[0]?.json()).toStrictEqual({
          id: own[0]?.id,
          stream: 'sync-crm',
          position: own[0]?.position,
          type: 'RunStarted',
          data: own[0]?.data,
        });
        const other = await another();
        expect(await other.getCheckpoint(checkpointName({ prefix }))).toBe(last);

        const second = await publishEvents(other, streams.nc, SERVER, publishingTo(prefix));

        expect(second).toStrictEqual(
          E.right({ checkpoint: `publish:${prefix}`, from: last, to: last, published: 0, duplicates: 0 }),
        );
        expect((await streams.jsm.streams.info(name)).state.messages).toBe(own.length);
      });

      it('given two publishers that both read the checkpoint before either saves, when they publish, then one advances it and the other stops with CheckpointMoved, and the stream holds each event once in store order', async () => {
        const { store, another } = await freshStore(kind);
        const own = await givenSynced(store);
        const last = (await readAll(store)).at(-1)?.position;
        const { streams, name, prefix } = await freshStream();
        const [a, b] = readingTogether([store, await another()]) as [EventStore, EventStore];
        // A checkpoint saved after every event: as many compare-and-sets to race as there are events.
        const settings = publishingTo(prefix, { checkpointMs: 0 });

        const results = await Promise.all([
          publishEvents(a, streams.nc, SERVER, settings),
          publishEvents(b, await ownConnection(), SERVER, settings),
        ]);

        const [won, lost] = E.isRight(results[0]) ? results : [results[1], results[0]];
        expect(won).toStrictEqual(
          E.right({
            checkpoint: `publish:${prefix}`,
            from: 0,
            to: last,
            published: own.length,
            duplicates: expect.any(Number) as unknown,
          }),
        );
        expect(lost).toStrictEqual(
          E.left({
            _tag: 'CheckpointMoved',
            message: expect.stringMatching(
              new RegExp(
                `^another publisher moved the checkpoint publish:${prefix} \\(to \\d+, from nothing\\)`,
              ),
            ) as unknown,
          }),
        );
        expect(await store.getCheckpoint(`publish:${prefix}`)).toBe(last);
        expect((await streams.messages(name)).map((m) => m.header.get('Nats-Msg-Id'))).toStrictEqual(
          own.map((e) => e.id),
        );
      });

      it('given two publishers started at once, when they publish, then exactly one advances the checkpoint, the other stops with CheckpointMoved or publishes nothing, and the stream holds each event once in store order', async () => {
        const { store, another } = await freshStore(kind);
        const own = await givenSynced(store);
        const last = (await readAll(store)).at(-1)?.position;
        const { streams, name, prefix } = await freshStream();
        const settings = publishingTo(prefix, { checkpointMs: 0 });

        const results = await Promise.all([
          publishEvents(store, streams.nc, SERVER, settings),
          publishEvents(await another(), await ownConnection(), SERVER, settings),
        ]);

        // Either the other was stopped by the checkpoint the first moved, or it read the checkpoint
        // once the first had finished, and found nothing to publish.
        const outcome = (r: (typeof results)[number]): string =>
          E.isLeft(r)
            ? r.left._tag
            : r.right.published === 0 && r.right.from === r.right.to
              ? 'nothing new'
              : 'published';
        expect([
          ['CheckpointMoved', 'published'],
          ['nothing new', 'published'],
        ]).toContainEqual(results.map(outcome).sort());
        expect(await store.getCheckpoint(`publish:${prefix}`)).toBe(last);
        expect((await streams.messages(name)).map((m) => m.header.get('Nats-Msg-Id'))).toStrictEqual(
          own.map((e) => e.id),
        );
      });

      it("given the store closed under them, when consumed and when published, then each fails as the store's failure in its own words, not NATS's, and no message is acknowledged", async () => {
        const { store } = await freshStore(kind);
        const { streams, name, prefix } = await freshStream();
        await sendAll(streams.nc, `${prefix}.events`, [{ body: profile('ann', randomUUID()) }]);
        await store.close();

        await bothFailAsTheStore(store, { streams, name, prefix }, /^the (\w+ )?store is closed$/);
        expect((await streams.jsm.streams.info(name)).state.messages).toBe(1);
      });
    });
});

/** `text` as a regular expression matching only itself. */
const escaped = (text: string): string => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/**
 * When a store that has failed is consumed into and published from, then each direction fails in
 * the store's words (`said`), neither as NATS's failure, and the message read is not acknowledged.
 */
const bothFailAsTheStore = async (
  store: EventStore,
  { streams, name, prefix }: Awaited<ReturnType<typeof freshStream>>,
  said: RegExp,
): Promise<void> => {
  const consumed = await consumeEvents(
    store,
    initialState(),
    streams.nc,
    SERVER,
    settingsFor(name, prefix, 10),
  );
  const published = await publishEvents(store, streams.nc, SERVER, publishingTo(prefix));
  expect(consumed).toStrictEqual(
    E.left({ _tag: 'StoreFailed', message: expect.stringMatching(said) as unknown }),
  );
  expect(published).toStrictEqual(
    E.left({
      _tag: 'PublishStoreFailed',
      message: expect.stringMatching(
        new RegExp(`^the store could not be read: ${said.source.replace(/^\^/, '')}`),
      ) as unknown,
    }),
  );
  const durable = await streams.jsm.consumers.info(name, 'syncline');
  expect([durable.num_ack_pending, durable.ack_floor.consumer_seq]).toEqual([1, 0]);
};

/** A memory store of the test's own, one of its reads or writes failing as a store fails (see StoreReadFailed). */
const failing = (fault: 'readAll' | 'readByIds' | 'append' | 'getCheckpoint' | 'head'): EventStore => {
  const store = openMemoryEventStore();
  onTestFinished(() => store.close());
  const failure = { _tag: 'StoreUnavailable', message: 'the disk under the store went away' } as const;
  switch (fault) {
    case 'readAll':
      return {
        ...store,
        // ends before its first event, as a read of a store that went away does
        readAll: () => ({
          [Symbol.asyncIterator]: () => ({ next: () => Promise.reject(new StoreReadFailed(failure)) }),
        }),
      };
    case 'readByIds':
      return { ...store, readByIds: () => Promise.reject(new StoreReadFailed(failure)) };
    case 'append':
      return { ...store, append: () => () => Promise.resolve(E.left(failure)) };
    case 'getCheckpoint':
      return { ...store, getCheckpoint: () => Promise.reject(new StoreReadFailed(failure)) };
    case 'head': {
      // answers the first time (a publisher's first pass), then fails
      let asked = 0;
      return {
        ...store,
        head: () => (asked++ === 0 ? store.head() : Promise.reject(new StoreReadFailed(failure))),
      };
    }
  }
};

describe.skipIf(!natsAnswers)("a store's failure is the store's, not NATS's", () => {
  for (const [fault, when] of [
    ['readAll', 'its reads fail as it catches up'],
    ['readByIds', 'its lookup of the ids already stored fails'],
    ['append', 'it refuses the append'],
  ] as const)
    it(`given a store where ${when}, when consumed, then it fails with StoreFailed in the store's words, and no message is acknowledged or set aside`, async () => {
      const store = failing(fault);
      const { streams, name, prefix } = await freshStream();
      await sendAll(streams.nc, `${prefix}.events`, [
        { body: profile('ann', randomUUID()) },
        { body: 'not json {' },
      ]);

      const consumed = await consumeEvents(
        store,
        initialState(),
        streams.nc,
        SERVER,
        settingsFor(name, prefix, 10),
      );

      expect(consumed).toStrictEqual(
        E.left({ _tag: 'StoreFailed', message: 'the disk under the store went away' }),
      );
      const durable = await streams.jsm.consumers.info(name, 'syncline');
      expect([durable.num_ack_pending, durable.ack_floor.consumer_seq]).toEqual([2, 0]);
      expect((await streams.jsm.streams.info(name)).state.messages).toBe(2);
    });

  it('given a store that throws what the port does not allow (a bug, not StoreReadFailed), when consumed, then that error comes out as it is, not as NATS unreachable', async () => {
    const store = {
      ...failing('append'),
      readByIds: () => Promise.reject(new TypeError('a bug in the store')),
    };
    const { streams, name, prefix } = await freshStream();
    await sendAll(streams.nc, `${prefix}.events`, [{ body: profile('ann', randomUUID()) }]);

    await expect(
      consumeEvents(store, initialState(), streams.nc, SERVER, settingsFor(name, prefix, 10)),
    ).rejects.toThrow(new TypeError('a bug in the store'));
  });

  for (const [fault, when] of [
    ['getCheckpoint', 'its checkpoint cannot be read'],
    ['readAll', 'its events cannot be read'],
  ] as const)
    it(`given a store where ${when}, when published, then it fails with PublishStoreFailed in the store's words, and nothing is published`, async () => {
      const store = failing(fault);
      const { streams, name, prefix } = await freshStream();

      const published = await publishEvents(store, streams.nc, SERVER, publishingTo(prefix));

      expect(published).toStrictEqual(
        E.left({
          _tag: 'PublishStoreFailed',
          message: 'the store could not be read: the disk under the store went away',
        }),
      );
      expect((await streams.jsm.streams.info(name)).state.messages).toBe(0);
    });

  it("given a follower whose store's head cannot be read once it has published what there was, then it fails with PublishStoreFailed in the store's words, its checkpoint saved where it got to", async () => {
    const store = failing('head');
    const own = await givenSynced(store);
    const { streams, name, prefix } = await freshStream();

    const published = await publishEvents(store, streams.nc, SERVER, publishingTo(prefix, { follow: true }));

    expect(published).toStrictEqual(
      E.left({
        _tag: 'PublishStoreFailed',
        message: 'the store could not be read: the disk under the store went away',
      }),
    );
    expect((await streams.jsm.streams.info(name)).state.messages).toBe(own.length);
    expect(await store.getCheckpoint(`publish:${prefix}`)).toBe((await readAll(store)).at(-1)?.position);
  });

  it.skipIf(!postgresAnswers)(
    'given a PostgreSQL store whose server goes away, when consumed and when published, then each fails naming the store and its server, not NATS',
    async () => {
      const server = new URL(POSTGRES_URL);
      const relay = await tcpCut(server.hostname, Number(server.port || '5432'));
      onTestFinished(relay.cut);
      const schema = freshSchema();
      onTestFinished(() => onServer(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).then(() => undefined));
      const through = new URL(POSTGRES_URL);
      through.hostname = '127.0.0.1';
      through.port = String(relay.port);
      const opened = await openStore(postgresStoreUrl(schema, through.toString()))();
      if (E.isLeft(opened)) throw new Error(opened.left.message);
      const store = opened.right;
      onTestFinished(() => store.close());
      const { streams, name, prefix } = await freshStream();
      await sendAll(streams.nc, `${prefix}.events`, [{ body: profile('ann', randomUUID()) }]);
      await relay.cut();

      const shown = `postgres://${through.username}@127.0.0.1:${relay.port}${through.pathname}`;
      await bothFailAsTheStore(
        store,
        { streams, name, prefix },
        new RegExp(`^cannot reach the store at ${escaped(shown)}`),
      );
    },
  );

  it('given a KurrentDB store whose server goes away, when consumed and when published, then each fails naming the store and its server, not NATS', async () => {
    const standIn = await startStandIn();
    onTestFinished(() => standIn.close());
    const opened = await openStore(`${standIn.url}&discoveryInterval=10&prefix=gone-`)();
    if (E.isLeft(opened)) throw new Error(opened.left.message);
    const store = opened.right;
    onTestFinished(() => store.close());
    const { streams, name, prefix } = await freshStream();
    await sendAll(streams.nc, `${prefix}.events`, [{ body: profile('ann', randomUUID()) }]);
    await standIn.close();

    await bothFailAsTheStore(
      store,
      { streams, name, prefix },
      /^cannot reach the store at kurrentdb:\/\/127\.0\.0\.1:\d+/,
    );
  });
});
