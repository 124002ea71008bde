// Engine specifications: given events in a store and a destination's records, when we sync, then
// the destination holds the right records, every decision is recorded, and a second sync does nothing.
import * as E from 'fp-ts/lib/Either.js';
import { describe, expect, it } from 'vitest';
import { MESSAGES } from '../domain/decision.js';
import { resultsOf, syncStream } from '../domain/syncEvents.js';
import { simulate } from '../engine/audit/simulate.js';
import { syncDestination } from '../engine/sync/run.js';
import { GATHER, gatherFor } from '../engine/sync/applying.js';
import { batchBounds } from '../engine/sync/batch.js';
import type { StoredEvent } from '../engine/ports.js';
import { givenEngine, noWait } from './support/engine.js';
import { notingDestination, notingStore } from './support/noting.js';
import {
  changed,
  created,
  deleted,
  destination,
  everyone,
  groupCreated,
  groupDeleted,
  inGroup,
  joined,
  left,
  record,
} from './support/given.js';

const ann = created('p1', { email: 'ann@x.io', firstName: 'Ann', lifetimeValue: 100 });
const bob = created('p2', { email: 'bob@x.io', firstName: 'Bob' });

const vip = () => [groupCreated('vip'), groupCreated('newsletter')];

describe('a first sync of a group collection', () => {
  it('given two VIP members in sync mode, when we sync, then both are created with their fields and managed groups', async () => {
    const w = await givenEngine(destination({ mode: 'sync', collection: inGroup('vip') }));
    await w.happen(...vip(), ann, bob, joined('p1', 'vip'), joined('p2', 'vip'), joined('p1', 'newsletter'));
    const run = await w.synced();
    expect(run.totals).toMatchObject({ created: 2, updated: 0, deleted: 0, skipped: {}, failed: 0 });
    expect(w.records()).toStrictEqual([
      record('ann@x.io', { email: 'ann@x.io', first_name: 'Ann', ltv: 100 }, ['Newsletter', 'VIP']),
      record('bob@x.io', { email: 'bob@x.io', first_name: 'Bob' }, ['VIP']),
    ]);
  });

  it('given a successful sync, when we sync again with no new events, then nothing is considered or decided', async () => {
    const w = await givenEngine(destination({ mode: 'sync', collection: inGroup('vip') }));
    await w.happen(...vip(), ann, joined('p1', 'vip'));
    await w.synced();
    const again = await w.synced();
    expect(again.considered).toBe(0);
    expect(again.totals).toMatchObject({ created: 0, updated: 0, deleted: 0, skipped: {}, failed: 0 });
  });

  it('given an enrich destination with one existing contact, when we sync, then only that contact is updated and the other is skipped with the exact message', async () => {
    const w = await givenEngine(destination({ mode: 'enrich', collection: inGroup('vip') }), [
      record('ann@x.io', { email: 'ann@x.io', first_name: 'Annie' }, ['Customers']),
    ]);
    await w.happen(...vip(), ann, bob, joined('p1', 'vip'), joined('p2', 'vip'));
    const run = await w.synced();
    expect(run.totals).toMatchObject({ created: 0, updated: 1, skipped: { [MESSAGES.noCreate]: 1 } });
    expect(w.records()).toStrictEqual([
      record('ann@x.io', { email: 'ann@x.io', first_name: 'Ann', ltv: 100 }, ['Customers', 'VIP']),
    ]);
  });
});

describe.each(['sync', 'additive', 'enrich'] as const)('the Grouparoo situations in %s mode', (mode) => {
  const seeded = mode === 'enrich' ? [record('ann@x.io', { email: 'ann@x.io' }, ['Customers'])] : [];

  it('given a synced member, when she leaves the group, then sync deletes her and the other modes remove only the managed groups', async () => {
    const w = await givenEngine(destination({ mode, collection: inGroup('vip') }), seeded);
    await w.happen(...vip(), ann, joined('p1', 'vip'), joined('p1', 'newsletter'));
    await w.synced();
    await w.happen(left('p1', 'vip'));
    const run = await w.synced();
    if (mode === 'sync') {
      expect(run.totals.deleted).toBe(1);
      expect(w.records()).toStrictEqual([]);
    } else {
      expect(run.totals.updated).toBe(1);
      const kept = mode === 'enrich' ? ['Customers'] : [];
      expect(w.records()).toStrictEqual([
        record('ann@x.io', { email: 'ann@x.io', first_name: 'Ann', ltv: 100 }, kept),
      ]);
    }
    expect(E.isRight(await w.sync()) && (await w.synced()).considered).toBe(0);
  });

  it('given a member who left, when she rejoins, then she is back in the destination with her groups', async () => {
    const w = await givenEngine(destination({ mode, collection: inGroup('vip') }), seeded);
    await w.happen(...vip(), ann, joined('p1', 'vip'));
    await w.synced();
    await w.happen(left('p1', 'vip'));
    await w.synced();
    await w.happen(joined('p1', 'vip'));
    await w.synced();
    const held = w.records().find((r) => r.key === 'ann@x.io');
    if (mode === 'sync' && seeded.length === 0) expect(held?.groups).toStrictEqual(['VIP']);
    else expect(held?.groups).toContain('VIP');
    expect(held?.fields).toMatchObject({ email: 'ann@x.io', first_name: 'Ann', ltv: 100 });
  });

  it('given a synced member, when her email changes, then the record is renamed and keeps every tag', async () => {
    const w = await givenEngine(destination({ mode, collection: inGroup('vip') }), seeded);
    await w.happen(...vip(), ann, joined('p1', 'vip'));
    await w.synced();
    await w.happen(changed('p1', { email: 'ann@new.io' }));
    const run = await w.synced();
    expect(run.totals.updated).toBe(1);
    const groups = mode === 'enrich' ? ['Customers', 'VIP'] : ['VIP'];
    expect(w.records()).toStrictEqual([
      record('ann@new.io', { email: 'ann@new.io', first_name: 'Ann', ltv: 100 }, groups),
    ]);
  });

  it('given a synced member, when the profile is deleted, then sync deletes the record and the other modes leave it without managed groups', async () => {
    const w = await givenEngine(destination({ mode, collection: { kind: 'all' } }), seeded);
    await w.happen(...vip(), ann, joined('p1', 'vip'));
    await w.synced();
    await w.happen(deleted('p1'));
    await w.synced();
    if (mode === 'sync') expect(w.records()).toStrictEqual([]);
    else expect(w.records().map((r) => r.groups)).toStrictEqual([mode === 'enrich' ? ['Customers'] : []]);
  });

  it('given the collection group is deleted, when we sync, then its members leave scope like leavers', async () => {
    const w = await givenEngine(destination({ mode, collection: inGroup('vip') }), seeded);
    await w.happen(...vip(), ann, joined('p1', 'vip'));
    await w.synced();
    await w.happen(groupDeleted('vip'));
    await w.synced();
    if (mode === 'sync') expect(w.records()).toStrictEqual([]);
    else expect(w.records()[0]?.groups.includes('VIP')).toBe(false);
  });

  it('given a record syncline never wrote, when its profile is out of scope, then it is never touched', async () => {
    const w = await givenEngine(destination({ mode, collection: inGroup('vip') }), [
      record('bob@x.io', { email: 'bob@x.io' }, ['VIP', 'Partners']),
    ]);
    await w.happen(...vip(), bob);
    const run = await w.synced();
    expect(run.totals).toMatchObject({ created: 0, updated: 0, deleted: 0, skipped: {} });
    expect(w.records()).toStrictEqual([record('bob@x.io', { email: 'bob@x.io' }, ['Partners', 'VIP'])]);
  });
});

describe('record ownership', () => {
  it('given a leaver whose record another profile took over, when the new owner renames it, then the leaver does not strip or delete it', async () => {
    const w = await givenEngine(destination({ mode: 'additive', collection: inGroup('vip') }));
    await w.happen(...vip(), ann, joined('p1', 'vip'));
    await w.synced();
    await w.happen(
      left('p1', 'vip'),
      created('p2', { email: 'ann@x.io', firstName: 'Anna' }),
      joined('p2', 'vip'),
    );
    await w.synced();
    expect(w.state.destinations.get('crm')?.ledger.entries.has('p1')).toBe(false);
    await w.happen(changed('p2', { email: 'anna@y.io' }));
    // A full pass puts the leaver in the same batch as the rename, where the two would collide.
    await w.synced({ full: true });
    expect(w.records()).toStrictEqual([
      record('anna@y.io', { email: 'anna@y.io', first_name: 'Anna', ltv: 100 }, ['VIP']),
    ]);
    expect((await w.synced()).considered).toBe(0);
  });
});

describe('the engine agrees with simulate', () => {
  it('given the same events and destination, when both decide, then the recorded decisions equal simulate()', async () => {
    const config = destination({ mode: 'additive', collection: inGroup('vip') });
    const seed = [record('ann@x.io', { email: 'ann@x.io', ltv: '100' }, ['Partners'])];
    const events = [
      ...vip(),
      ann,
      bob,
      created('p3', { firstName: 'NoMail' }),
      created('p4', { email: 'ann@x.io' }),
    ];
    const memberships = ['p1', 'p2', 'p3', 'p4'].map((p) => joined(p, 'vip'));
    const w = await givenEngine(config, seed);
    await w.happen(...events, ...memberships);
    await w.synced();
    const recorded = [];
    for await (const e of w.store.readStream(syncStream('crm'))) {
      if (e.type === 'BatchDecided')
        recorded.push(...(e.data as { decisions: { decision: unknown }[] }).decisions.map((d) => d.decision));
    }
    expect(recorded).toStrictEqual(
      simulate({ destination: config, events: [...events, ...memberships], observed: seed }, 'additive'),
    );
  });
});

describe('failures', () => {
  it('given a destination that fails twice with a retryable error, when we sync, then the command is retried with backoff and applied', async () => {
    const w = await givenEngine(destination({ mode: 'sync' }));
    await w.happen(ann);
    w.destination.failNextApplies('ann@x.io', 2, { retryable: true, message: 'timeout' });
    const sleeps: number[] = [];
    const run = await w.synced({
      delivery: {
        maxAttempts: 5,
        backoffMs: 100,
        maxWaits: 20,
        now: () => new Date(),
        sleep: (ms) => {
          sleeps.push(ms);
          return Promise.resolve();
        },
      },
    });
    expect(run.totals.created).toBe(1);
    expect(sleeps).toStrictEqual([100, 200]);
  });

  it('given a destination asking to wait, when we sync, then the waits do not count as attempts', async () => {
    const w = await givenEngine(destination({ mode: 'sync' }));
    await w.happen(ann);
    w.destination.failNextApplies('ann@x.io', 7, {
      retryable: true,
      message: 'rate limited',
      retryAfterMs: 1000,
    });
    const sleeps: number[] = [];
    const run = await w.synced({
      delivery: {
        maxAttempts: 5,
        backoffMs: 100,
        maxWaits: 20,
        now: () => new Date(),
        sleep: (ms) => {
          sleeps.push(ms);
          return Promise.resolve();
        },
      },
    });
    expect(run.totals.created).toBe(1);
    expect(sleeps).toStrictEqual(Array(7).fill(1000));
  });

  it('given a terminal error for one profile, when we sync, then it is recorded, the others are applied, and it waits for a change', async () => {
    const w = await givenEngine(destination({ mode: 'sync' }));
    await w.happen(ann, bob);
    w.destination.failNextApplies('ann@x.io', 1, { retryable: false, message: 'invalid email' });
    const run = await w.synced();
    expect(run.totals).toMatchObject({ created: 1, failed: 1 });
    expect(run.failures).toStrictEqual([
      expect.objectContaining({ profileId: 'p1', message: 'invalid email', retryable: false }),
    ]);
    expect((await w.synced()).considered).toBe(0);
    await w.happen(changed('p1', { firstName: 'Annie' }));
    expect((await w.synced()).totals.created).toBe(1);
    expect(w.records().map((r) => r.key)).toStrictEqual(['ann@x.io', 'bob@x.io']);
  });

  it('given retryable errors beyond five attempts, when we sync twice, then the second run picks the profile up again', async () => {
    const w = await givenEngine(destination({ mode: 'sync' }));
    await w.happen(ann);
    w.destination.failNextApplies('ann@x.io', 5, { retryable: true, message: 'timeout' });
    const first = await w.synced();
    expect(first.failures).toStrictEqual([expect.objectContaining({ profileId: 'p1', retryable: true })]);
    const second = await w.synced();
    expect(second.totals.created).toBe(1);
  });

  it('given a run recorded as open by a live process, when another sync starts, then it refuses naming that run', async () => {
    const w = await givenEngine(destination({ mode: 'sync' }));
    await w.happen(ann);
    await w.store.append([
      {
        stream: syncStream('crm'),
        expected: 'no-stream',
        events: [
          {
            type: 'RunStarted',
            data: {
              runId: 'run-a',
              destinationId: 'crm',
              position: 1,
              mode: 'sync',
              config: w.config,
              owner: { host: 'elsewhere', pid: 1 },
              startedAt: new Date().toISOString(),
            },
          },
        ],
      },
    ])();
    const r = await w.sync({ isAlive: () => true });
    expect(r).toStrictEqual(E.left({ _tag: 'Busy', destinationId: 'crm', runId: 'run-a' }));
    const recovered = await w.sync({ isAlive: () => false });
    expect(E.isRight(recovered) && recovered.right.totals.created).toBe(1);
  });
});

describe('applying while deciding', () => {
  it('given an apply that is still under way, when the run goes on, then later batches are looked up and recorded meanwhile, no second apply starts before it ends, and every outcome is recorded', async () => {
    const w = await givenEngine(destination({ mode: 'sync', collection: everyone }));
    const ids = Array.from({ length: 40 }, (_, i) => `p${String(i).padStart(2, '0')}`);
    await w.happen(...ids.map((id) => created(id, { email: `${id}@x.io` })));
    const real = w.destination.destination(w.config);
    const log: string[] = [];
    let release: () => void = () => undefined;
    const firstHeld = new Promise<void>((resolve) => (release = resolve));
    // The first apply is held until the run has looked up three batches and recorded two: what it
    // can do meanwhile (it looks one batch ahead of the one it records). A run that could not would
    // never release it, and the spec would time out.
    const noted = (line: string): void => {
      log.push(line);
      const count = (l: string) => log.filter((x) => x === l).length;
      if (count('lookup 10') >= 3 && count('record BatchDecided') >= 2) release();
    };
    let applies = 0;
    let open = 0;
    const held: typeof real = {
      ...notingDestination(real, { lookup: (keys) => noted(`lookup ${keys.length}`) }),
      apply: (commands) => async () => {
        open++;
        const n = ++applies;
        log.push(`apply ${n} starts (${open} open)`);
        if (n === 1) await firstHeld;
        const r = await real.apply(commands)();
        log.push(`apply ${n} ends`);
        open--;
        return r;
      },
    };
    const recording = notingStore(w.store, (e) => noted(`record ${e.type}`));
    const run = await syncDestination(recording, w.state, 'crm', held, {
      ...noWait,
      batchSize: 10,
      applyBatchSize: 10,
    });
    expect(E.isRight(run) && run.right.totals.created).toBe(40);
    // while the first batch's commands were being applied, the second batch was looked up and recorded,
    // and the third looked up ahead
    const whileHeld = log.slice(0, log.indexOf('apply 1 ends'));
    expect(whileHeld.filter((l) => l === 'lookup 10')).toHaveLength(3);
    expect(whileHeld.filter((l) => l === 'record BatchDecided')).toHaveLength(2);
    expect(log.filter((l) => l.includes('starts')).every((l) => l.endsWith('(1 open)'))).toBe(true);
    expect(applies).toBe(4);
    const applied: StoredEvent[] = [];
    for await (const e of w.store.readStream(syncStream('crm')))
      if (e.type === 'BatchApplied') applied.push(e);
    const outcomes = applied.flatMap((e) => resultsOf(e.data as Parameters<typeof resultsOf>[0]));
    expect(outcomes.filter((r) => r.status === 'ok')).toHaveLength(40);
    expect(w.records()).toHaveLength(40);
  });

  it('given a run of 400 profiles in batches of 10 and a destination that is always idle, when it syncs, then the destination gets its commands an eighth of the run at a time, and once fewer profiles than that are left to decide, each batch as it is recorded', async () => {
    const w = await givenEngine(destination({ mode: 'sync', collection: everyone }));
    const ids = Array.from({ length: 400 }, (_, i) => `p${String(i).padStart(3, '0')}`);
    await w.happen(...ids.map((id) => created(id, { email: `${id}@x.io` })));
    const sizes: number[] = [];
    const counted = notingDestination(w.destination.destination(w.config), {
      apply: (commands) => sizes.push(commands.length),
    });
    const run = await syncDestination(w.store, w.state, 'crm', counted, { ...noWait, batchSize: 10 });
    expect(E.isRight(run) && run.right.totals.created).toBe(400);
    expect(sizes).toStrictEqual([50, 50, 50, 50, 50, 50, 50, 10, 10, 10, 10, 10]);
    expect(w.records()).toHaveLength(400);
  });
});

describe('between runs', () => {
  it('given a run that applies commands, when it has recorded RunFinished, then the destination is asked to tidy up, once, after the last apply', async () => {
    const w = await givenEngine(destination({ mode: 'sync', collection: everyone }));
    await w.happen(ann, bob);
    const log: string[] = [];
    const noted = notingDestination(w.destination.destination(w.config), {
      apply: (commands) => log.push(`apply ${commands.length}`),
      tidy: () => log.push('tidy'),
    });
    const recording = notingStore(w.store, (e) => log.push(`record ${e.type}`));
    const run = await syncDestination(recording, w.state, 'crm', noted, noWait);
    expect(E.isRight(run) && run.right.totals.created).toBe(2);
    expect(log.filter((l) => l === 'tidy')).toHaveLength(1);
    expect(log.slice(-2)).toStrictEqual(['record RunFinished', 'tidy']);
    expect(log.indexOf('apply 2')).toBeLessThan(log.indexOf('tidy'));
  });
});

describe('gathering and looking ahead in a small run', () => {
  it("given a run of 40 profiles in batches of 10 where 3 of each batch have no email, when it syncs, then each batch's 7 commands are handed to the idle destination as soon as they are recorded", async () => {
    const w = await givenEngine(destination({ mode: 'sync', collection: everyone }));
    const ids = Array.from({ length: 40 }, (_, i) => `p${String(i).padStart(2, '0')}`);
    // with no email a profile gets a skip, which is recorded but never applied
    await w.happen(...ids.map((id, i) => created(id, i % 10 < 3 ? {} : { email: `${id}@x.io` })));
    const sizes: number[] = [];
    const counted = notingDestination(w.destination.destination(w.config), {
      apply: (commands) => sizes.push(commands.length),
    });
    const run = await syncDestination(w.store, w.state, 'crm', counted, { ...noWait, batchSize: 10 });
    expect(E.isRight(run) && run.right.totals).toMatchObject({
      created: 28,
      skipped: { [MESSAGES.noKey('email')]: 12 },
    });
    expect(sizes).toStrictEqual([7, 7, 7, 7]);
  });

  it('given a run, when it starts, then its first batch is looked up before the run is recorded as started', async () => {
    const w = await givenEngine(destination({ mode: 'sync', collection: everyone }));
    await w.happen(ann, bob);
    const log: string[] = [];
    const looking = notingDestination(w.destination.destination(w.config), {
      lookup: (keys) => log.push(`lookup ${keys.join(' ')}`),
    });
    const recording = notingStore(w.store, (e) => log.push(`record ${e.type}`));
    const run = await syncDestination(recording, w.state, 'crm', looking, noWait);
    expect(E.isRight(run) && run.right.totals.created).toBe(2);
    expect(log.slice(0, 3)).toStrictEqual([
      'lookup ann@x.io bob@x.io',
      'record RunStarted',
      'record BatchDecided',
    ]);
  });
});

describe("a run's batches", () => {
  it('given 1,200 profiles and batches of 500, when they are synced, then the run looks up 125, 500, 450 and 125 profiles, and creates every one', async () => {
    const w = await givenEngine(destination({ mode: 'sync', collection: everyone }));
    const ids = Array.from({ length: 1200 }, (_, i) => `p${String(i).padStart(4, '0')}`);
    await w.happen(...ids.map((id) => created(id, { email: `${id}@x.io` })));
    const looked: number[] = [];
    const counted = notingDestination(w.destination.destination(w.config), {
      lookup: (keys) => looked.push(keys.length),
    });
    const run = await syncDestination(w.store, w.state, 'crm', counted, { ...noWait, batchSize: 500 });
    expect(E.isRight(run) && run.right.totals.created).toBe(1200);
    expect(looked).toStrictEqual([125, 500, 450, 125]);
    expect(w.records()).toHaveLength(1200);
  });

  it('start and end with a quarter batch when a run has two to sixteen batches of 100 or more', () => {
    expect(batchBounds(2000, 500)).toStrictEqual([0, 125, 625, 1125, 1625, 1875, 2000]);
    expect(batchBounds(1001, 500)).toStrictEqual([0, 125, 625, 876, 1001]);
    expect(batchBounds(1000, 500)).toStrictEqual([0, 125, 625, 875, 1000]);
    expect(batchBounds(501, 500)).toStrictEqual([0, 125, 376, 501]);
    expect(batchBounds(500, 500)).toStrictEqual([0, 500]);
    expect(batchBounds(40, 10)).toStrictEqual([0, 10, 20, 30, 40]);
    expect(batchBounds(3, 500)).toStrictEqual([0, 3]);
    expect(batchBounds(0, 500)).toStrictEqual([0]);
    expect(batchBounds(8000, 500).slice(0, 3)).toStrictEqual([0, 125, 625]);
    expect(batchBounds(8001, 500).slice(0, 3)).toStrictEqual([0, 500, 1000]);
    expect(batchBounds(8001, 500)).toHaveLength(18);
  });
});

describe('how many commands an idle destination waits for', () => {
  it('is nothing for a short run of up to sixteen batches, which hands each batch over at once', () => {
    expect(gatherFor(2000, 500, 20_000)).toBe(1);
    expect(gatherFor(30, 500, 20_000)).toBe(1);
    expect(gatherFor(8000, 500, 20_000)).toBe(1);
  });

  it('is an eighth of a longer run, so it hands over its first commands while it decides', () => {
    expect(gatherFor(8001, 500, 20_000)).toBe(1001);
    expect(gatherFor(10_000, 500, 20_000)).toBe(1250);
    expect(gatherFor(400, 10, 20_000)).toBe(50);
  });

  it('is at most GATHER for a large run, and never more than one call may hold', () => {
    expect(gatherFor(1_000_000, 500, 20_000)).toBe(GATHER);
    expect(gatherFor(1_000_000, 500, 1000)).toBe(1000);
    expect(gatherFor(1_000_000, 500, 1)).toBe(1);
  });
});
