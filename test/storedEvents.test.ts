// Reading the store decodes what it reads: an event written by something that bypassed ingest's
// checks stops every reader with a value naming its position, stream, type and what is wrong.
import { Readable } from 'node:stream';
import fc from 'fast-check';
import * as E from 'fp-ts/lib/Either.js';
import { describe, expect, it } from 'vitest';
import { InputEvent, streamOf } from '../domain/events.js';
import { SyncEvent } from '../domain/syncEvents.js';
import { applyConfig } from '../engine/input/configure.js';
import { decisionLog } from '../engine/audit/decisionLog.js';
import { explain } from '../engine/audit/explain.js';
import { ingest } from '../engine/input/ingest.js';
import type { EventStore } from '../engine/ports.js';
import { replayDestination } from '../engine/audit/replay.js';
import { requestRetry } from '../engine/sync/retry.js';
import { syncDestination } from '../engine/sync/run.js';
import { catchUp, initialState } from '../engine/state/engineState.js';
import { invalidStoredMessage, type InvalidStoredEvent } from '../engine/state/storedEvents.js';
import { openMemoryEventStore } from '../adapters/stores/memory.js';
import { givenEngine, noWait } from './support/engine.js';
import {
  changed,
  created,
  deleted,
  destination,
  everyone,
  groupCreated,
  groupDeleted,
  joined,
  left,
} from './support/given.js';

const crm = destination({ mode: 'sync', collection: everyone });

/** A store with one profile synced once, then an event appended past every check. */
const poisoned = async (stream: string, type: string, data: unknown) => {
  const w = await givenEngine(crm);
  await w.happen(created('p1', { email: 'ann@x.io' }));
  await w.synced();
  const r = await w.store.append([
    { stream, expected: 'any', events: [{ type, data, tags: ['profile-p1'] }] },
  ])();
  if (E.isLeft(r)) throw new Error(JSON.stringify(r.left));
  return { store: w.store, destination: w.destination, position: r.right.appended[0]?.position as number };
};

const unsetFive = { profileId: 'p1', set: 'notanobject', unset: 5 };

describe('reading a store holding an event that bypassed the checks', () => {
  it('given a ProfilePropertiesChanged with set a string and unset a number, when caught up, then the fold stops at it and names position, stream, type and what is wrong', async () => {
    const { store, position } = await poisoned('profile-p1', 'ProfilePropertiesChanged', unsetFive);
    const invalid: InvalidStoredEvent = {
      _tag: 'InvalidStoredEvent',
      position,
      stream: 'profile-p1',
      type: 'ProfilePropertiesChanged',
      problems: ['data.set: "notanobject" is not an object', 'data.unset: 5 is not an array'],
    };
    expect(await catchUp(store, initialState())).toStrictEqual(E.left(invalid));
    expect(invalidStoredMessage(invalid)).toBe(
      `the store's event at position ${position} (ProfilePropertiesChanged in profile-p1) is not valid: ` +
        'data.set: "notanobject" is not an object; data.unset: 5 is not an array',
    );
  });

  it('given that event, when any reader reads the store, then each returns the same value, or its words, and none throws', async () => {
    const { store, destination } = await poisoned('profile-p1', 'ProfilePropertiesChanged', unsetFive);
    const caught = await catchUp(store, initialState());
    if (E.isRight(caught)) throw new Error('the fold took the invalid event');
    const found = E.left(caught.left);
    expect(
      await syncDestination(store, initialState(), 'crm', destination.destination(crm), noWait),
    ).toStrictEqual(found);
    // the log of everyone, through index reads and through one pass over the store
    expect(await decisionLog(store, 'crm', {}, 0)).toStrictEqual(found);
    expect(await decisionLog(store, 'crm', {})).toStrictEqual(found);
    expect(await decisionLog(store, 'crm', { profileId: 'p1' })).toStrictEqual(found);
    expect(await explain(store, 'crm', 'p1', { defaultMode: () => 'sync' })).toStrictEqual(found);
    expect(await replayDestination(store, 'crm')).toStrictEqual(found);
    const more = JSON.stringify({ type: 'ProfileCreated', data: { profileId: 'p2', properties: {} } });
    const bytes = () => Readable.from([Buffer.from(more)]);
    const options = { checkDestination: () => [], maxProblems: 5, chunkSize: 10 };
    expect(await ingest(store, initialState(), bytes, options)).toStrictEqual(found);
    expect(await applyConfig(store, initialState(), [crm], false)).toStrictEqual(found);
    expect(await requestRetry(store, initialState(), 'crm', undefined)).toStrictEqual(found);
  });

  it('given a BatchDecided whose decisions are not a list, when the destination is synced or its log read, then the sync stream event is named', async () => {
    const { store, destination, position } = await poisoned('sync-crm', 'BatchDecided', {
      runId: 'r',
      position: 1,
      profileIds: ['p1'],
      keys: [],
      observed: [],
      decisions: 5,
      decidedAt: '2024-01-01T00:00:00Z',
    });
    const named = {
      _tag: 'InvalidStoredEvent',
      position,
      stream: 'sync-crm',
      type: 'BatchDecided',
      problems: ['data.decisions: 5 is not an array'],
    };
    expect(
      await syncDestination(store, initialState(), 'crm', destination.destination(crm), noWait),
    ).toStrictEqual(E.left(named));
    expect(await decisionLog(store, 'crm')).toStrictEqual(E.left(named));
    expect(await replayDestination(store, 'crm')).toStrictEqual(E.left(named));
  });

  it('given an event of a type no stream holds, when caught up, then the known types are listed', async () => {
    const { store, position } = await poisoned('profile-p1', 'ProfileRenamed', { profileId: 'p1' });
    const r = await catchUp(store, initialState());
    expect(r).toMatchObject(E.left({ position, type: 'ProfileRenamed' }));
    expect(E.isLeft(r) && r.left.problems[0]).toMatch(
      /^type: "ProfileRenamed" is not one of ProfileCreated, /,
    );
  });
});

const TYPES = [
  ...['ProfileCreated', 'ProfilePropertiesChanged', 'ProfileDeleted', 'GroupCreated', 'GroupDeleted'],
  ...['ProfileJoinedGroup', 'ProfileLeftGroup', 'DestinationConfigured', 'DestinationRemoved'],
];
const SYNC_TYPES = [
  'RunStarted',
  'BatchDecided',
  'BatchApplied',
  'RunFinished',
  'RunFailed',
  'RetryRequested',
];
const FIELDS = ['profileId', 'groupId', 'destinationId', 'properties', 'set', 'unset', 'name', 'runId'];
const SYNC_FIELDS = ['decisions', 'results', 'ok', 'profileIds', 'observed', 'settled', 'cleared', 'config'];

/** Data shaped like an event's, with any JSON in any field: what a damaged or forged event holds. */
const dataArb = (fields: readonly string[]) =>
  fc.dictionary(fc.constantFrom(...fields, 'profileId', 'groupId'), fc.jsonValue({ maxDepth: 3 }), {
    maxKeys: 5,
  });

describe('the fold of stored events (law)', () => {
  it('given any JSON under any type in an input or sync stream, when caught up, then the fold never throws: it folds exactly the events that decode and stops at the first that does not', async () => {
    const valid = fc.constantFrom<InputEvent>(
      ...[created('p1', { email: 'a@x.io' }), changed('p1', { email: 'b@x.io' }, ['name']), deleted('p1')],
      ...[groupCreated('g1'), joined('p1', 'g1'), left('p1', 'g1'), groupDeleted('g1')],
      { type: 'DestinationConfigured', data: crm },
      { type: 'DestinationRemoved', data: { destinationId: 'crm' } },
    );
    const event = fc.oneof(
      valid.map((e) => ({ stream: streamOf(e), type: e.type, data: e.data })),
      fc.record({
        stream: fc.constantFrom('profile-p1', 'group-g1', 'destination-crm'),
        type: fc.constantFrom(...TYPES),
        data: dataArb(FIELDS),
      }),
      fc.record({
        stream: fc.constant('sync-crm'),
        type: fc.constantFrom(...SYNC_TYPES),
        data: dataArb([...FIELDS, ...SYNC_FIELDS]),
      }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(event, { minLength: 1, maxLength: 6 }), async (events) => {
        const store: EventStore = openMemoryEventStore();
        for (const { stream, type, data } of events)
          await store.append([{ stream, expected: 'any', events: [{ type, data }] }])();
        const firstBad = events.findIndex(({ stream, type, data }) =>
          stream.startsWith('sync-')
            ? E.isLeft(SyncEvent.decode({ type, data }))
            : E.isLeft(InputEvent.decode({ type, data })),
        );
        const r = await catchUp(store, initialState());
        if (firstBad === -1) expect(E.isRight(r)).toBe(true);
        else expect(r).toMatchObject(E.left({ _tag: 'InvalidStoredEvent', position: firstBad + 1 }));
      }),
      { numRuns: 300 },
    );
  });

  it('given any event-like value, the guards of InputEvent and SyncEvent accept exactly what their decoding accepts', () => {
    const shaped = fc.record({
      type: fc.constantFrom(...TYPES, ...SYNC_TYPES),
      data: dataArb([...FIELDS, ...SYNC_FIELDS]),
    });
    const valid = fc.constantFrom<unknown>(
      created('p1', { email: 'a@x.io', tags: ['a', 1] }),
      changed('p1', {}, ['x']),
      { type: 'DestinationConfigured', data: crm },
      { type: 'ProfileDeleted', data: { profileId: 'p1', extra: 1 } },
      { type: 'ProfileDeleted', data: { profileId: 'p1' }, id: 'not-a-uuid' },
    );
    fc.assert(
      fc.property(fc.oneof(shaped, valid, fc.jsonValue({ maxDepth: 2 })), (u) => {
        expect(InputEvent.is(u)).toBe(E.isRight(InputEvent.decode(u)));
        expect(SyncEvent.is(u)).toBe(E.isRight(SyncEvent.decode(u)));
      }),
      { numRuns: 1000 },
    );
  });
});
