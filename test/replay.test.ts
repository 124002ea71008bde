// Replay specifications: every run of a story recomputes to exactly what was recorded; a forged
// decision or an altered observation is caught and named; what-if modes list exactly what differs.
import * as E from 'fp-ts/lib/Either.js';
import { describe, expect, it } from 'vitest';
import { openMemoryEventStore } from '../adapters/stores/memory.js';
import { MESSAGES, type Decision } from '../domain/decision.js';
import type { SyncModeName } from '../domain/modes.js';
import { syncStream, type SyncEvent } from '../domain/syncEvents.js';
import type { EventStore, StoredEvent } from '../engine/ports.js';
import { replayDestination, type Replay, type ReplayOptions } from '../engine/audit/replay.js';
import { sentence } from '../engine/audit/replayDiff.js';
import type { RunSummary } from '../engine/sync/summary.js';
import { syncDestination } from '../engine/sync/run.js';
import { givenEngine, noWait, type EngineWorld } from './support/engine.js';
import {
  CRM_MAPPING,
  changed,
  created,
  deleted,
  destination,
  groupCreated,
  inGroup,
  joined,
  left,
  record,
  unsetProperties,
} from './support/given.js';

type BatchData = Extract<SyncEvent, { type: 'BatchDecided' }>['data'];
const NO_CHANGE = { fields: { set: {}, unset: [] }, groups: { add: [], remove: [] } };

const person = (id: string, name: string, extra: Record<string, string | number> = {}) =>
  created(id, { email: `${name.toLowerCase()}@x.io`, firstName: name, ...extra });

/**
 * Four rounds at a VIP destination: joins; an email change, a leaver, a deletion and a newcomer; a
 * rejoin under a config that maps one more field; a lost property and another leaver.
 */
const story = async (mode: SyncModeName): Promise<{ w: EngineWorld; runs: RunSummary[] }> => {
  const config = destination({ mode, collection: inGroup('vip') });
  // The destination already holds Ann (and a stranger), so enrich has someone to update.
  const w = await givenEngine(config, [
    record('ann@x.io', { email: 'ann@x.io', first_name: 'Annie' }, ['Partner']),
    record('zed@x.io', { email: 'zed@x.io' }, ['VIP']),
  ]);
  const runs: RunSummary[] = [];
  await w.happen(groupCreated('vip'), groupCreated('newsletter'));
  await w.happen(person('p1', 'Ann', { lifetimeValue: 100 }), person('p2', 'Bob'), person('p3', 'Cat'));
  await w.happen(person('p4', 'Dan'), joined('p1', 'newsletter'));
  await w.happen(...['p1', 'p2', 'p3', 'p4'].map((p) => joined(p, 'vip')));
  runs.push(await w.synced({ batchSize: 2 }));

  await w.happen(changed('p2', { email: 'bob@new.io' }), left('p3', 'vip'), deleted('p4'));
  await w.happen(person('p5', 'Eve'), joined('p5', 'vip'));
  runs.push(await w.synced({ batchSize: 2 }));

  await w.reconfigure({ ...config, mapping: { ...CRM_MAPPING, plan: 'plan' } });
  await w.happen(joined('p3', 'vip'), changed('p1', { plan: 'gold', firstName: 'Anne' }));
  runs.push(await w.synced({ batchSize: 2 }));

  await w.happen(unsetProperties('p1', 'plan'), left('p2', 'vip'));
  runs.push(await w.synced({ batchSize: 2 }));
  return { w, runs };
};

const replayed = async (store: EventStore, opts: ReplayOptions = {}): Promise<Replay> => {
  const r = await replayDestination(store, 'crm', opts);
  if (E.isLeft(r)) throw new Error(`replay failed: ${JSON.stringify(r.left)}`);
  return r.right;
};

const storedOf = async (store: EventStore): Promise<StoredEvent[]> => {
  const out: StoredEvent[] = [];
  for await (const e of store.readAll(0)) out.push(structuredClone(e));
  return out;
};

const batchesOf = async (store: EventStore): Promise<BatchData[]> =>
  (await storedOf(store)).filter((e) => e.type === 'BatchDecided').map((e) => e.data as BatchData);

/** A store holding the same events at the same positions, with `alter` applied to each event. */
const copyStore = async (events: readonly StoredEvent[], alter: (e: StoredEvent) => StoredEvent) => {
  const copy = openMemoryEventStore();
  for (const { stream, id, type, data, occurredAt } of events.map(alter))
    await copy.append([{ stream, events: [{ id, type, data, occurredAt }], expected: 'any' }])();
  return copy;
};

describe.each(['sync', 'additive', 'enrich'] as const)('verifying a %s story', (mode) => {
  it('given four rounds of joins, renames, leavers, a deletion, a rejoin and a config change, when replayed, then every decision of every run matches', async () => {
    const { w, runs } = await story(mode);
    const before = w.records();
    const r = await replayed(w.store, { verify: true });
    expect(r.verified).toBe(true);
    expect(r.runs.map((run) => [run.runId, run.mode, run.outcome, run.decisions])).toStrictEqual(
      runs.map((s) => [s.runId, mode, 'finished', s.considered]),
    );
    for (const run of r.runs) {
      expect(run.mismatches).toStrictEqual([]);
      expect(run.matched).toBe(run.decisions);
    }
    expect(w.records()).toStrictEqual(before);
  });
});

describe('verifying runs that crashed, failed and were settled', () => {
  it('given a run killed after applying but before recording the outcome, a terminal failure, and a leaver clearing it, when replayed, then every run matches, settlements and clearings included', async () => {
    const w = await givenEngine(destination({ mode: 'sync', collection: inGroup('vip') }));
    await w.happen(groupCreated('vip'), person('p1', 'Ann'), person('p2', 'Bob'));
    await w.happen(joined('p1', 'vip'), joined('p2', 'vip'));
    const live = w.destination.destination(w.config);
    // The process dies right after the destination applied Ann's create: no outcome recorded.
    const dying = {
      ...live,
      apply: (commands: Parameters<typeof live.apply>[0]) => async () => {
        await live.apply(commands)();
        throw new Error('killed');
      },
    };
    const crash = syncDestination(w.store, w.state, 'crm', dying, {
      ...noWait,
      batchSize: 1,
      applyBatchSize: 1,
    });
    await expect(crash).rejects.toThrow('killed');
    w.destination.failNextApplies('bob@x.io', 1, { retryable: false, message: 'rejected' });
    await w.synced({ isAlive: () => false });
    await w.happen(left('p2', 'vip'));
    await w.synced();

    const batches = await batchesOf(w.store);
    // The crashed run recorded Bob's batch while Ann's apply was under way: the next run confirms
    // Ann's create (the destination shows it) and supersedes Bob's (it never reached the destination).
    expect(batches.map((b) => [b.settled?.map((s) => s.status), b.cleared])).toStrictEqual([
      [undefined, undefined],
      [undefined, undefined],
      [['confirmed', 'superseded'], undefined],
      [undefined, ['p2']],
    ]);
    const r = await replayed(w.store);
    expect(r.runs.map((run) => [run.outcome, run.decisions, run.matched, run.mismatches])).toStrictEqual([
      ['unfinished', 2, 2, []],
      ['finished', 2, 2, []],
      ['finished', 1, 1, []],
    ]);
  });
});

describe('a forged or altered recording', () => {
  it('given a copy of a past batch with one decision changed appended to the stream, when replayed, then that decision is named with both versions', async () => {
    const { w, runs } = await story('sync');
    const original = (await batchesOf(w.store))[0] as BatchData;
    const forged = structuredClone(original);
    const p1 = forged.decisions.find((d) => d.decision.profileId === 'p1')?.decision as Decision;
    p1.fields.set.first_name = 'Mallory';
    const appended = await w.store.append([
      { stream: syncStream('crm'), events: [{ type: 'BatchDecided', data: forged }], expected: 'any' },
    ])();
    expect(E.isRight(appended)).toBe(true);

    const r = await replayed(w.store);
    const first = r.runs.find((run) => run.runId === runs[0]?.runId);
    expect(first?.mismatches).toContainEqual({
      position: original.position,
      profileId: 'p1',
      aspect: 'decision',
      recorded: p1,
      recomputed: original.decisions.find((d) => d.decision.profileId === 'p1')?.decision,
    });
    // The engine never records a batch decided before one it already wrote.
    expect(first?.mismatches.filter((m) => m.aspect === 'order')).toHaveLength(1);
    for (const run of r.runs.slice(1)) expect(run.mismatches).toStrictEqual([]);
  });

  it('given a new batch deleting a profile nobody asked to delete, when replayed, then the forged delete is named', async () => {
    const { w, runs } = await story('sync');
    const head = await w.store.head();
    const forged: BatchData = {
      runId: runs[3]?.runId as string,
      position: head,
      profileIds: ['p1'],
      keys: ['ann@x.io'],
      observed: w.records().filter((r) => r.key === 'ann@x.io'),
      decisions: [
        {
          commandId: 'forged',
          decision: { ...NO_CHANGE, profileId: 'p1', operation: 'delete', key: 'ann@x.io' },
        },
      ],
      decidedAt: new Date().toISOString(),
      unchanged: 0,
    };
    await w.store.append([
      { stream: syncStream('crm'), events: [{ type: 'BatchDecided', data: forged }], expected: 'any' },
    ])();

    const last = (await replayed(w.store)).runs[3];
    expect(last?.mismatches.map((m) => [m.profileId, m.aspect])).toStrictEqual([
      ['p1', 'decision'],
      [null, 'unchanged'],
    ]);
    expect(last?.mismatches[0]?.recomputed).toStrictEqual({
      profileId: 'p1',
      operation: 'nothing',
      reason: 'in-sync',
    });
    expect(last?.matched).toBe((last?.decisions ?? 0) - 1);
  });

  it('given a store whose recorded observation of Ann was altered, when replayed, then her decision no longer follows and is named', async () => {
    const { w, runs } = await story('enrich');
    const events = await storedOf(w.store);
    const altered = await copyStore(events, (e) => {
      const b = e.data as BatchData;
      if (e.type !== 'BatchDecided' || b.runId !== runs[0]?.runId || !b.profileIds.includes('p1')) return e;
      // As if the destination had not held Ann: enrich would then have skipped her.
      return { ...e, data: { ...b, observed: b.observed.filter((o) => o.key !== 'ann@x.io') } };
    });

    const first = (await replayed(altered)).runs[0];
    // Without her record, nothing was matched to her either: the batch's adoption no longer follows.
    expect(first?.mismatches.map((m) => [m.profileId, m.aspect])).toStrictEqual([
      ['p1', 'decision'],
      [null, 'adopted'],
    ]);
    expect(first?.mismatches[0]).toMatchObject({
      profileId: 'p1',
      aspect: 'decision',
      recorded: { operation: 'update', key: 'ann@x.io' },
      recomputed: { operation: 'skip', message: MESSAGES.noCreate },
    });
    expect((await replayed(w.store)).runs.every((run) => run.mismatches.length === 0)).toBe(true);
  });
});

/** Per run, the profiles each recorded batch skipped because the mode forbids creating. */
const skippedCreates = async (store: EventStore): Promise<string[][]> => {
  const byRun = new Map<string, string[]>();
  for (const b of await batchesOf(store)) {
    const list = byRun.get(b.runId) ?? [];
    for (const { decision } of b.decisions)
      if (decision.message === MESSAGES.noCreate) list.push(decision.profileId);
    byRun.set(b.runId, list);
  }
  return [...byRun.values()];
};

describe('what another mode would have done', () => {
  it('given runs made in enrich, when replayed as additive, then exactly the skipped creates are listed as creates', async () => {
    const { w } = await story('enrich');
    const r = await replayed(w.store, { mode: 'additive' });
    expect(r.verified).toBe(false);
    const listed = r.runs.map((run) => run.counterfactual?.differences.map((d) => d.profileId));
    expect(listed).toStrictEqual(await skippedCreates(w.store));
    expect(listed[0]).toStrictEqual(['p2', 'p3', 'p4']);
    for (const d of r.runs.flatMap((run) => run.counterfactual?.differences ?? [])) {
      expect(d.kind).toBe('created/skipped');
      expect(d.would.operation).toBe('create');
    }
    const counts = r.runs[0]?.counterfactual?.counts ?? [];
    expect(counts.map((c) => sentence(c, 'enrich'))).toStrictEqual([
      'would have created 3 profiles that enrich skipped',
    ]);
  });

  it('given runs made in additive, when replayed as sync, then exactly the kept leavers are listed as deletes', async () => {
    const { w } = await story('additive');
    const r = await replayed(w.store, { mode: 'sync' });
    // Round 2: Cat left and Dan was deleted; round 4: Bob left. Each was kept, out of the VIP list.
    // Round 3 looked at everyone (the config changed) and still found Dan's record: each run is
    // recomputed against what really happened before it, and additive had really kept him.
    expect(
      r.runs.map((run) => run.counterfactual?.differences.map((d) => [d.profileId, d.kind])),
    ).toStrictEqual([
      [],
      [
        ['p3', 'deleted/kept'],
        ['p4', 'deleted/kept'],
      ],
      [['p4', 'deleted/kept']],
      [['p2', 'deleted/kept']],
    ]);
    const counts = r.runs[1]?.counterfactual?.counts ?? [];
    expect(counts.map((c) => sentence(c, 'additive'))).toStrictEqual([
      'would have deleted 2 profiles that additive kept',
    ]);
  });

  it('given a config keyed on another field, when replayed with it, then profiles whose new key was never looked up are not observed rather than guessed', async () => {
    const { w } = await story('sync');
    const first = (await replayed(w.store, { config: { ...w.config, keyField: 'first_name' } })).runs[0];
    expect(first?.counterfactual?.notObserved.map((n) => n.profileId)).toStrictEqual([
      'p1',
      'p2',
      'p3',
      'p4',
    ]);
    expect(first?.counterfactual?.differences).toStrictEqual([]);
    expect(first?.counterfactual?.notes[0]).toMatch(/^the key differs/);
  });
});

describe('what a replay reads', () => {
  it("given another destination's record in the store, when one destination is replayed, then the other record is never read and each event of its own is read once", async () => {
    const { w } = await story('sync');
    const own: StoredEvent[] = [];
    for await (const e of w.store.readStream(syncStream('crm'))) own.push(e);
    // another destination's record: a copy of this one under another stream
    const copied = await w.store.append([
      {
        stream: syncStream('other'),
        expected: 'no-stream',
        events: own.map((e) => ({ type: e.type, data: e.data })),
      },
    ])();
    expect(E.isRight(copied)).toBe(true);
    const reads: StoredEvent[] = [];
    async function* seen(events: AsyncIterable<StoredEvent>) {
      for await (const e of events) {
        reads.push(e);
        yield e;
      }
    }
    const counting: EventStore = {
      ...w.store,
      readAll: (after, size, leaveOut) => seen(w.store.readAll(after, size, leaveOut)),
      readStream: (stream, from) => seen(w.store.readStream(stream, from)),
    };
    const r = await replayed(counting, { verify: true });
    expect(r.runs.length).toBeGreaterThan(0);
    for (const run of r.runs) expect(run.mismatches).toStrictEqual([]);
    expect(reads.filter((e) => e.stream === syncStream('other'))).toStrictEqual([]);
    const ownReads = reads.filter((e) => e.stream === syncStream('crm')).map((e) => e.position);
    expect(ownReads).toStrictEqual(own.map((e) => e.position));
  });
});

describe('choosing runs', () => {
  it('given a run id or a window, when replayed, then only the runs chosen are recomputed; an unknown id or destination is an error', async () => {
    const { w, runs } = await story('sync');
    const one = await replayed(w.store, { runs: { runId: runs[1]?.runId as string } });
    expect(one.runs.map((run) => run.runId)).toStrictEqual([runs[1]?.runId]);
    expect(one.runs[0]?.mismatches).toStrictEqual([]);
    expect((await replayed(w.store, { runs: { until: '2000-01-01T00:00:00.000Z' } })).runs).toStrictEqual([]);
    expect(await replayDestination(w.store, 'crm', { runs: { runId: 'nope' } })).toStrictEqual(
      E.left({ _tag: 'UnknownRun', destinationId: 'crm', runId: 'nope' }),
    );
    expect(await replayDestination(w.store, 'elsewhere')).toStrictEqual(
      E.left({ _tag: 'NoRuns', destinationId: 'elsewhere' }),
    );
  });
});
