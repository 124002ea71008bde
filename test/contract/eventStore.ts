// The EventStore contract: specifications every store adapter must meet, exported so that anyone
// writing an adapter can hold it to the same behaviour as the built-in memory and SQLite stores.
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { EventStore, NewEvent } from '../../engine/ports.js';
import { appended, collect, failure, positionsAt, success, type StoreTraits } from './eventStoreHelpers.js';
import { integritySpecs } from './eventStoreIntegrity.js';
import { readingSpecs } from './eventStoreReading.js';

/**
 * Registers the suite. `open` must return a fresh, empty store on every call (it is called before
 * each test, and the store is closed after it); `cleanup` runs once after the whole suite.
 */
export const eventStoreContract = (
  name: string,
  open: () => Promise<EventStore> | EventStore,
  cleanup?: () => Promise<void> | void,
  traits: StoreTraits = {},
): void => {
  const at = positionsAt(traits);
  /** the position of the n-th event the store holds (0: none) */
  const nth = async (store: EventStore, n: number): Promise<number> => (await at(store, n))[0] as number;
  describe(`EventStore contract: ${name}`, () => {
    let store: EventStore;
    beforeEach(async () => {
      store = await open();
    });
    afterEach(async () => {
      await store.close();
    });
    if (cleanup !== undefined) afterAll(cleanup);
    const current = (): EventStore => store;

    describe('finding events by tag', () => {
      it('given events tagged across streams, when a tag is read, then exactly its events come back in position order', async () => {
        await success(
          store.append([
            {
              stream: 'group-vip',
              expected: 'any',
              events: [{ type: 'Joined', data: 1, tags: ['profile-a'] }],
            },
            {
              stream: 'group-new',
              expected: 'any',
              events: [{ type: 'Joined', data: 2, tags: ['profile-b'] }],
            },
            {
              stream: 'sync-crm',
              expected: 'any',
              events: [{ type: 'Batch', data: 3, tags: ['crm/a', 'crm/b', 'profile-a'] }],
            },
          ]),
        );
        const [first, third] = await at(store, 1, 3);
        expect((await collect(store.readTagged('profile-a'))).map((e) => [e.position, e.data])).toEqual([
          [first, 1],
          [third, 3],
        ]);
        expect((await collect(store.readTagged('crm/b'))).map((e) => e.stream)).toEqual(['sync-crm']);
        expect(await collect(store.readTagged('nobody'))).toEqual([]);
      });

      it('given one event with hundreds of tags, some repeated and some with quotes or accents, when each tag is read, then it finds the event once', async () => {
        const tags = Array.from({ length: 300 }, (_, i) => `sync-crm/p${i}`);
        const odd = ['sync-crm/"quoted"', 'sync-crm/zoë', 'sync-crm/back\\slash'];
        await success(
          store.append([
            {
              stream: 'sync-crm',
              expected: 'any',
              events: [{ type: 'Batch', data: 1, tags: [...tags, ...odd, tags[7] as string] }],
            },
          ]),
        );
        for (const tag of [...tags, ...odd])
          expect((await collect(store.readTagged(tag))).map((e) => e.data)).toEqual([1]);
        expect(await collect(store.readTagged('sync-crm/p300'))).toEqual([]);
      });

      it('given a refused append and a duplicate id, when their tags are read, then neither left a tag behind', async () => {
        await success(
          store.append([
            {
              stream: 's',
              expected: 'any',
              events: [{ id: '00000000-0000-4000-8000-000000000001', type: 'A', data: 1, tags: ['t'] }],
            },
          ]),
        );
        await failure(
          store.append([
            { stream: 's', expected: 'no-stream', events: [{ type: 'B', data: 2, tags: ['t', 'u'] }] },
          ]),
        );
        await success(
          store.append([
            {
              stream: 's',
              expected: 'any',
              events: [{ id: '00000000-0000-4000-8000-000000000001', type: 'A', data: 9, tags: ['u'] }],
            },
          ]),
        );
        expect((await collect(store.readTagged('t'))).map((e) => e.data)).toEqual([1]);
        expect(await collect(store.readTagged('u'))).toEqual([]);
      });

      it('given more tagged events than one page, when the tag is read, then every event comes back once', async () => {
        const events = Array.from({ length: 2500 }, (_, i) => ({ type: 'T', data: i, tags: ['many'] }));
        await success(store.append([{ stream: 's', expected: 'any', events }]));
        const read = await collect(store.readTagged('many'));
        expect(read.map((e) => e.data)).toEqual(events.map((e) => e.data));
      });
    });

    describe('appending batches as they arrive (appendAll)', () => {
      async function* batches(
        ...list: { stream: string; expected: 'any' | 'no-stream' | number; n: number }[]
      ): AsyncGenerator<{ stream: string; expected: 'any' | 'no-stream' | number; events: NewEvent[] }[]> {
        for (const b of list) {
          await Promise.resolve();
          yield [
            {
              stream: b.stream,
              expected: b.expected,
              events: Array.from({ length: b.n }, (_, i) => ({ type: 'Seeded', data: i })),
            },
          ];
        }
      }

      it('given three batches, when they are appended with appendAll, then all land in order and the count is returned', async () => {
        const result = await success(
          store.appendAll(
            batches(
              { stream: 'a', expected: 'any', n: 2 },
              { stream: 'b', expected: 'any', n: 3 },
              { stream: 'a', expected: 'any', n: 1 },
            ),
          ),
        );
        expect(result.appended).toBe(6);
        const read = await collect(store.readAll());
        expect(read.map((e) => [e.stream, e.revision])).toEqual([
          ['a', 0],
          ['a', 1],
          ['b', 0],
          ['b', 1],
          ['b', 2],
          ['a', 2],
        ]);
      });

      it('given a later batch whose expected revision does not hold, when appended with appendAll, then nothing from any batch is stored', async () => {
        const error = await failure(
          store.appendAll(
            batches({ stream: 'a', expected: 'any', n: 2 }, { stream: 'a', expected: 'no-stream', n: 1 }),
          ),
        );
        expect(error._tag).toBe('WrongExpectedRevision');
        expect(await store.head()).toBe(await nth(store, 0));
        expect(await store.streamRevision('a')).toBe(-1);
      });

      it('given batches whose caller withdraws once they are in, when appended with appendAll, then nothing is stored, the reason comes back, and the store stays usable', async () => {
        let asked = 0;
        const withdraw = (): string => {
          asked++;
          return 'the file changed while it was being ingested';
        };
        expect(
          await failure(
            store.appendAll(
              batches({ stream: 'a', expected: 'any', n: 2 }, { stream: 'b', expected: 'any', n: 1 }),
              withdraw,
            ),
          ),
        ).toEqual({ _tag: 'Withdrawn', message: 'the file changed while it was being ingested' });
        expect(asked).toBe(1);
        expect(await store.head()).toBe(await nth(store, 0));
        expect(await store.streamRevision('a')).toBe(-1);
        expect(
          (await success(store.appendAll(batches({ stream: 'a', expected: 'any', n: 1 }), () => undefined)))
            .appended,
        ).toBe(1);
        expect(await store.head()).toBe(await nth(store, 1));
      });

      it('given a source that fails midway, when appended with appendAll, then nothing is stored and the store stays usable', async () => {
        async function* broken(): AsyncGenerator<{ stream: string; expected: 'any'; events: NewEvent[] }[]> {
          yield [{ stream: 'a', expected: 'any', events: [{ type: 'Seeded', data: 1 }] }];
          await Promise.resolve();
          throw new Error('the file went away');
        }
        await expect(store.appendAll(broken())()).rejects.toThrow('the file went away');
        expect(await store.head()).toBe(await nth(store, 0));
        await appended(store, 'a', 1);
        expect(await store.head()).toBe(await nth(store, 1));
      });
      // Two MiB of events: more than one append of a store that cannot hold a transaction open.
      const large = (): AsyncGenerator<{ stream: string; expected: 'any'; events: NewEvent[] }[]> =>
        (async function* () {
          for (let b = 0; b < 16; b++) {
            await Promise.resolve();
            yield [
              {
                stream: `big-${b}`,
                expected: 'any',
                events: Array.from({ length: 8 }, (_, i) => ({
                  type: 'Seeded',
                  data: 'x'.repeat(16_000) + i,
                })),
              },
            ];
          }
        })();

      if (traits.appendAllInOneTransaction !== false)
        it('given two MiB of batches whose caller withdraws at the end, when appended with appendAll, then nothing of them is stored', async () => {
          expect(await failure(store.appendAll(large(), () => 'withdrawn'))).toEqual({
            _tag: 'Withdrawn',
            message: 'withdrawn',
          });
          expect(await store.head()).toBe(await nth(store, 0));
        });
      else
        it(`on ${name}, appendAll is not one transaction: given two MiB of batches whose caller withdraws at the end, then the appends made before stay, and the failure says how many events they hold`, async () => {
          const error = await failure(store.appendAll(large(), () => 'withdrawn'));
          const stored = (await collect(store.readAll())).length;
          expect(stored).toBeGreaterThan(0);
          expect(stored).toBeLessThan(16 * 8);
          expect(error).toEqual({
            _tag: 'StoreUnavailable',
            message: expect.stringContaining(`withdrawn; `) as unknown,
          });
          expect('message' in error && error.message).toContain(`the first ${stored} events are stored`);
        });
    });

    describe('appending', () => {
      it('given an empty store, its head is 0, no stream exists and no checkpoint is set', async () => {
        expect(await store.head()).toBe(await nth(store, 0));
        expect(await store.streamRevision('profile-1')).toBe(-1);
        expect(await collect(store.readAll())).toEqual([]);
        expect(await store.getCheckpoint('sync-d1')).toBeNull();
      });

      it('given an empty store, when two events are appended to a new stream with expected no-stream, then they get revisions 0 and 1, positions 1 and 2, and read back with identical data', async () => {
        const data = {
          profileId: 'p-1',
          properties: { name: 'Zoë 🚀', age: 42, ratio: 0.125, vip: true, nickname: null, tags: ['a', 'b'] },
          nested: { deep: [1, { x: 'y' }], empty: {} },
          text: 'line\n"quoted" \\ \u0000',
        };
        const result = await success(
          store.append([
            {
              stream: 'profile-p-1',
              expected: 'no-stream',
              events: [
                { type: 'ProfileCreated', data },
                { type: 'ProfilePropertiesChanged', data: { profileId: 'p-1', unset: ['age'] } },
              ],
            },
          ]),
        );
        const [p1, p2] = await at(store, 1, 2);
        expect(result.appended.map((e) => [e.position, e.revision])).toEqual([
          [p1, 0],
          [p2, 1],
        ]);
        expect(result.revisions).toEqual({ 'profile-p-1': 1 });
        const read = await collect(store.readAll());
        expect(read).toEqual(result.appended);
        expect(read[0]?.data).toEqual(data);
        expect(await store.streamRevision('profile-p-1')).toBe(1);
        expect(await store.head()).toBe(await nth(store, 2));
      });

      it('given several streams appended in turns, then positions increase strictly in one total order and each stream counts its revisions from 0', async () => {
        for (const stream of ['profile-a', 'group-g', 'profile-a', 'profile-b', 'group-g']) {
          await success(
            store.append([{ stream, expected: 'any', events: [{ type: 'T', data: { stream } }] }]),
          );
        }
        const all = await collect(store.readAll());
        expect(all.map((e) => e.position)).toEqual(await at(store, 1, 2, 3, 4, 5));
        expect(all.map((e) => `${e.stream}@${e.revision}`)).toEqual([
          'profile-a@0',
          'group-g@0',
          'profile-a@1',
          'profile-b@0',
          'group-g@1',
        ]);
      });

      it('given a stream at revision 1, when appending with expected 1, then it succeeds; when appending again with the stale expected 1, then it is refused and nothing is written', async () => {
        await appended(store, 'profile-p', 2);
        const ok = await success(
          store.append([{ stream: 'profile-p', expected: 1, events: [{ type: 'T', data: 2 }] }]),
        );
        expect(ok.revisions).toEqual({ 'profile-p': 2 });
        const refused = await failure(
          store.append([{ stream: 'profile-p', expected: 1, events: [{ type: 'T', data: 3, id: 'late' }] }]),
        );
        expect(refused).toEqual({
          _tag: 'WrongExpectedRevision',
          stream: 'profile-p',
          expected: 1,
          actual: 2,
        });
        expect(await store.head()).toBe(await nth(store, 3));
        expect(await store.knownIds(['late'])).toEqual(new Set());
      });

      it('given an existing stream, when appending with expected no-stream (or -1), then it is refused and the actual revision is reported', async () => {
        await appended(store, 'group-g', 1);
        for (const expected of ['no-stream', -1] as const) {
          expect(
            await failure(store.append([{ stream: 'group-g', expected, events: [{ type: 'T', data: 1 }] }])),
          ).toEqual({ _tag: 'WrongExpectedRevision', stream: 'group-g', expected, actual: 0 });
        }
        expect(await store.head()).toBe(await nth(store, 1));
      });

      it('given no stream, when appending with an expected number, then it is refused as no-stream; with -1 it succeeds', async () => {
        expect(
          await failure(store.append([{ stream: 's', expected: 0, events: [{ type: 'T', data: 1 }] }])),
        ).toEqual({
          _tag: 'WrongExpectedRevision',
          stream: 's',
          expected: 0,
          actual: 'no-stream',
        });
        await success(store.append([{ stream: 's', expected: -1, events: [{ type: 'T', data: 1 }] }]));
        expect(await store.streamRevision('s')).toBe(0);
      });

      it('when appending with expected any, then it succeeds whether or not the stream exists', async () => {
        await success(store.append([{ stream: 's', expected: 'any', events: [{ type: 'T', data: 1 }] }]));
        await success(store.append([{ stream: 's', expected: 'any', events: [{ type: 'T', data: 2 }] }]));
        expect(await store.streamRevision('s')).toBe(1);
      });

      it('given a multi-stream append where only the second write mismatches, then it is refused and neither write is stored', async () => {
        await appended(store, 'b', 1);
        const refused = await failure(
          store.append([
            { stream: 'a', expected: 'no-stream', events: [{ id: 'a-1', type: 'T', data: 1 }] },
            { stream: 'b', expected: 5, events: [{ id: 'b-1', type: 'T', data: 2 }] },
          ]),
        );
        expect(refused).toMatchObject({ _tag: 'WrongExpectedRevision', stream: 'b', expected: 5, actual: 0 });
        expect(await store.head()).toBe(await nth(store, 1));
        expect(await store.streamRevision('a')).toBe(-1);
        expect(await store.knownIds(['a-1', 'b-1'])).toEqual(new Set());
        // The refused append left nothing half-done: the same write as expected succeeds afterwards.
        await success(
          store.append([{ stream: 'a', expected: 'no-stream', events: [{ id: 'a-1', type: 'T', data: 1 }] }]),
        );
        expect((await collect(store.readAll())).map((e) => e.position)).toEqual(await at(store, 1, 2));
      });

      it('given two writes to one stream in one append, then the second is checked against the first and both land in order', async () => {
        const result = await success(
          store.append([
            { stream: 's', expected: 'no-stream', events: [{ type: 'T', data: 1 }] },
            { stream: 's', expected: 0, events: [{ type: 'T', data: 2 }] },
          ]),
        );
        expect(result.revisions).toEqual({ s: 1 });
        expect((await collect(store.readStream('s'))).map((e) => e.data)).toEqual([1, 2]);
      });

      it('given an event id already stored, when it is appended again, then it is skipped and consumes no revision', async () => {
        const first: NewEvent = { id: '5b1c0f6e-0000-4000-8000-000000000001', type: 'T', data: 'first' };
        await success(store.append([{ stream: 's', expected: 'no-stream', events: [first] }]));
        const again = await success(
          store.append([
            {
              stream: 's',
              expected: 0,
              events: [
                { ...first, data: 'again' },
                { type: 'T', data: 'new' },
              ],
            },
          ]),
        );
        expect(again.appended.map((e) => [e.data, e.revision])).toEqual([['new', 1]]);
        expect(again.revisions).toEqual({ s: 1 });
        expect((await collect(store.readStream('s'))).map((e) => e.data)).toEqual(['first', 'new']);
      });

      it('given an id repeated within one append (even across streams), then it is stored once, at its first occurrence', async () => {
        const result = await success(
          store.append([
            {
              stream: 'a',
              expected: 'any',
              events: [
                { id: 'dup', type: 'T', data: 1 },
                { id: 'dup', type: 'T', data: 2 },
              ],
            },
            { stream: 'b', expected: 'any', events: [{ id: 'dup', type: 'T', data: 3 }] },
          ]),
        );
        expect(result.appended.map((e) => [e.stream, e.data])).toEqual([['a', 1]]);
        expect(result.revisions).toEqual({ a: 0, b: -1 });
        expect(await store.head()).toBe(await nth(store, 1));
      });

      it('given events without ids, then each gets a distinct UUID', async () => {
        const { appended: events } = await success(
          store.append([
            {
              stream: 's',
              expected: 'any',
              events: [
                { type: 'T', data: 1 },
                { type: 'T', data: 2 },
              ],
            },
          ]),
        );
        const ids = events.map((e) => e.id);
        for (const id of ids)
          expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i);
        expect(new Set(ids).size).toBe(2);
      });

      it('given an event with occurredAt, then it is preserved; without one, it defaults to recordedAt', async () => {
        const before = new Date().toISOString();
        await success(
          store.append([
            {
              stream: 's',
              expected: 'any',
              events: [
                { type: 'T', data: 1, occurredAt: '2021-03-04T05:06:07.089Z' },
                { type: 'T', data: 2 },
              ],
            },
          ]),
        );
        const [given, defaulted] = await collect(store.readStream('s'));
        expect(given?.occurredAt).toBe('2021-03-04T05:06:07.089Z');
        expect(defaulted?.occurredAt).toBe(defaulted?.recordedAt);
        expect((defaulted?.recordedAt ?? '') >= before).toBe(true);
      });

      it('given an append with no writes or no events, then nothing is stored and an empty stream reports -1', async () => {
        expect(await success(store.append([]))).toEqual({ appended: [], revisions: {} });
        expect(await success(store.append([{ stream: 's', expected: 'any', events: [] }]))).toEqual({
          appended: [],
          revisions: { s: -1 },
        });
        expect(await store.head()).toBe(await nth(store, 0));
      });
    });

    readingSpecs(current, traits);
    integritySpecs(current);

    describe('checkpoints', () => {
      it('given no checkpoint, when it is set from null, then the value reads back; a later compare-and-set from that value succeeds', async () => {
        await success(store.setCheckpoint('sync-d1', null, 10));
        expect(await store.getCheckpoint('sync-d1')).toBe(10);
        await success(store.setCheckpoint('sync-d1', 10, 25));
        expect(await store.getCheckpoint('sync-d1')).toBe(25);
        expect(await store.getCheckpoint('sync-d2')).toBeNull();
      });

      it('when the expected value is wrong, then CheckpointConflict reports the actual value and nothing changes', async () => {
        expect(await failure(store.setCheckpoint('c', 3, 4))).toEqual({
          _tag: 'CheckpointConflict',
          name: 'c',
          expected: 3,
          actual: null,
        });
        await success(store.setCheckpoint('c', null, 7));
        expect(await failure(store.setCheckpoint('c', null, 8))).toEqual({
          _tag: 'CheckpointConflict',
          name: 'c',
          expected: null,
          actual: 7,
        });
        expect(await failure(store.setCheckpoint('c', 6, 8))).toMatchObject({ actual: 7 });
        expect(await store.getCheckpoint('c')).toBe(7);
      });
    });
  });
};
