// A destination that lost the records syncline wrote there (its file deleted, its table emptied):
// the next run looks at every profile and writes them again, and says why; a partial loss is only
// reported, since records deleted at a destination on purpose are the destination's business.
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import { describe, expect, it } from 'vitest';
import { sqliteDestinationType } from '../adapters/destinations/sqlite/destination.js';
import { planDestination } from '../engine/sync/plan.js';
import { holdingOf, lostEverything, missingRecords } from '../engine/sync/lost.js';
import * as TE from 'fp-ts/lib/TaskEither.js';
import { givenEngine, noWait } from './support/engine.js';
import { changed, created, destination } from './support/given.js';

const people = Array.from({ length: 12 }, (_, i) =>
  created(`p${String(i).padStart(2, '0')}`, { email: `p${i}@x.io`, firstName: `P${i}` }),
);

const givenSyncedTwelve = async () => {
  const w = await givenEngine(destination({ mode: 'sync' }));
  await w.happen(...people);
  await w.synced();
  return w;
};

describe('a destination that lost every record', () => {
  it('given twelve profiles synced and the destination emptied, when a run of changes syncs, then it looks at everyone, writes the twelve again and says why', async () => {
    const w = await givenSyncedTwelve();
    w.destination.forget();
    await w.happen(changed('p00', { firstName: 'Zed' }));
    const run = await w.synced();
    expect(run.reason).toBe('records-lost');
    expect(run.notice).toBe(
      'the destination holds no records although syncline wrote 12 records there: this run looks at every profile and writes them again',
    );
    expect(run.considered).toBe(12);
    expect(run.totals.created).toBe(12);
    expect(w.records()).toHaveLength(12);
    const again = await w.synced();
    expect(again.reason).toBe('changes');
    expect(again.considered).toBe(0);
  });

  it('given the destination emptied, when planned, then the plan looks at everyone as the sync would', async () => {
    const w = await givenSyncedTwelve();
    w.destination.forget();
    const v = w.state.destinations.get('crm');
    const plan = await planDestination(w.state, 'crm', w.destination.destination(w.config), {
      batchSize: 5,
      full: false,
      delivery: noWait.delivery,
    });
    if (E.isLeft(plan)) throw new Error(JSON.stringify(plan.left));
    expect(v?.ledger.entries.size).toBe(12);
    expect(plan.right.reason).toBe('records-lost');
    expect(plan.right.decisions.map((d) => d.operation)).toStrictEqual(Array(12).fill('create'));
  });

  it('given some records gone but not all, when a run of changes syncs, then it stays a run of changes', async () => {
    const w = await givenSyncedTwelve();
    const kept = w.records().slice(0, 5);
    w.destination.forget();
    w.destination.seed(kept);
    const run = await w.synced();
    expect(run.reason).toBe('changes');
    expect(run.notice).toBeUndefined();
    expect(run.considered).toBe(0);
  });
});

describe('the words for what a destination holds', () => {
  it('given the counts, then only none held of some written is lost everything, and fewer held is missing records', () => {
    expect(lostEverything({ held: null, written: 3 })).toBe(
      'the destination has no table (or file) for its records although syncline wrote 3 records there: this run looks at every profile and writes them again',
    );
    expect(lostEverything({ held: 0, written: 1 })).toContain(
      'holds no records although syncline wrote 1 record there',
    );
    expect(lostEverything({ held: 0, written: 0 })).toBeUndefined();
    expect(lostEverything({ held: 1, written: 3 })).toBeUndefined();
    expect(lostEverything(undefined)).toBeUndefined();
    expect([
      missingRecords({ held: 1, written: 3 }),
      missingRecords({ held: null, written: 3 }),
      missingRecords({ held: 5, written: 3 }),
      missingRecords({ held: 3, written: 3 }),
      missingRecords({ held: 0, written: 0 }),
      missingRecords(undefined),
    ]).toStrictEqual([2, 3, undefined, undefined, undefined, undefined]);
  });
});

describe('counting a SQLite destination', () => {
  it('given a file that does not exist, when counted and looked up, then there is no table and no file is created; after an apply the count follows the rows', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'syncline-count-'));
    const path = join(dir, 'nested', 'crm.db');
    try {
      const opened = await sqliteDestinationType.open(
        { ...destination({ mode: 'sync' }), type: 'sqlite', options: { path, table: 'contacts' } },
        {},
      )();
      if (E.isLeft(opened)) throw new Error(opened.left.message);
      const d = opened.right;
      expect(await d.count?.()()).toStrictEqual(E.right(null));
      expect(await d.lookup(['a@x.io'])()).toStrictEqual(E.right([]));
      expect(existsSync(path)).toBe(false);
      const create = (key: string) => ({
        commandId: key,
        profileId: key,
        operation: 'create' as const,
        key,
        fields: { set: { email: key }, unset: [] },
        groups: { add: [], remove: [] },
      });
      await d.apply([create('a@x.io'), create('b@x.io'), create('c@x.io')])();
      expect(existsSync(path)).toBe(true);
      expect(await d.count?.()()).toStrictEqual(E.right(3));
      expect(await d.count?.(1)()).toStrictEqual(E.right(1));
      await d.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('asking a destination for its count', () => {
  const view = (written: number) => {
    const v = { ledger: { entries: new Map(Array.from({ length: written }, (_, i) => [`p${i}`, null])) } };
    return v as unknown as Parameters<typeof holdingOf>[1];
  };
  const base = {
    describe: () => {
      throw new Error('unused');
    },
    lookup: () => TE.right([]),
    apply: () => TE.right([]),
    close: () => Promise.resolve(),
  };

  it('given a destination that cannot count, then nothing is known and nothing is called', async () => {
    expect(await holdingOf(base, view(3))).toBeUndefined();
  });

  it('given a count that fails or rejects, then the check is skipped rather than the run', async () => {
    const failing = {
      ...base,
      count: () => TE.left({ _tag: 'DestinationMisconfigured' as const, message: 'no' }),
    };
    const rejecting = { ...base, count: () => () => Promise.reject(new Error('a bug')) };
    expect(await holdingOf(failing, view(3))).toBeUndefined();
    expect(await holdingOf(rejecting, view(3))).toBeUndefined();
  });

  it('given a count, then it is set beside the ledger’s entries, and atMost reaches the destination', async () => {
    const asked: (number | undefined)[] = [];
    const counting = { ...base, count: (atMost?: number) => (asked.push(atMost), TE.right(7)) };
    expect(await holdingOf(counting, view(3), 1)).toStrictEqual({ held: 7, written: 3 });
    expect(asked).toStrictEqual([1]);
  });
});
