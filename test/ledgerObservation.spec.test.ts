// A destination that cannot be asked what it holds (an http receiver with "lookup": false): given
// runs into it, when the engine decides, then what syncline last wrote there stands for its records.
import * as E from 'fp-ts/lib/Either.js';
import { describe, expect, it } from 'vitest';
import type { DestinationConfig } from '../domain/destination.js';
import type { Destination } from '../engine/ports.js';
import { applyStored, catchUp } from '../engine/state/engineState.js';
import { collect } from './contract/eventStoreHelpers.js';
import { projectionsOf } from './support/stateProjections.js';
import { opened, saved, stateDirPerSpec } from './support/stateFiles.js';
import { planDestination } from '../engine/sync/plan.js';
import { syncDestination } from '../engine/sync/run.js';
import { givenEngine, noWait, type EngineWorld } from './support/engine.js';
import {
  changed,
  created,
  deleted,
  destination,
  groupCreated,
  inGroup,
  joined,
  left,
  record,
} from './support/given.js';

/** The world's memory records behind a destination that observes the ledger and fails if looked up. */
const unasked = (w: EngineWorld, asked: string[][]): Destination => ({
  ...w.destination.destination(w.config),
  observes: 'ledger',
  lookup: (keys) => () => {
    asked.push([...keys]);
    return Promise.resolve(E.right([]));
  },
});

/** An http destination without lookups, as configured; the world's memory records stand behind it. */
const blind = (spec: Parameters<typeof destination>[0]): DestinationConfig => ({
  ...destination(spec),
  type: 'http',
  options: { url: 'http://127.0.0.1:9/hooks', lookup: false },
});

const syncBlind = async (w: EngineWorld, asked: string[][]) => {
  const r = await syncDestination(w.store, w.state, w.config.destinationId, unasked(w, asked), noWait);
  if (E.isLeft(r)) throw new Error(JSON.stringify(r.left));
  return r.right;
};

const dir = stateDirPerSpec();

const ann = created('p1', { email: 'ann@x.io', firstName: 'Ann', lifetimeValue: 100 });
const bob = created('p2', { email: 'bob@x.io', firstName: 'Bob' });

describe('a destination observed through the ledger', () => {
  it('given two members synced, when one changes, then only the change is sent, and the destination is never asked', async () => {
    const asked: string[][] = [];
    const w = await givenEngine(blind({ mode: 'sync', collection: inGroup('vip') }));
    await w.happen(groupCreated('vip'), ann, bob, joined('p1', 'vip'), joined('p2', 'vip'));
    expect((await syncBlind(w, asked)).totals).toMatchObject({ created: 2, updated: 0 });
    await w.happen(changed('p1', { firstName: 'Annie' }));
    const run = await syncBlind(w, asked);
    expect(run.considered).toBe(1);
    expect(run.totals).toMatchObject({ created: 0, updated: 1, deleted: 0, failed: 0 });
    const sent = w.destination.applied().at(-1);
    expect(sent?.fields).toStrictEqual({ set: { first_name: 'Annie' }, unset: [] });
    expect(w.records()).toStrictEqual([
      record('ann@x.io', { email: 'ann@x.io', first_name: 'Annie', ltv: 100 }, ['VIP']),
      record('bob@x.io', { email: 'bob@x.io', first_name: 'Bob' }, ['VIP']),
    ]);
    expect(asked).toStrictEqual([]);
  });

  it('given a synced destination, when we sync again with --full, then every profile is looked at and nothing is decided', async () => {
    const w = await givenEngine(blind({ mode: 'sync', collection: inGroup('vip') }));
    await w.happen(groupCreated('vip'), ann, bob, joined('p1', 'vip'), joined('p2', 'vip'));
    await syncBlind(w, []);
    const r = await syncDestination(w.store, w.state, 'crm', unasked(w, []), { ...noWait, full: true });
    if (E.isLeft(r)) throw new Error(JSON.stringify(r.left));
    expect(r.right.considered).toBe(2);
    expect(r.right.totals).toMatchObject({ created: 0, updated: 0, deleted: 0, failed: 0 });
  });

  it('given a member synced in sync mode, when she leaves, is renamed or is deleted, then the ledger says what to delete or move', async () => {
    const w = await givenEngine(blind({ mode: 'sync', collection: inGroup('vip') }));
    await w.happen(groupCreated('vip'), ann, bob, joined('p1', 'vip'), joined('p2', 'vip'));
    await syncBlind(w, []);
    await w.happen(left('p2', 'vip'), changed('p1', { email: 'ann@new.io' }));
    const run = await syncBlind(w, []);
    expect(run.totals).toMatchObject({ created: 0, updated: 1, deleted: 1, failed: 0 });
    expect(w.records()).toStrictEqual([
      record('ann@new.io', { email: 'ann@new.io', first_name: 'Ann', ltv: 100 }, ['VIP']),
    ]);
    await w.happen(deleted('p1'));
    expect((await syncBlind(w, [])).totals).toMatchObject({ deleted: 1 });
    expect(w.records()).toStrictEqual([]);
  });

  it('given a change made at the destination by someone else, when we sync, then it is not seen: the ledger is what syncline wrote', async () => {
    const w = await givenEngine(blind({ mode: 'sync' }));
    await w.happen(ann);
    await syncBlind(w, []);
    w.destination.seed([record('ann@x.io', { email: 'ann@x.io', first_name: 'Someone' }, [])]);
    const run = await syncDestination(w.store, w.state, 'crm', unasked(w, []), { ...noWait, full: true });
    expect(E.isRight(run) && run.right.totals).toMatchObject({ updated: 0 });
    expect(w.records()).toStrictEqual([record('ann@x.io', { email: 'ann@x.io', first_name: 'Someone' }, [])]);
  });

  it('given a leaver, when a plan is made, then it decides from the ledger too, never asking', async () => {
    const asked: string[][] = [];
    const w = await givenEngine(blind({ mode: 'sync', collection: inGroup('vip') }));
    await w.happen(groupCreated('vip'), ann, joined('p1', 'vip'));
    await syncBlind(w, asked);
    await w.happen(left('p1', 'vip'));
    await catchUp(w.store, w.state);
    const plan = await planDestination(w.state, 'crm', unasked(w, asked), {
      batchSize: 500,
      full: false,
      delivery: noWait.delivery,
    });
    if (E.isLeft(plan)) throw new Error(JSON.stringify(plan.left));
    expect(plan.right.decisions.map((d) => [d.operation, d.key])).toStrictEqual([['delete', 'ann@x.io']]);
    expect(asked).toStrictEqual([]);
  });

  it('given its runs folded into a state file, when the file is reopened, then the entries keep the values written, as the fold in memory does', async () => {
    const w = await givenEngine(blind({ mode: 'sync', collection: inGroup('vip') }));
    await w.happen(groupCreated('vip'), ann, bob, joined('p1', 'vip'), joined('p2', 'vip'));
    await syncBlind(w, []);
    await w.happen(changed('p1', { firstName: 'Annie' }));
    await syncBlind(w, []);
    const path = dir.path('state.db');
    const { file } = await opened(path, w.store);
    for (const e of await collect(w.store.readAll())) applyStored(file.state, e);
    expect(saved(file)).toBe('saved');
    file.close();
    const again = (await opened(path, w.store)).file;
    expect(again.state.destinations.get('crm')?.ledger.entries.get('p1')).toStrictEqual({
      profileId: 'p1',
      key: 'ann@x.io',
      fields: { email: 'ann@x.io', first_name: 'Annie', ltv: 100 },
      groups: ['VIP'],
    });
    expect(projectionsOf(again.state)).toStrictEqual(projectionsOf(w.state));
    again.close();
  });

  it('given a run that crashed after the receiver applied a change, when the change is undone and we sync, then the unsettled command is sent again under its own id first, and the undo is sent', async () => {
    const w = await givenEngine(blind({ mode: 'sync' }));
    await w.happen(ann);
    await syncBlind(w, []);
    await w.happen(changed('p1', { firstName: 'Annie' }));
    // The receiver applies the change; the process dies before its outcome is recorded.
    const dying: Destination = {
      ...unasked(w, []),
      apply: (commands) => async () => {
        await w.destination.destination(w.config).apply(commands)();
        throw new Error('killed');
      },
    };
    await expect(syncDestination(w.store, w.state, 'crm', dying, noWait)).rejects.toThrow('killed');
    const crashed = w.destination.applied().at(-1);
    expect(w.records()).toStrictEqual([
      record('ann@x.io', { email: 'ann@x.io', first_name: 'Annie', ltv: 100 }, []),
    ]);
    await w.happen(changed('p1', { firstName: 'Ann' }));
    const run = await syncBlind(w, []);
    expect(run.totals).toMatchObject({ updated: 2, failed: 0 });
    expect(
      w.destination
        .applied()
        .slice(-2)
        .map((c) => [c.commandId, c.fields.set]),
    ).toStrictEqual([
      [crashed?.commandId, { first_name: 'Annie' }],
      [expect.any(String), { first_name: 'Ann' }],
    ]);
    expect(w.records()).toStrictEqual([
      record('ann@x.io', { email: 'ann@x.io', first_name: 'Ann', ltv: 100 }, []),
    ]);
    // Its outcome is filed under the batch that decided it, where log and explain look.
    const events = await collect(w.store.readAll());
    const decidedAt = events.find(
      (e) => e.type === 'BatchDecided' && JSON.stringify(e.data).includes(crashed?.commandId ?? '?'),
    )?.position;
    const outcome = await collect(w.store.readTagged(`applied-crm@${decidedAt}`));
    expect(outcome.map((e) => e.type)).toStrictEqual(['BatchApplied']);
  });
});
