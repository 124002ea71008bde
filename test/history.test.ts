// Specifications of `log` at engine level: given a profile's story synced run by run, each decision
// is listed with its outcome, the events that caused it and its three times, read through indexes.
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Destination, EventStore, StoredEvent } from '../engine/ports.js';
import { syncDestination } from '../engine/sync/run.js';
import { appliedTag, profileTag, resultsOf } from '../domain/syncEvents.js';
import { inputTags, type InputEvent } from '../domain/events.js';
import { openMemoryEventStore } from '../adapters/stores/memory.js';
import { givenEngine, noWait } from './support/engine.js';
import { changed, created, destination, everyone, groupCreated, inGroup, joined } from './support/given.js';
import { ann, annStory, at, explained, ingest, logOf } from './support/story.js';

afterEach(() => vi.useRealTimers());

const OPERATIONS = {
  sync: ['create', 'update', 'delete', 'create', 'delete'],
  additive: ['create', 'update', 'update', 'update', 'update'],
  enrich: ['update', 'update', 'update', 'update', 'update'],
} as const;

describe.each(['sync', 'additive', 'enrich'] as const)('ann’s story in %s mode', (mode) => {
  it('when we read her log, then each run’s decision is there, applied, caused by the change before it, with its three times', async () => {
    const w = await annStory(mode);
    const log = await logOf(w.store, 'p1');
    expect(log.map((x) => x.decision.operation)).toStrictEqual(OPERATIONS[mode]);
    expect(log.map((x) => x.outcome)).toStrictEqual(
      ['10', '12', '14', '16', '18'].map((h) => ({
        status: 'applied',
        at: at(`${h}:00`),
        attempts: 1,
        confirmedByObservation: false,
      })),
    );
    expect(log.map((x) => x.causes.map((c) => c.type))).toStrictEqual([
      ['DestinationConfigured', 'ProfileCreated', 'ProfileJoinedGroup'],
      ['ProfilePropertiesChanged'],
      ['ProfileLeftGroup'],
      ['ProfileJoinedGroup'],
      ['ProfileDeleted'],
    ]);
    expect(log[1]?.times).toStrictEqual({ caused: at('11:00'), decided: at('12:00'), accepted: at('12:00') });
    expect(log[1]?.keyAfter).toBe('ann@new.io');
    // the destination-wide log holds the same entries, read from the sync stream, causes found either way
    expect(await logOf(w.store)).toStrictEqual(log);
    expect(await logOf(w.store, undefined, 0)).toStrictEqual(log);
  });
});

describe('outcomes other than applied', () => {
  it('given a destination that refuses ann’s record, then her entry is failed with the error and attempts, and not accepted', async () => {
    const w = await givenEngine(destination({ mode: 'sync', collection: everyone }));
    await ingest(w, ann);
    w.destination.failNextApplies('ann@x.io', 1, { retryable: false, message: 'boom' });
    await w.sync();
    const [entry] = await logOf(w.store, 'p1');
    expect(entry?.outcome).toMatchObject({
      status: 'failed',
      attempts: 1,
      retryable: false,
      message: 'boom',
    });
    expect(entry?.times.accepted).toBeNull();
  });

  it('given a retryable error that persists, then the entry shows every attempt, and the next run’s retry has no new cause', async () => {
    const w = await givenEngine(destination({ mode: 'sync', collection: everyone }));
    await ingest(w, ann);
    w.destination.failNextApplies('ann@x.io', 5, { retryable: true, message: 'busy' });
    await w.sync();
    await w.synced();
    const log = await logOf(w.store, 'p1');
    expect(
      log.map((x) => [x.outcome.status, 'attempts' in x.outcome ? x.outcome.attempts : null]),
    ).toStrictEqual([
      ['failed', 5],
      ['applied', 1],
    ]);
    expect(log[1]?.causes).toStrictEqual([]);
  });

  it('given a run killed after deciding, then the command is pending, and once the next run decides afresh it is superseded', async () => {
    const w = await givenEngine(destination({ mode: 'sync', collection: everyone }));
    await ingest(w, ann);
    const killed: Destination = {
      ...w.destination.destination(w.config),
      apply: () => () => Promise.reject(new Error('killed')),
    };
    await expect(syncDestination(w.store, w.state, 'crm', killed, noWait)).rejects.toThrow('killed');
    expect((await logOf(w.store, 'p1')).map((x) => x.outcome)).toStrictEqual([{ status: 'pending' }]);
    expect((await explained(w.store, 'p1')).pending).toHaveLength(1);
    await w.synced({ isAlive: () => false });
    const [first, second] = await logOf(w.store, 'p1');
    expect(first?.outcome).toMatchObject({ status: 'superseded', by: second?.commandId });
    expect(second?.outcome).toMatchObject({ status: 'applied' });
  });
});

describe('finding a profile’s outcomes', () => {
  it.each([100, 5000])(
    'given 300 profiles decided in batches of 100 and applied %i commands at a time, when we read one profile’s log, then its outcome is found through its decision’s batch, and outcomes carry no per-profile tag',
    async (applyBatchSize) => {
      const w = await givenEngine(destination({ mode: 'sync', collection: everyone }));
      const ids = Array.from({ length: 300 }, (_, i) => `p${String(i).padStart(3, '0')}`);
      await ingest(w, ...ids.map((id) => created(id, { email: `${id}@x.io` })));
      await w.synced({ batchSize: 100, applyBatchSize });
      const tagged: StoredEvent[] = [];
      for await (const e of w.store.readTagged(profileTag('crm', 'p250'))) tagged.push(e);
      expect(tagged.map((e) => e.type)).toStrictEqual(['BatchDecided']);
      const outcomes: StoredEvent[] = [];
      for await (const e of w.store.readTagged(appliedTag('crm', tagged[0]?.position ?? 0))) outcomes.push(e);
      expect(outcomes.map((e) => e.type)).toStrictEqual(['BatchApplied']);
      const [entry] = await logOf(w.store, 'p250');
      expect(entry?.outcome).toMatchObject({ status: 'applied' });
    },
  );
});

describe('a store recorded before outcomes were tagged by batch', () => {
  it('given outcomes tagged per profile and not by batch, when we read a profile’s log, then its outcome is still found', async () => {
    const w = await givenEngine(destination({ mode: 'sync', collection: everyone }));
    await ingest(w, created('p1', { email: 'p1@x.io' }), created('p2', { email: 'p2@x.io' }));
    await w.synced();
    // The same events copied into a fresh store with the tags older versions wrote.
    const old = openMemoryEventStore();
    const profileOf = new Map<string, string>();
    for await (const e of w.store.readAll()) {
      // Older versions recorded every outcome in full, with no ok list.
      const data = (
        e.type === 'BatchApplied'
          ? {
              runId: (e.data as { runId: string }).runId,
              results: resultsOf(e.data as Parameters<typeof resultsOf>[0]),
            }
          : e.data
      ) as {
        profileIds?: string[];
        decisions?: { commandId: string; decision: { profileId: string } }[];
        results?: { commandId: string }[];
      };
      for (const r of data.decisions ?? []) profileOf.set(r.commandId, r.decision.profileId);
      const tags =
        e.type === 'BatchDecided'
          ? (data.profileIds ?? []).map((p) => profileTag('crm', p))
          : e.type === 'BatchApplied'
            ? (data.results ?? []).map((r) => profileTag('crm', profileOf.get(r.commandId) ?? ''))
            : e.stream.startsWith('sync-') || e.stream.startsWith('destination-')
              ? []
              : inputTags({ type: e.type, data: e.data } as InputEvent);
      const r = await old.append([
        { stream: e.stream, events: [{ id: e.id, type: e.type, data, tags }], expected: 'any' },
      ])();
      if (r._tag === 'Left') throw new Error(JSON.stringify(r.left));
    }
    const [entry] = await logOf(old, 'p2');
    expect(entry?.outcome).toMatchObject({ status: 'applied' });
  });
});

/** A store that counts what is read from it. */
const counting = (store: EventStore) => {
  const counts = { readAll: 0, events: 0 };
  async function* count(events: AsyncIterable<StoredEvent>) {
    for await (const e of events) {
      counts.events++;
      yield e;
    }
  }
  const wrapped: EventStore = {
    ...store,
    readAll: (after, size, leaveOut) => (counts.readAll++, count(store.readAll(after, size, leaveOut))),
    subscribe: (after, signal) => (counts.readAll++, count(store.subscribe(after, signal))),
    readStream: (stream, from) => count(store.readStream(stream, from)),
    readTagged: (tag) => count(store.readTagged(tag)),
  };
  return { counts, store: wrapped };
};

describe('reading one profile’s story', () => {
  it('given 300 vip members synced twice, when we explain or log one of them, then nothing is read but its own events and batches', async () => {
    const w = await givenEngine(destination({ mode: 'sync', collection: inGroup('vip') }));
    const ids = Array.from({ length: 300 }, (_, i) => `p${String(i).padStart(3, '0')}`);
    await ingest(
      w,
      groupCreated('vip'),
      ...ids.flatMap((id) => [created(id, { email: `${id}@x.io` }), joined(id, 'vip')]),
    );
    await w.synced({ batchSize: 100 });
    await ingest(w, changed('p007', { firstName: 'Seven' }));
    await w.synced({ batchSize: 100 });
    const c = counting(w.store);
    await explained(c.store, 'p007');
    await logOf(c.store, 'p007');
    expect(await w.store.head()).toBeGreaterThan(600);
    expect(c.counts.readAll).toBe(0);
    // per read: its stream (2), membership (1), vip's lifecycle (1), config (1), batches and outcomes (4)
    expect(c.counts.events).toBeLessThanOrEqual(2 * 9);
  });
});
