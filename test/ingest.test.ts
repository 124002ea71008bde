// ingest appends exactly what it checked: a file that changes between the check and the append
// stores nothing, and bytes that are not UTF-8 are refused by line, never stored replaced.
import * as E from 'fp-ts/lib/Either.js';
import { describe, expect, it } from 'vitest';
import { openMemoryStore } from '../adapters/stores/memory.js';
import { openSqliteStore } from '../adapters/stores/sqlite.js';
import { ingest, type IngestOptions } from '../engine/ingest.js';
import type { EventStore } from '../engine/ports.js';
import { initialState } from '../engine/state.js';
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
  ['memory', openMemoryStore],
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
      expect((await storedData(store)).map((d) => (d as { profileId: string }).profileId)).toEqual([
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
