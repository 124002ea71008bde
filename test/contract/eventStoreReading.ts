// The reading half of the EventStore contract: readAll, readStream, subscribe, head, knownIds, readByIds.
// Registered by eventStoreContract inside its describe, against the store of the running test.
import { describe, expect, it, vi } from 'vitest';
import type { EventStore, StoredEvent } from '../../engine/ports.js';
import { appended, collect, positionsAt, success, within, type StoreTraits } from './eventStoreHelpers.js';

export const readingSpecs = (current: () => EventStore, traits: StoreTraits): void => {
  const at = positionsAt(traits);
  const nth = async (store: EventStore, n: number): Promise<number> => (await at(store, n))[0] as number;
  describe('reading all', () => {
    it('given five events, when reading all after position 2, then only positions 3 to 5 come back, in order', async () => {
      const store = current();
      await appended(store, 'a', 3);
      await appended(store, 'b', 2);
      expect((await collect(store.readAll(await nth(store, 2)))).map((e) => e.position)).toEqual(
        await at(store, 3, 4, 5),
      );
      expect(await collect(store.readAll(await nth(store, 5)))).toEqual([]);
    });

    it('given more events than one page, when reading with small batch sizes, then every event comes exactly once, in order', async () => {
      const store = current();
      await appended(store, 'a', 12);
      await appended(store, 'b', 13);
      const everything = await collect(store.readAll());
      expect(everything.map((e) => e.position)).toEqual(
        await at(store, ...Array.from({ length: 25 }, (_, i) => i + 1)),
      );
      const seventh = await nth(store, 7);
      // 5 divides 25 exactly, so the last page is full and the reader must ask once more to see the end.
      for (const batchSize of [1, 3, 5, 24, 25, 26]) {
        expect(await collect(store.readAll(0, batchSize))).toEqual(everything);
        expect(await collect(store.readAll(seventh, batchSize))).toEqual(everything.slice(7));
      }
    });

    it('given streams whose names start alike, when reading all leaving out a prefix, then only the other streams come back, in order, whatever the page size', async () => {
      const store = current();
      // 'Sync-a' and 'sync_a' differ from the prefix only in case or in a LIKE wildcard
      for (const stream of ['sync-a', 'input-1', 'sync-b', 'Sync-a', 'sync_a', 'sync-a', 'input-2'])
        await appended(store, stream, 2);
      const kept = (await collect(store.readAll())).filter((e) => !e.stream.startsWith('sync-'));
      expect(kept.map((e) => e.stream)).toEqual([
        'input-1',
        'input-1',
        'Sync-a',
        'Sync-a',
        'sync_a',
        'sync_a',
        'input-2',
        'input-2',
      ]);
      const fourth = await nth(store, 4);
      for (const batchSize of [1, 3, 8, 100]) {
        expect(await collect(store.readAll(0, batchSize, 'sync-'))).toEqual(kept);
        expect(await collect(store.readAll(fourth, batchSize, 'sync-'))).toEqual(
          kept.filter((e) => e.position > fourth),
        );
      }
      // every name starts with the empty prefix
      expect(await collect(store.readAll(0, undefined, ''))).toEqual([]);
    });
  });

  describe('reading a stream', () => {
    it('given interleaved streams, when reading one from revision 2, then only its events from revision 2 come back, in order', async () => {
      const store = current();
      for (let i = 0; i < 4; i += 1) {
        await appended(store, 'profile-p', 1);
        await appended(store, 'profile-q', 1);
      }
      const read = await collect(store.readStream('profile-p', 2));
      const [fifth, seventh] = await at(store, 5, 7);
      expect(read.map((e) => [e.stream, e.revision, e.position])).toEqual([
        ['profile-p', 2, fifth],
        ['profile-p', 3, seventh],
      ]);
      expect(await collect(store.readStream('profile-p', 4))).toEqual([]);
      expect(await collect(store.readStream('nobody'))).toEqual([]);
    });

    it('given a stream longer than a read page, when reading it, then every revision comes exactly once', async () => {
      const store = current();
      await appended(store, 'long', 2500);
      const revisions = (await collect(store.readStream('long', 1200))).map((e) => e.revision);
      expect(revisions).toEqual(Array.from({ length: 1300 }, (_, i) => i + 1200));
    });
  });

  describe('subscribing', () => {
    it('given a stored event, when subscribing from 0 and appending two more, then all three arrive in order and the subscription ends cleanly on abort', async () => {
      const store = current();
      await appended(store, 'a', 1);
      const controller = new AbortController();
      const seen: StoredEvent[] = [];
      const consumed = (async () => {
        for await (const event of store.subscribe(0, controller.signal)) {
          seen.push(event);
          if (seen.length === 3) controller.abort();
        }
      })();
      await vi.waitFor(() => expect(seen).toHaveLength(1), { timeout: 5000 });
      await appended(store, 'b', 1);
      await vi.waitFor(() => expect(seen).toHaveLength(2), { timeout: 5000 });
      await appended(store, 'a', 1);
      await within(5000, 'the subscription ending after abort', consumed);
      expect(seen.map((e) => e.position)).toEqual(await at(store, 1, 2, 3));
    });

    it('given a subscription from position 1 waiting for news, when the signal aborts, then it yields nothing more and ends', async () => {
      const store = current();
      await appended(store, 'a', 2);
      const controller = new AbortController();
      const seen: number[] = [];
      const [first, second] = await at(store, 1, 2);
      const consumed = (async () => {
        for await (const event of store.subscribe(first as number, controller.signal))
          seen.push(event.position);
      })();
      await vi.waitFor(() => expect(seen).toEqual([second]), { timeout: 5000 });
      controller.abort();
      await within(5000, 'the subscription ending after abort', consumed);
      await appended(store, 'a', 1);
      expect(seen).toEqual([second]);
    });

    it('given an already aborted signal, then subscribing yields nothing', async () => {
      const store = current();
      await appended(store, 'a', 1);
      const controller = new AbortController();
      controller.abort();
      expect(
        await within(5000, 'the aborted subscription ending', collect(store.subscribe(0, controller.signal))),
      ).toEqual([]);
    });
  });

  describe('head and known ids', () => {
    it('given appends, then head is the last position, and knownIds names exactly the stored ids asked about', async () => {
      const store = current();
      const ids = Array.from({ length: 2500 }, (_, i) => `evt-${i}`);
      await success(
        store.append([
          { stream: 's', expected: 'any', events: ids.map((id) => ({ id, type: 'T', data: null })) },
        ]),
      );
      expect(await store.head()).toBe(await nth(store, 2500));
      expect(await store.knownIds([])).toEqual(new Set());
      expect(await store.knownIds(['evt-0', 'unknown', 'evt-2499', 'evt-0'])).toEqual(
        new Set(['evt-0', 'evt-2499']),
      );
      // Many more ids than any single query should bind, to prove adapters split large questions.
      const asked = [...ids, ...Array.from({ length: 40_000 }, (_, i) => `unknown-${i}`)];
      expect(await store.knownIds(asked)).toEqual(new Set(ids));
    });

    it('given stored events, then readByIds hands back exactly the events stored under the ids asked about, as readAll reads them', async () => {
      const store = current();
      const ids = Array.from({ length: 2500 }, (_, i) => `evt-${i}`);
      await success(
        store.append([
          {
            stream: 'profile-p',
            expected: 'any',
            events: ids.map((id, i) => ({ id, type: 'T', data: { i, nested: { list: [i, 'x'] } } })),
          },
          {
            stream: 'other',
            expected: 'any',
            events: [{ id: 'other-1', type: 'U', data: 'text', occurredAt: '2024-01-02' }],
          },
        ]),
      );
      const all = new Map((await collect(store.readAll())).map((e) => [e.id, e]));
      expect(await store.readByIds([])).toEqual(new Map());
      const some = await store.readByIds(['evt-7', 'unknown', 'other-1', 'evt-7']);
      expect([...some.keys()].sort()).toEqual(['evt-7', 'other-1']);
      expect(some.get('evt-7')).toEqual(all.get('evt-7'));
      expect(some.get('other-1')).toEqual(all.get('other-1'));
      expect(some.get('other-1')?.occurredAt).toBe('2024-01-02');
      // Many more ids than any single query should bind, to prove adapters split large questions.
      const asked = [...ids, ...Array.from({ length: 40_000 }, (_, i) => `unknown-${i}`)];
      const found = await store.readByIds(asked);
      expect(found.size).toBe(2500);
      expect(found.get('evt-2499')).toEqual(all.get('evt-2499'));
    });
  });
};
