// Ingesting delivered events one by one (a broker's messages): given a batch, when ingested, then
// each gets its verdict, the good ones are stored together, and a bad one refuses only itself.
import * as E from 'fp-ts/lib/Either.js';
import { describe, expect, it } from 'vitest';
import { openMemoryEventStore } from '../adapters/stores/memory.js';
import { v5 } from '../domain/ids.js';
import { ingestEach, type Delivered } from '../engine/input/ingestEach.js';
import { initialState } from '../engine/state/engineState.js';
import { collect } from './contract/eventStoreHelpers.js';

const ANN = '0b5f3f7e-8d1c-4a4e-9a5b-2f6c1e9d0a11';
const body = (e: unknown): string => JSON.stringify(e);
const delivered = (e: unknown, name: string): Delivered => ({
  body: typeof e === 'string' ? e : body(e),
  name,
});
const opts = { checkDestination: () => [] };

describe('ingestEach', () => {
  it('given a group made and joined in one batch, a bad message between, and a redelivery, then the good are stored in order and the rest refused or left out', async () => {
    const store = openMemoryEventStore();
    const s = initialState();
    const ann = { id: ANN, type: 'ProfileCreated', data: { profileId: 'ann', properties: {} } };
    const r = await ingestEach(
      store,
      s,
      [
        delivered({ type: 'GroupCreated', data: { groupId: 'vip', name: 'VIP' } }, 'g'),
        delivered(ann, 'a'),
        delivered('{"type": "Nope"', 'bad'),
        delivered({ type: 'ProfileJoinedGroup', data: { groupId: 'other', profileId: 'ann' } }, 'j-other'),
        delivered({ type: 'ProfileJoinedGroup', data: { groupId: 'vip', profileId: 'ann' } }, 'j-vip'),
        delivered(ann, 'a-again'),
        { body: { unreadable: 'not valid UTF-8' }, name: 'bytes' },
      ],
      opts,
    );
    expect(E.isRight(r) && r.right.map((v) => v._tag)).toStrictEqual([
      'Stored',
      'Stored',
      'Refused',
      'Refused',
      'Stored',
      'Again',
      'Refused',
    ]);
    expect(E.isRight(r) && r.right[3]).toStrictEqual({
      _tag: 'Refused',
      problems: ['data.groupId: group other does not exist'],
    });
    expect(E.isRight(r) && r.right[6]).toStrictEqual({ _tag: 'Refused', problems: ['not valid UTF-8'] });
    expect((await collect(store.readAll())).map((e) => [e.id, e.type])).toStrictEqual([
      [v5('message:g'), 'GroupCreated'],
      [ANN, 'ProfileCreated'],
      [v5('message:j-vip'), 'ProfileJoinedGroup'],
    ]);
  });

  it('given events stored before, when they come again, then they are left out; another event under a stored id is refused', async () => {
    const store = openMemoryEventStore();
    const s = initialState();
    const ann = { id: ANN, type: 'ProfileCreated', data: { profileId: 'ann', properties: {} } };
    await ingestEach(store, s, [delivered(ann, 'a')], opts);
    const r = await ingestEach(
      store,
      s,
      [delivered(ann, 'a'), delivered({ ...ann, data: { profileId: 'bob', properties: {} } }, 'b')],
      opts,
    );
    expect(E.isRight(r) && r.right.map((v) => v._tag)).toStrictEqual(['Again', 'Refused']);
    expect(await collect(store.readAll())).toHaveLength(1);
  });
});

describe('ingestEach and durability', () => {
  it('given good events, when ingested, then the store is flushed after the append and before the verdicts are given', async () => {
    const inner = openMemoryEventStore();
    const calls: string[] = [];
    const store = {
      ...inner,
      append: (writes: Parameters<typeof inner.append>[0]) => {
        calls.push('append');
        return inner.append(writes);
      },
      flush: () => {
        calls.push('flush');
        return inner.flush();
      },
    };
    const r = await ingestEach(
      store,
      initialState(),
      [delivered({ type: 'GroupCreated', data: { groupId: 'vip', name: 'VIP' } }, 'g')],
      opts,
    );
    calls.push('verdicts');
    expect(E.isRight(r)).toBe(true);
    expect(calls).toStrictEqual(['append', 'flush', 'verdicts']);
  });

  it("given a store that cannot make its appends durable, when ingested, then it fails with the store's words, and no verdict says stored", async () => {
    const inner = openMemoryEventStore();
    const store = {
      ...inner,
      flush: () => () =>
        Promise.resolve(E.left({ _tag: 'StoreUnavailable' as const, message: 'the disk went away' })),
    };
    const r = await ingestEach(
      store,
      initialState(),
      [delivered({ type: 'GroupCreated', data: { groupId: 'vip', name: 'VIP' } }, 'g')],
      opts,
    );
    expect(r).toStrictEqual(E.left({ _tag: 'StoreFailed', message: 'the disk went away' }));
  });
});
