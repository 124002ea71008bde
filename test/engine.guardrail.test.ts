// The delete guardrail and the mode-migration preview: a run that would delete more than the limit
// is refused before anything is recorded or applied, and plan shows what another mode would do.
import * as E from 'fp-ts/lib/Either.js';
import { describe, expect, it } from 'vitest';
import { syncStream } from '../domain/syncEvents.js';
import { defaultDelivery } from '../engine/sync/deliver.js';
import { defaultMaxDeletes } from '../engine/sync/guardrail.js';
import { planDestination } from '../engine/sync/plan.js';
import type { Destination } from '../engine/ports.js';
import { syncDestination } from '../engine/sync/run.js';
import { givenEngine, noWait } from './support/engine.js';
import { created, destination, groupCreated, inGroup, joined, left } from './support/given.js';

const members = (n: number) =>
  Array.from({ length: n }, (_, i) => [
    created(`p${i}`, { email: `m${i}@x.io` }),
    joined(`p${i}`, 'vip'),
  ]).flat();

describe('the delete guardrail', () => {
  it('given the default limit, then it is the larger of 10 and a quarter of the records syncline owns', () => {
    expect(defaultMaxDeletes(0)).toBe(10);
    expect(defaultMaxDeletes(39)).toBe(10);
    expect(defaultMaxDeletes(400)).toBe(100);
  });

  it('given 20 synced members who all leave, when we sync, then the run is refused, nothing is recorded and nothing deleted', async () => {
    const w = await givenEngine(destination({ mode: 'sync', collection: inGroup('vip') }));
    await w.happen(groupCreated('vip'), ...members(20));
    await w.synced();
    await w.happen(...Array.from({ length: 20 }, (_, i) => left(`p${i}`, 'vip')));
    const revision = await w.store.streamRevision(syncStream('crm'));
    const r = await w.sync();
    expect(r).toStrictEqual(
      E.left({ _tag: 'TooManyDeletes', destinationId: 'crm', deletes: 20, limit: 10, owned: 20 }),
    );
    expect(w.records()).toHaveLength(20);
    expect(await w.store.streamRevision(syncStream('crm'))).toBe(revision);
  });

  it('given the same refusal, when we sync with --max-deletes 20, then the run goes ahead and deletes them', async () => {
    const w = await givenEngine(destination({ mode: 'sync', collection: inGroup('vip') }));
    await w.happen(groupCreated('vip'), ...members(20));
    await w.synced();
    await w.happen(...Array.from({ length: 20 }, (_, i) => left(`p${i}`, 'vip')));
    const run = await w.synced({ maxDeletes: 20 });
    expect(run.totals.deleted).toBe(20);
    expect(w.records()).toStrictEqual([]);
  });

  it('given leavers within the limit, when we sync, then they are deleted without asking', async () => {
    const w = await givenEngine(destination({ mode: 'sync', collection: inGroup('vip') }));
    await w.happen(groupCreated('vip'), ...members(20));
    await w.synced();
    await w.happen(left('p1', 'vip'), left('p2', 'vip'));
    expect((await w.synced()).totals.deleted).toBe(2);
  });

  it('given records that are already gone, when counting deletes, then only records still present count', async () => {
    const w = await givenEngine(destination({ mode: 'sync', collection: inGroup('vip') }));
    await w.happen(groupCreated('vip'), ...members(20));
    await w.synced();
    await w.happen(...Array.from({ length: 20 }, (_, i) => left(`p${i}`, 'vip')));
    const dest = w.destination.destination(w.config);
    await dest.apply(
      Array.from({ length: 15 }, (_, i) => ({
        commandId: `gone-${i}`,
        profileId: `p${i}`,
        operation: 'delete' as const,
        key: `m${i}@x.io`,
        fields: { set: {}, unset: [] },
        groups: { add: [], remove: [] },
      })),
    )();
    expect((await w.synced()).totals.deleted).toBe(5);
  });
});

describe('the delete guardrail over many records', () => {
  it('given 12,000 synced members of whom 11,000 leave, when we sync, with --full or not, then the destination is asked about them at most 10,000 keys at a time, and the refusal counts every one', async () => {
    const w = await givenEngine(destination({ mode: 'sync', collection: inGroup('vip') }));
    await w.happen(groupCreated('vip'), ...members(12_000));
    await w.synced();
    await w.happen(...Array.from({ length: 11_000 }, (_, i) => left(`p${i}`, 'vip')));
    const dest = w.destination.destination(w.config);
    const asked: number[] = [];
    const counting: Destination = {
      ...dest,
      lookup: (keys) => {
        asked.push(keys.length);
        return dest.lookup(keys);
      },
    };
    const r = await syncDestination(w.store, w.state, 'crm', counting, noWait);
    expect(r).toStrictEqual(
      E.left({ _tag: 'TooManyDeletes', destinationId: 'crm', deletes: 11_000, limit: 3_000, owned: 12_000 }),
    );
    expect(Math.max(...asked)).toBe(10_000);
    expect(asked.filter((n) => n > 500)).toStrictEqual([10_000, 1_000]);
    // A run over everyone looks at the ledger's entries instead of its candidates, to the same count.
    asked.length = 0;
    expect(await syncDestination(w.store, w.state, 'crm', counting, { ...noWait, full: true })).toStrictEqual(
      r,
    );
    expect(asked.filter((n) => n > 500)).toStrictEqual([10_000, 1_000]);
  });
});

describe('the mode-migration preview', () => {
  it('given an additive destination with leftover leavers, when we plan under sync, then it shows every leftover record deleted and writes nothing', async () => {
    const w = await givenEngine(destination({ mode: 'additive', collection: inGroup('vip') }));
    await w.happen(groupCreated('vip'), ...members(5));
    await w.synced();
    await w.happen(left('p1', 'vip'), left('p3', 'vip'));
    await w.synced();
    const head = await w.store.head();
    const plan = await planDestination(w.state, 'crm', w.destination.destination(w.config), {
      batchSize: 500,
      full: false,
      mode: 'sync',
      delivery: defaultDelivery,
    });
    expect(
      E.isRight(plan) && plan.right.decisions.map((d) => [d.profileId, d.operation, d.key]),
    ).toStrictEqual([
      ['p1', 'delete', 'm1@x.io'],
      ['p3', 'delete', 'm3@x.io'],
    ]);
    expect(await w.store.head()).toBe(head);
    expect(w.records()).toHaveLength(5);
  });
});

describe('retry', () => {
  it('given a terminal failure, when retry is requested, then the next sync reconciles that profile from its current state', async () => {
    const { requestRetry } = await import('../engine/sync/retry.js');
    const w = await givenEngine(destination({ mode: 'sync' }));
    await w.happen(created('p1', { email: 'ann@x.io', firstName: 'Ann' }));
    w.destination.failNextApplies('ann@x.io', 1, { retryable: false, message: 'invalid' });
    expect((await w.synced()).totals.failed).toBe(1);
    expect((await w.synced()).considered).toBe(0);
    const r = await requestRetry(w.store, w.state, 'crm', undefined);
    expect(r).toStrictEqual(E.right({ profileIds: ['p1'], commands: 1 }));
    const run = await w.synced();
    expect(run.totals.created).toBe(1);
    expect(w.state.destinations.get('crm')?.ledger.failures.size).toBe(0);
    expect(await requestRetry(w.store, w.state, 'crm', undefined)).toStrictEqual(
      E.right({ profileIds: [], commands: 0 }),
    );
  });

  it('given a failure before --since, when retry is requested since later, then it is not included', async () => {
    const { requestRetry } = await import('../engine/sync/retry.js');
    const w = await givenEngine(destination({ mode: 'sync' }));
    await w.happen(created('p1', { email: 'ann@x.io' }));
    w.destination.failNextApplies('ann@x.io', 1, { retryable: false, message: 'invalid' });
    await w.synced();
    const r = await requestRetry(w.store, w.state, 'crm', new Date(Date.now() + 60_000).toISOString());
    expect(r).toStrictEqual(E.right({ profileIds: [], commands: 0 }));
  });
});
