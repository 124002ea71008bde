// Adoption specs: a record a sync finds already as the profile wants it, with no ledger entry saying
// syncline wrote it (a store that lost its newest commits, or a record that was there before), is
// taken into the ledger, so deleting the profile or changing its key later acts on that record.
import * as E from 'fp-ts/lib/Either.js';
import { describe, expect, it } from 'vitest';
import type { Adoption } from '../domain/adopt.js';
import { syncStream, type SyncEvent } from '../domain/syncEvents.js';
import { replayDestination } from '../engine/audit/replay.js';
import type { EngineWorld } from './support/engine.js';
import { givenEngine } from './support/engine.js';
import {
  changed,
  created,
  deleted,
  destination,
  groupCreated,
  inGroup,
  joined,
  record,
  unsetProperties,
} from './support/given.js';

const ann = created('p1', { email: 'ann@x.io', firstName: 'Ann', lifetimeValue: 100 });
const annAsWanted = record('ann@x.io', { email: 'ann@x.io', first_name: 'Ann', ltv: 100 }, ['VIP']);
const vip = [groupCreated('vip'), groupCreated('newsletter')];

/** A destination that holds ann's record although the store records no sync at all. */
const givenAnnsRecordWithoutLedger = async (
  mode: 'sync' | 'additive' | 'enrich',
  seed = annAsWanted,
): Promise<EngineWorld> => {
  const w = await givenEngine(destination({ mode, collection: inGroup('vip') }), [seed]);
  await w.happen(...vip, ann, joined('p1', 'vip'));
  return w;
};

const adoptedIn = async (w: EngineWorld): Promise<Adoption[]> => {
  const out: Adoption[] = [];
  for await (const e of w.store.readStream(syncStream('crm'))) {
    const event = { type: e.type, data: e.data } as SyncEvent;
    if (event.type === 'BatchDecided') out.push(...(event.data.adopted ?? []));
  }
  return out;
};

const entryOf = (w: EngineWorld, profileId: string) =>
  w.state.destinations.get('crm')?.ledger.entries.get(profileId);

describe('a record found in sync that the ledger does not hold', () => {
  it('given ann’s record as she wants it and no ledger entry, when we sync, then nothing is applied and the batch records the record as matched to her', async () => {
    const w = await givenAnnsRecordWithoutLedger('sync');
    const run = await w.synced();
    expect(run.totals).toMatchObject({ created: 0, updated: 0, deleted: 0, skipped: {}, unchanged: 1 });
    expect(await adoptedIn(w)).toStrictEqual([
      { profileId: 'p1', key: 'ann@x.io', fields: ['email', 'first_name', 'ltv'], groups: ['VIP'] },
    ]);
    expect(entryOf(w, 'p1')).toMatchObject({ key: 'ann@x.io', groups: ['VIP'] });
    expect(Object.keys(entryOf(w, 'p1')?.fields ?? {}).sort()).toStrictEqual(['email', 'first_name', 'ltv']);
  });

  it('given the matched record, when ann is deleted and we sync, then her record is deleted', async () => {
    const w = await givenAnnsRecordWithoutLedger('sync');
    await w.synced();
    await w.happen(deleted('p1'));
    const run = await w.synced();
    expect(run.totals.deleted).toBe(1);
    expect(w.records()).toStrictEqual([]);
  });

  it('given the matched record, when ann’s email (the key) changes and we sync, then the record is renamed, not joined by a second one', async () => {
    const w = await givenAnnsRecordWithoutLedger('sync');
    await w.synced();
    await w.happen(changed('p1', { email: 'ann@y.io' }));
    await w.synced();
    expect(w.records()).toStrictEqual([
      record('ann@y.io', { email: 'ann@y.io', first_name: 'Ann', ltv: 100 }, ['VIP']),
    ]);
  });

  it('given the matched record, when ann loses a mapped property, then the field is emptied as if syncline had written it', async () => {
    const w = await givenAnnsRecordWithoutLedger('sync');
    await w.synced();
    await w.happen(unsetProperties('p1', 'lifetimeValue'));
    await w.synced();
    // The memory destination drops a field it is told to unset.
    expect(w.records()).toStrictEqual([
      record('ann@x.io', { email: 'ann@x.io', first_name: 'Ann' }, ['VIP']),
    ]);
  });

  it('given an additive destination, when the matched ann leaves the group, then she is removed from its managed groups and left in place', async () => {
    const w = await givenAnnsRecordWithoutLedger('additive');
    await w.synced();
    await w.happen({ type: 'ProfileLeftGroup', data: { groupId: 'vip', profileId: 'p1' } });
    await w.synced();
    expect(w.records()).toStrictEqual([
      record('ann@x.io', { email: 'ann@x.io', first_name: 'Ann', ltv: 100 }, []),
    ]);
  });

  it('given a matched record, when we sync again (--full), then nothing is decided and nothing more is adopted', async () => {
    const w = await givenAnnsRecordWithoutLedger('sync');
    await w.synced();
    const again = await w.synced({ full: true });
    expect(again.considered).toBe(1);
    expect(again.totals).toMatchObject({ created: 0, updated: 0, deleted: 0, skipped: {}, unchanged: 1 });
    expect(await adoptedIn(w)).toHaveLength(1);
  });
});

describe('a record matched whether or not a field differed', () => {
  it.each(['sync', 'additive', 'enrich'] as const)(
    'given ann’s record in %s mode once exactly as wanted and once with a stale ltv, when each is synced, then the ledger ends with the same entry for her',
    async (mode) => {
      const exact = await givenAnnsRecordWithoutLedger(mode);
      const stale = await givenAnnsRecordWithoutLedger(mode, {
        ...annAsWanted,
        fields: { ...annAsWanted.fields, ltv: 5 },
      });
      await exact.synced();
      const run = await stale.synced();
      expect(run.totals.updated).toBe(1);
      expect(entryOf(stale, 'p1')).toStrictEqual(entryOf(exact, 'p1'));
      expect(stale.records()).toStrictEqual(exact.records());
    },
  );
});

describe('replaying runs that adopted records', () => {
  it('given a run that matched ann’s record, when its runs are verified, then every part, the adoption included, follows from the inputs', async () => {
    const w = await givenAnnsRecordWithoutLedger('sync');
    await w.synced();
    await w.happen(deleted('p1'));
    await w.synced();
    const replay = await replayDestination(w.store, 'crm', { verify: true });
    if (E.isLeft(replay)) throw new Error(JSON.stringify(replay.left));
    expect(replay.right.runs.map((r) => r.mismatches)).toStrictEqual([[], []]);
  });

  it('given a recorded adoption that was forged, when verified, then the batch is named with the adoption as the mismatch', async () => {
    const w = await givenAnnsRecordWithoutLedger('sync');
    await w.synced();
    // A batch recording an adoption no input gives: ann's record, already adopted, adopted again.
    // Each part is decided at the store position its run had folded (the start, then the start's own).
    const position = await w.store.head();
    const forged = await w.store.append([
      {
        stream: syncStream('crm'),
        expected: 'any',
        events: [
          {
            type: 'RunStarted',
            data: {
              runId: 'forged',
              destinationId: 'crm',
              position,
              mode: 'sync',
              config: w.config,
              owner: { host: 'h', pid: 1 },
              startedAt: '2026-01-01T00:00:00.000Z',
            },
          },
          {
            type: 'BatchDecided',
            data: {
              runId: 'forged',
              position: position + 1,
              profileIds: ['p1'],
              keys: ['ann@x.io'],
              observed: [annAsWanted],
              decisions: [],
              decidedAt: '2026-01-01T00:00:00.000Z',
              unchanged: 1,
              adopted: [{ profileId: 'p1', key: 'ann@x.io', fields: ['email'], groups: [] }],
            },
          },
        ],
      },
    ])();
    expect(E.isRight(forged)).toBe(true);
    const replay = await replayDestination(w.store, 'crm', { verify: true });
    if (E.isLeft(replay)) throw new Error(JSON.stringify(replay.left));
    const mismatches = replay.right.runs.flatMap((r) => r.mismatches);
    expect(mismatches.map((m) => m.aspect)).toStrictEqual(['adopted']);
  });
});
