// Specifications of `log` and `explain` at engine level: given a profile's story synced run by run,
// the log lists each decision with its outcome, causes and times, and explain tells why, in words.
import * as E from 'fp-ts/lib/Either.js';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { streamOf, type InputEvent } from '../domain/events.js';
import type { SyncModeName } from '../domain/modes.js';
import { decisionLog, type LogEntry } from '../engine/decisionLog.js';
import { explain, type Explanation } from '../engine/explain.js';
import { inputTags } from '../engine/ingest.js';
import type { Destination, EventStore, StoredEvent } from '../engine/ports.js';
import { syncDestination } from '../engine/run.js';
import { givenEngine, noWait, type EngineWorld } from './support/engine.js';
import {
  changed,
  created,
  deleted,
  destination,
  everyone,
  groupCreated,
  inGroup,
  joined,
  left,
  record,
} from './support/given.js';

const at = (hhmm: string): string => `2026-03-01T${hhmm}:00.000Z`;
/** Every store write, decision and outcome from here on happens at `hhmm` that day. */
const clock = (hhmm: string): void => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(new Date(at(hhmm)));
};
afterEach(() => vi.useRealTimers());

/** Appends events as `syncline ingest` does, with the tags that let log and explain avoid a scan. */
const ingest = async (w: EngineWorld, ...events: InputEvent[]): Promise<void> => {
  for (const e of events) {
    const r = await w.store.append([
      { stream: streamOf(e), events: [{ ...e, tags: inputTags(e) }], expected: 'any' },
    ])();
    if (E.isLeft(r)) throw new Error(JSON.stringify(r.left));
  }
};

const ann = created('p1', { email: 'ann@x.io', firstName: 'Ann' });
const defaultMode = (): SyncModeName => 'sync';

/** `indexReadsUpTo` 0 makes the destination-wide log gather causes in one pass over the store. */
const logOf = async (store: EventStore, profileId?: string, indexReadsUpTo?: number): Promise<LogEntry[]> => {
  const r = await decisionLog(store, 'crm', profileId === undefined ? {} : { profileId }, indexReadsUpTo);
  if (E.isLeft(r)) throw new Error(r.left._tag);
  return r.right.entries;
};

const explained = async (store: EventStore, profileId: string, atTime?: string): Promise<Explanation> => {
  const r = await explain(store, 'crm', profileId, { defaultMode, ...(atTime ? { at: atTime } : {}) });
  if (E.isLeft(r)) throw new Error(r.left._tag);
  return r.right;
};

/** Ann joins vip, changes her email, leaves, rejoins and is deleted; a sync an hour after each. */
const annStory = async (mode: SyncModeName): Promise<EngineWorld> => {
  clock('08:00');
  const seed = mode === 'enrich' ? [record('ann@x.io', { email: 'ann@x.io' }, ['Customers'])] : [];
  const w = await givenEngine(destination({ mode, collection: inGroup('vip') }), seed);
  const steps: [string, InputEvent][] = [
    ['09:00', joined('p1', 'vip')],
    ['11:00', changed('p1', { email: 'ann@new.io' })],
    ['13:00', left('p1', 'vip')],
    ['15:00', joined('p1', 'vip')],
    ['17:00', deleted('p1')],
  ];
  for (const [time, event] of steps) {
    clock(time);
    await ingest(
      w,
      ...(time === '09:00' ? [groupCreated('vip'), groupCreated('newsletter'), ann] : []),
      event,
    );
    clock(time.replace(/^(\d\d)/, (h) => String(Number(h) + 1).padStart(2, '0')));
    await w.synced();
  }
  return w;
};

const EXPECTED = {
  sync: [
    ['create', 'created: in scope (member of vip) and no record with key ann@x.io existed'],
    ['update', 'renamed ann@x.io → ann@new.io'],
    ['delete', 'deleted: left the collection (no longer a member of vip) and sync mode removes profiles'],
    ['create', 'created: in scope (member of vip) and no record with key ann@new.io existed'],
    ['delete', 'deleted: the profile was deleted and sync mode removes profiles'],
  ],
  additive: [
    ['create', 'created: in scope (member of vip) and no record with key ann@x.io existed'],
    ['update', 'renamed ann@x.io → ann@new.io'],
    [
      'update',
      'removed from groups VIP: left the collection (no longer a member of vip), and additive mode never deletes; the record is left in place',
    ],
    ['update', 'updated ann@new.io: added to VIP'],
    [
      'update',
      'removed from groups VIP: the profile was deleted, and additive mode never deletes; the record is left in place',
    ],
  ],
  enrich: [
    ['update', 'updated ann@x.io: set first_name; added to VIP'],
    ['update', 'renamed ann@x.io → ann@new.io'],
    [
      'update',
      'removed from groups VIP: left the collection (no longer a member of vip), and enrich mode never deletes; the record is left in place',
    ],
    ['update', 'updated ann@new.io: added to VIP'],
    [
      'update',
      'removed from groups VIP: the profile was deleted, and enrich mode never deletes; the record is left in place',
    ],
  ],
} as const;

describe.each(['sync', 'additive', 'enrich'] as const)('ann’s story in %s mode', (mode) => {
  it('when we read her log, then each run’s decision is there, applied, caused by the change before it, with its three times', async () => {
    const w = await annStory(mode);
    const log = await logOf(w.store, 'p1');
    expect(log.map((x) => x.decision.operation)).toEqual(EXPECTED[mode].map(([op]) => op));
    expect(log.map((x) => x.outcome)).toEqual(
      ['10', '12', '14', '16', '18'].map((h) => ({
        status: 'applied',
        at: at(`${h}:00`),
        attempts: 1,
        confirmedByObservation: false,
      })),
    );
    expect(log.map((x) => x.causes.map((c) => c.type))).toEqual([
      ['DestinationConfigured', 'ProfileCreated', 'ProfileJoinedGroup'],
      ['ProfilePropertiesChanged'],
      ['ProfileLeftGroup'],
      ['ProfileJoinedGroup'],
      ['ProfileDeleted'],
    ]);
    expect(log[1]?.times).toEqual({ caused: at('11:00'), decided: at('12:00'), accepted: at('12:00') });
    expect(log[1]?.keyAfter).toBe('ann@new.io');
    // the destination-wide log holds the same entries, read from the sync stream, causes found either way
    expect(await logOf(w.store)).toEqual(log);
    expect(await logOf(w.store, undefined, 0)).toEqual(log);
  });

  it('when we explain her, then every decision has its reason in words, after the event and observation that led to it', async () => {
    const w = await annStory(mode);
    const story = await explained(w.store, 'p1');
    const decisions = story.timeline.filter((i) => i.kind === 'decision');
    expect(decisions.map((i) => [i.operation, i.summary])).toEqual(
      EXPECTED[mode].map(([op, why]) => [op, why]),
    );
    const kinds = story.timeline.map((i) => i.kind);
    expect(kinds.slice(0, 6)).toEqual(['config', 'event', 'event', 'observation', 'decision', 'outcome']);
    expect(kinds.filter((k) => k === 'outcome')).toHaveLength(5);
    expect(story.timeline[2]?.summary).toBe('joined vip → entered scope; +VIP');
    expect(story.omittedEvents).toBe(1); // creating vip changed nothing for her
    expect(story.pending).toEqual([]);
  });
});

describe('explain --at', () => {
  it('given ann left vip at 13:00, when we ask about 13:30, then she is out of scope, the renamed record is known, and a sync would delete it', async () => {
    const w = await annStory('sync');
    const { at: then, timeline } = await explained(w.store, 'p1', at('13:30'));
    expect(timeline.at(-1)?.summary).toBe('left vip → left scope; −VIP');
    expect(then?.desired).toMatchObject({
      inScope: false,
      scope: 'left the collection (no longer a member of vip)',
    });
    expect(then?.ledger).toMatchObject({ key: 'ann@new.io', groups: ['VIP'] });
    expect(then?.observed.records).toEqual([
      record('ann@new.io', { email: 'ann@new.io', first_name: 'Ann' }, ['VIP']),
    ]);
    expect(then?.observed.appliedSince).toBe(1);
    expect(then?.verdict).toMatchObject({ operation: 'delete', key: 'ann@new.io' });
    expect(then?.reason).toBe(
      'deleted: left the collection (no longer a member of vip) and sync mode removes profiles',
    );
  });

  it('given no run had looked at ann by 09:30, when we ask, then a sync would have created her, and the note says the record is assumed absent', async () => {
    const w = await annStory('sync');
    const { at: then } = await explained(w.store, 'p1', at('09:30'));
    expect(then?.desired).toMatchObject({ inScope: true, key: 'ann@x.io', groups: ['VIP'] });
    expect(then?.ledger).toBeNull();
    expect(then?.verdict).toMatchObject({ operation: 'create', key: 'ann@x.io' });
    expect(then?.notes[0]).toMatch(/^no run had looked this profile up by then/);
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
    expect(log.map((x) => [x.outcome.status, 'attempts' in x.outcome ? x.outcome.attempts : null])).toEqual([
      ['failed', 5],
      ['applied', 1],
    ]);
    expect(log[1]?.causes).toEqual([]);
  });

  it('given a run killed after deciding, then the command is pending, and once the next run decides afresh it is superseded', async () => {
    const w = await givenEngine(destination({ mode: 'sync', collection: everyone }));
    await ingest(w, ann);
    const killed: Destination = {
      ...w.destination.destination(w.config),
      apply: () => () => Promise.reject(new Error('killed')),
    };
    await expect(syncDestination(w.store, w.state, 'crm', killed, noWait)).rejects.toThrow('killed');
    expect((await logOf(w.store, 'p1')).map((x) => x.outcome)).toEqual([{ status: 'pending' }]);
    expect((await explained(w.store, 'p1')).pending).toHaveLength(1);
    await w.synced({ isAlive: () => false });
    const [first, second] = await logOf(w.store, 'p1');
    expect(first?.outcome).toMatchObject({ status: 'superseded', by: second?.commandId });
    expect(second?.outcome).toMatchObject({ status: 'applied' });
  });
});

describe('reasons for skips', () => {
  it('given two profiles with one email, a profile without one, and an enrich destination without bob, then each skip says why', async () => {
    const w = await givenEngine(destination({ mode: 'sync', collection: everyone }));
    await ingest(w, ann, created('p2', { email: 'ann@x.io' }), created('p3', { firstName: 'Nokey' }));
    await w.synced();
    const reason = async (pid: string) =>
      (await explained(w.store, pid)).timeline.find((i) => i.kind === 'decision')?.summary;
    expect(await reason('p2')).toBe('skipped: key ann@x.io is also claimed by p1');
    expect(await reason('p3')).toBe('skipped: no value for key field email');

    const e = await givenEngine(destination({ mode: 'enrich', collection: everyone }));
    await ingest(e, created('p9', { email: 'bob@x.io' }));
    await e.synced();
    expect((await explained(e.store, 'p9')).timeline.find((i) => i.kind === 'decision')?.summary).toBe(
      'not created: enrich mode does not create, and no record with key bob@x.io exists',
    );
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
    readAll: (after, size) => (counts.readAll++, count(store.readAll(after, size))),
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
