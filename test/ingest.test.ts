// ingest appends exactly what it checked: a file that changes between the check and the append
// stores nothing, bytes that are not UTF-8 are refused by line, and an id is one event only.
import * as E from 'fp-ts/lib/Either.js';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { openMemoryEventStore } from '../adapters/stores/memory.js';
import { openSqliteStore } from '../adapters/stores/sqlite/store.js';
import { ingest, type IngestOptions } from '../engine/input/ingest.js';
import type { EventStore } from '../engine/ports.js';
import { initialState } from '../engine/state/engineState.js';
import { collect } from './contract/eventStoreHelpers.js';

const created = (id: string, email = `${id}@x.io`) =>
  JSON.stringify({ type: 'ProfileCreated', data: { profileId: id, properties: { email } } });
const poison = JSON.stringify({
  type: 'ProfilePropertiesChanged',
  data: { profileId: 'p1', set: 'notanobject', unset: 5 },
});

const options = (keepInMemory: number): IngestOptions => ({
  checkDestination: () => [],
  maxProblems: 20,
  chunkSize: 2,
  keepInMemory,
});

/** A file whose reading number k (0: the check, 1: the append) gives `versions[k]`, a megabyte-sized piece at a time. */
const changing = (...versions: string[]) => {
  let opened = 0;
  const open = async function* (): AsyncGenerator<Uint8Array> {
    const text = versions[Math.min(opened++, versions.length - 1)] as string;
    const bytes = Buffer.from(text);
    for (let i = 0; i < bytes.length; i += 7) {
      await Promise.resolve();
      yield bytes.subarray(i, i + 7);
    }
  };
  return { open, opened: () => opened };
};

const stores: [string, () => EventStore][] = [
  ['memory', openMemoryEventStore],
  [
    'sqlite',
    () => {
      const r = openSqliteStore(':memory:');
      if (E.isLeft(r)) throw new Error(r.left.message);
      return r.right;
    },
  ],
];

const lines = (...ls: string[]) => `${ls.join('\n')}\n`;
const checked = lines(created('p1'), created('p2'), created('p3'), created('p4'), created('p5'));

describe.each(stores)('ingesting into a %s store', (_, openStore) => {
  const storedData = async (store: EventStore) => (await collect(store.readAll())).map((e) => e.data);

  describe('given a file larger than ingest keeps in memory (read twice)', () => {
    it.each([
      ['a bad line appended', `${checked}${poison}\n`],
      ['a line altered', checked.replace('p3@x.io', 'p3@evil.io')],
      [
        'a line inserted in the middle',
        checked.replace(`${created('p2')}\n`, `${created('p2')}\n${poison}\n`),
      ],
      ['its last lines removed', lines(created('p1'), created('p2'), created('p3'))],
      ['an empty line appended', `${checked}\n`],
    ])(
      'when it has %s between the check and the append, then nothing is stored and it says the file changed',
      async (_, later) => {
        const store = openStore();
        const file = changing(checked, later);
        const r = await ingest(store, initialState(), file.open, options(2));
        expect(r).toStrictEqual(E.left({ _tag: 'FileChanged' }));
        expect(file.opened()).toBe(2);
        expect(await store.head()).toBe(0);
        await store.close();
      },
    );

    it('when it is the same at both readings, then every event is stored once, in order', async () => {
      const store = openStore();
      const file = changing(checked, checked);
      expect(await ingest(store, initialState(), file.open, options(2))).toStrictEqual(
        E.right({ lines: 5, appended: 5, duplicates: 0 }),
      );
      expect(file.opened()).toBe(2);
      expect((await storedData(store)).map((d) => (d as { profileId: string }).profileId)).toStrictEqual([
        'p1',
        'p2',
        'p3',
        'p4',
        'p5',
      ]);
      await store.close();
    });
  });

  it('given a file ingest keeps in memory, when it changes after the check, then it is read once and what was checked is stored', async () => {
    const store = openStore();
    const file = changing(checked, `${checked}${poison}\n`);
    expect(await ingest(store, initialState(), file.open, options(100))).toStrictEqual(
      E.right({ lines: 5, appended: 5, duplicates: 0 }),
    );
    expect(file.opened()).toBe(1);
    expect(await store.head()).toBe(5);
    await store.close();
  });

  it('given an email with a Latin-1 é on line 2, when ingested, then the line is named and nothing is stored', async () => {
    const store = openStore();
    const [before, after] = created('p2', 'caf#@x.io').split('#') as [string, string];
    const bytes = Buffer.concat([
      Buffer.from(`${created('p1')}\n${before}`),
      Buffer.from([0xe9]),
      Buffer.from(`${after}\n`),
    ]);
    const r = await ingest(
      store,
      initialState(),
      async function* () {
        await Promise.resolve();
        yield bytes;
      },
      options(100),
    );
    expect(r).toStrictEqual(
      E.left({
        _tag: 'Rejected',
        problems: [`line 2: not valid UTF-8 (at byte ${before.length + 1} of the line: 0xE9)`],
        more: false,
      }),
    );
    expect(await store.head()).toBe(0);
    await store.close();
  });
});

describe('a line whose id is already used', () => {
  const ID = '3f2a8c1e-1d4b-4c5a-9e7f-0a1b2c3d4e5f';
  const withId = (event: Record<string, unknown>) => JSON.stringify({ id: ID, ...event });
  const created1 = {
    type: 'ProfileCreated',
    data: { profileId: 'p1', properties: { email: 'a@x.io', n: 1 } },
  };
  /** The same event, its keys in another order. */
  const reordered = {
    data: { properties: { n: 1, email: 'a@x.io' }, profileId: 'p1' },
    type: 'ProfileCreated',
  };
  const bytesOf =
    (...ls: string[]) =>
    () =>
      Readable.from([Buffer.from(lines(...ls))]);
  const run = (store: EventStore, ...ls: string[]) =>
    ingest(store, initialState(), bytesOf(...ls), options(100));

  /** A store holding the event with ID, ingested at 2024-01-01 noon. */
  const storing = async () => {
    const store = openMemoryEventStore();
    const first = await run(store, withId({ ...created1, occurredAt: '2024-01-01T12:00:00Z' }));
    expect(first).toStrictEqual(E.right({ lines: 1, appended: 1, duplicates: 0 }));
    return store;
  };

  it.each([
    ['the same type and data, keys in another order, and no time', withId(reordered)],
    ['the same time written another way', withId({ ...reordered, occurredAt: '2024-01-01T13:00:00+01:00' })],
  ])(
    'given it is stored, when a line has %s, then it is the same event: left out and counted',
    async (_, line) => {
      const store = await storing();
      expect(await run(store, line)).toStrictEqual(E.right({ lines: 1, appended: 0, duplicates: 1 }));
      expect(await store.head()).toBe(1);
    },
  );

  it.each([
    [
      'another type',
      withId({ type: 'ProfileDeleted', data: { profileId: 'p1' } }),
      'its type is ProfileCreated',
    ],
    [
      'other data',
      withId({ ...created1, data: { profileId: 'p1', properties: { email: 'b@x.io', n: 1 } } }),
      'its data differs',
    ],
    [
      'another time',
      withId({ ...created1, occurredAt: '2024-01-02T12:00:00Z' }),
      'it occurred at 2024-01-01T12:00:00Z',
    ],
  ])(
    'given it is stored, when a line has %s, then the line and the id are named and nothing is stored',
    async (_, line, why) => {
      const store = await storing();
      expect(await run(store, created('p2'), line)).toStrictEqual(
        E.left({
          _tag: 'Rejected',
          problems: [`line 2: id: ${ID} is already stored for a different event at position 1 (${why})`],
          more: false,
        }),
      );
      expect(await store.head()).toBe(1);
    },
  );

  it('given an earlier line of the file used it for the same event, then the later one is left out and counted', async () => {
    const store = openMemoryEventStore();
    expect(await run(store, withId(created1), created('p2'), withId(reordered))).toStrictEqual(
      E.right({ lines: 3, appended: 2, duplicates: 1 }),
    );
  });

  it.each([
    ['other data', withId({ ...created1, data: { profileId: 'p1', properties: {} } }), 'its data differs'],
    [
      'a time the earlier line does not give',
      withId({ ...created1, occurredAt: '2024-01-01' }),
      'it occurred at the time of this ingest',
    ],
  ])(
    'given an earlier line of the file used it, when a later line has %s, then both lines are named and nothing is stored',
    async (_, line, why) => {
      const store = openMemoryEventStore();
      expect(await run(store, withId(created1), created('p2'), line)).toStrictEqual(
        E.left({
          _tag: 'Rejected',
          problems: [`line 3: id: ${ID} is already used by line 1 for a different event (${why})`],
          more: false,
        }),
      );
      expect(await store.head()).toBe(0);
    },
  );
});

describe('a value nested deeper than JSON.stringify reaches', () => {
  const deep = (n: number): string => `${'['.repeat(n)}1${']'.repeat(n)}`;
  const destination = (options: string) =>
    `{"type":"DestinationConfigured","data":{"destinationId":"d","type":"memory","collection":{"kind":"all"},` +
    `"keyField":"email","mapping":{"email":"email"},"options":${options}}}`;

  it.each([
    [
      'as an id',
      `{"type":"ProfileDeleted","data":{"profileId":${deep(100_000)}}}`,
      'data.profileId: an array nested too deeply to show is not a string',
    ],
    [
      'as the type',
      `{"type":${deep(100_000)},"data":{}}`,
      'type: an array nested too deeply to show is not one of ProfileCreated, ProfilePropertiesChanged, ProfileDeleted, GroupCreated, GroupDeleted, ProfileJoinedGroup, ProfileLeftGroup, DestinationConfigured, DestinationRemoved',
    ],
    [
      'in a destination option',
      destination(`{"x":${deep(100_000)}}`),
      'data.options.x: nests deeper than 32 levels',
    ],
    [
      'in a destination option, 33 levels down',
      destination(`{"x":${deep(33)}}`),
      'data.options.x: nests deeper than 32 levels',
    ],
  ])(
    'given one %s, when ingested, then the line is refused saying so, and nothing is stored',
    async (_, line, problem) => {
      const store = openMemoryEventStore();
      const r = await ingest(
        store,
        initialState(),
        () => Readable.from([Buffer.from(`${line}\n`)]),
        options(100),
      );
      expect(r).toStrictEqual(E.left({ _tag: 'Rejected', problems: [`line 1: ${problem}`], more: false }));
      expect(await store.head()).toBe(0);
    },
  );
});
