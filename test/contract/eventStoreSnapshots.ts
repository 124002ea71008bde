// The snapshot half of the EventStore contract: a store keeps the newest snapshot per format, gives
// its parts back whole and in order, and replaces it atomically. Registered by eventStoreContract.
import { describe, expect, it } from 'vitest';
import type { EventStore } from '../../engine/ports.js';
import { appended, failure, latestOf, success, textsOf } from './eventStoreHelpers.js';

/** Parts of distinct sizes and contents, more of them than a store might read in one page. */
const partsOf = (label: string, count: number): string[] =>
  Array.from({ length: count }, (_, i) => JSON.stringify([label, i, 'x'.repeat(i * 37)]));

export const snapshotSpecs = (current: () => EventStore): void => {
  describe('snapshots', () => {
    it('given no snapshot, when the newest is asked for, then there is none', async () => {
      expect(await latestOf(current(), 1)).toBeNull();
    });

    it('given a snapshot of 50 parts kept, when the newest is read, then its position, event id and every part come back in order', async () => {
      const store = current();
      const { appended: events } = await appended(store, 'a', 3);
      const parts = partsOf('one', 50);
      expect(
        await success(store.snapshots.keep({ format: 1, position: 3, eventId: events[2]!.id, parts })),
      ).toBe(true);
      const latest = await latestOf(store, 1);
      expect(latest).toMatchObject({ format: 1, position: 3, eventId: events[2]!.id });
      expect(Number.isNaN(Date.parse(latest!.takenAt))).toBe(false);
      expect(await textsOf(latest)).toEqual(parts);
      // The parts can be read again, as a restore that gave up half-way and a retry would.
      expect(await textsOf(latest)).toEqual(parts);
    });

    it('given a snapshot kept, when a newer one of the same format is kept, then only the newer one is read, and a snapshot of another format stays as it was', async () => {
      const store = current();
      const { appended: events } = await appended(store, 'a', 5);
      await success(
        store.snapshots.keep({ format: 1, position: 2, eventId: events[1]!.id, parts: partsOf('old', 12) }),
      );
      await success(
        store.snapshots.keep({ format: 2, position: 3, eventId: events[2]!.id, parts: partsOf('other', 3) }),
      );
      await success(
        store.snapshots.keep({ format: 1, position: 5, eventId: events[4]!.id, parts: partsOf('new', 4) }),
      );
      const newest = await latestOf(store, 1);
      expect(newest).toMatchObject({ position: 5, eventId: events[4]!.id });
      expect(await textsOf(newest)).toEqual(partsOf('new', 4));
      const other = await latestOf(store, 2);
      expect(other).toMatchObject({ format: 2, position: 3 });
      expect(await textsOf(other)).toEqual(partsOf('other', 3));
      expect(await latestOf(store, 3)).toBeNull();
    });

    it('given parts made lazily by a generator, when kept, then each part is asked for once and all are stored', async () => {
      const store = current();
      const { appended: events } = await appended(store, 'a', 1);
      let made = 0;
      function* lazily(): Generator<string> {
        for (let i = 0; i < 20; i++) {
          made++;
          yield JSON.stringify(['lazy', i]);
        }
      }
      await success(
        store.snapshots.keep({ format: 1, position: 1, eventId: events[0]!.id, parts: lazily() }),
      );
      expect(made).toBe(20);
      const parts = await textsOf(await latestOf(store, 1));
      expect(parts.map((p) => JSON.parse(p) as unknown)).toEqual(
        Array.from({ length: 20 }, (_, i) => ['lazy', i]),
      );
    });

    it('given a closed store, when its newest snapshot is asked for, then the answer is StoreUnavailable, not a throw', async () => {
      const store = current();
      const { appended: events } = await appended(store, 'a', 1);
      await success(
        store.snapshots.keep({ format: 1, position: 1, eventId: events[0]!.id, parts: ['["x"]'] }),
      );
      await store.close();
      expect(await failure(store.snapshots.latest(1))).toMatchObject({ _tag: 'StoreUnavailable' });
    });

    it('given a snapshot found before its store was closed, when its parts are read, then they end with StoreUnavailable in place of the part', async () => {
      const store = current();
      const { appended: events } = await appended(store, 'a', 1);
      await success(
        store.snapshots.keep({ format: 1, position: 1, eventId: events[0]!.id, parts: partsOf('one', 3) }),
      );
      const latest = await latestOf(store, 1);
      await store.close();
      const read: unknown[] = [];
      for await (const part of latest!.parts()) read.push(part);
      expect(read.length).toBeLessThanOrEqual(4);
      expect(read.at(-1)).toMatchObject({ _tag: 'Left', left: { _tag: 'StoreUnavailable' } });
    });

    it('given a closed store, when a snapshot is kept, then it is refused as StoreUnavailable', async () => {
      const store = current();
      await appended(store, 'a', 1);
      await store.close();
      expect(
        await failure(store.snapshots.keep({ format: 1, position: 1, eventId: 'x', parts: [] })),
      ).toMatchObject({
        _tag: 'StoreUnavailable',
      });
    });
  });
};
