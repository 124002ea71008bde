// Which profiles a run looks at: given the world and a destination's ledger, when a run picks its
// candidates, then each comes once, in code-point order, whatever path picked it.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  candidates,
  compareIds,
  coverEveryEntry,
  sortIds,
  type Candidates,
} from '../engine/sync/candidates.js';
import { catchUp, type DestinationView, type OrderedKeys } from '../engine/state/engineState.js';
import { givenEngine, leftPending } from './support/engine.js';
import { changed, created, deleted, destination, everyone } from './support/given.js';

// Ids whose order differs from a naive or locale order: case, accents, astral characters, and one
// (U+FF5A) that comes after an astral one in code-unit order and before it in code-point order.
const IDS = ['p2', 'p10', 'Zed', 'adam', 'éva', '😀', 'ｚ', 'p1'];

/** Code-point order, spelt out: the ids as arrays of code points, compared element by element. */
const byCodePoints = (ids: readonly string[]): string[] =>
  [...ids].sort((a, b) => {
    const x = [...a].map((c) => c.codePointAt(0) as number);
    const y = [...b].map((c) => c.codePointAt(0) as number);
    for (let i = 0; i < Math.min(x.length, y.length); i++)
      if (x[i] !== y[i]) return (x[i] as number) - (y[i] as number);
    return x.length - y.length;
  });

/** Every candidate, taken in batches of `n` as a run takes them. */
const all = (picked: Candidates, n = 3): string[] => {
  const out: string[] = [];
  for (let ids = picked.take(n); ids.length > 0; ids = picked.take(n)) out.push(...ids);
  picked.close();
  return out;
};

describe('the candidates of a run', () => {
  it('given profiles never synced, when the first run picks its candidates, then every profile comes once, in code-point order', async () => {
    const w = await givenEngine(destination({ mode: 'sync', collection: everyone }));
    await w.happen(...IDS.map((id) => created(id, { email: `${id}@x.io` })));
    await catchUp(w.store, w.state);
    const picked = candidates(w.state, w.state.destinations.get(w.config.destinationId) as DestinationView);
    expect(picked.reason).toBe('first-run');
    expect(all(picked)).toStrictEqual(byCodePoints(IDS));
  });

  it('given a first run with a command left unsettled, when it picks its candidates, then the unsettled profile is among them once', async () => {
    const w = await givenEngine(destination({ mode: 'sync', collection: everyone }));
    await w.happen(...IDS.map((id) => created(id, { email: `${id}@x.io` })));
    await catchUp(w.store, w.state);
    const v = w.state.destinations.get(w.config.destinationId) as DestinationView;
    leftPending(v, 'éva');
    leftPending(v, 'ghost');
    const picked = candidates(w.state, v);
    expect(all(picked)).toStrictEqual(byCodePoints([...IDS, 'ghost']));
  });

  it('given a synced destination, when profiles change, are deleted or are left unsettled, then the run picks exactly those, once each, in order', async () => {
    const w = await givenEngine(destination({ mode: 'sync', collection: everyone }));
    await w.happen(...IDS.map((id) => created(id, { email: `${id}@x.io` })));
    await w.synced();
    await w.happen(
      changed('😀', { firstName: 'Smiley' }),
      deleted('Zed'),
      changed('adam', { firstName: 'A' }),
    );
    await catchUp(w.store, w.state);
    const v = w.state.destinations.get(w.config.destinationId) as DestinationView;
    leftPending(v, 'adam');
    leftPending(v, 'p10');
    const picked = candidates(w.state, v);
    expect(picked.reason).toBe('changes');
    expect(all(picked)).toStrictEqual(byCodePoints(['😀', 'Zed', 'adam', 'p10']));
  });

  it('given a full run of a synced destination, when it picks its candidates, then every profile, deleted ones included, comes once', async () => {
    const w = await givenEngine(destination({ mode: 'sync', collection: everyone }));
    await w.happen(...IDS.map((id) => created(id, { email: `${id}@x.io` })));
    await w.synced();
    await w.happen(deleted('p1'));
    await catchUp(w.store, w.state);
    const picked = candidates(
      w.state,
      w.state.destinations.get(w.config.destinationId) as DestinationView,
      true,
    );
    expect(picked.reason).toBe('full');
    expect(all(picked)).toStrictEqual(byCodePoints(IDS));
  });
});

describe('the order of candidates', () => {
  it('given any ids, when sorted for a run, then they are in code-point order, which compareIds agrees with', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: 'binary', maxLength: 4 }), { maxLength: 30 }), (ids) => {
        const expected = byCodePoints(ids);
        expect(sortIds([...ids])).toStrictEqual(expected);
        expect([...ids].sort(compareIds)).toStrictEqual(expected);
      }),
    );
  });

  it('given ids of plain characters, then the order is JavaScript`s own', () => {
    expect(sortIds(['b', 'B', 'a', 'é', 'ab'])).toStrictEqual(['B', 'a', 'ab', 'b', 'é']);
    expect(compareIds('ｚ', '😀')).toBeLessThan(0);
    expect(compareIds('😀', 'ｚ')).toBeGreaterThan(0);
    expect(compareIds('a', 'a')).toBe(0);
    // the edges of the ranges the two orders disagree on
    expect(compareIds('\ud7ff', '\ue000')).toBeLessThan(0);
    expect(compareIds('\ue000', '\u{10000}')).toBeLessThan(0);
    expect(compareIds('\uffff', '\u{10000}')).toBeLessThan(0);
    expect(compareIds('\u{10ffff}', '\uffff')).toBeGreaterThan(0);
    expect(sortIds(['\u{10000}', '\uffff', '\ue000', '\ud7ff'])).toStrictEqual([
      '\ud7ff',
      '\ue000',
      '\uffff',
      '\u{10000}',
    ]);
  });
});

describe('the candidates of a run over everyone, handed out from ordered keys', () => {
  /** Ordered keys over a sorted list, as a state on disk gives them, noting each call. */
  const orderedKeys = (keys: readonly string[]) => {
    const calls = { next: [] as number[], closed: 0 };
    let at = 0;
    const ordered: OrderedKeys = {
      count: keys.length,
      has: (key) => keys.includes(key),
      next: (n) => {
        calls.next.push(n);
        return keys.slice(at, (at += n));
      },
      close: () => void calls.closed++,
    };
    return { ordered, calls };
  };

  it('given any ordered keys and any owed profiles, some among them, when taken in batches of any size, then each comes once in code-point order, the count is theirs, and closing lets the keys go', async () => {
    const ids = fc.uniqueArray(fc.string({ unit: 'binary', minLength: 1, maxLength: 3 }), { maxLength: 40 });
    await fc.assert(
      fc.asyncProperty(
        ids,
        ids,
        fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 1 }),
        async (held, owedIds, sizes) => {
          const w = await givenEngine(destination({ mode: 'sync', collection: everyone }));
          const v = w.state.destinations.get(w.config.destinationId) as DestinationView;
          for (const id of owedIds) v.ledger.retryRequested.add(id);
          const keys = orderedKeys(sortIds([...held]));
          const s = { ...w.state, everyone: () => keys.ordered };
          const picked = candidates(s, v, true);
          const union = byCodePoints([...new Set([...held, ...owedIds])]);
          expect(picked.count).toBe(union.length);
          expect(coverEveryEntry(picked)).toBe(true);
          expect(picked.listed).toBeUndefined();
          const out: string[] = [];
          for (let i = 0; ; i++) {
            const n = sizes[i % sizes.length] as number;
            const batch = picked.take(n);
            expect(batch.length).toBeLessThanOrEqual(n);
            if (batch.length === 0) break;
            out.push(...batch);
          }
          expect(out).toStrictEqual(union);
          expect(picked.take(5)).toStrictEqual([]);
          expect(keys.calls.closed).toBe(0);
          picked.close();
          expect(keys.calls.closed).toBe(1);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('given a run over the changes, then its candidates are listed and do not stand for every entry; a run after a configuration change over everyone does', async () => {
    const w = await givenEngine(destination({ mode: 'sync', collection: everyone }));
    await w.happen(...IDS.map((id) => created(id, { email: `${id}@x.io` })));
    await w.synced();
    await w.happen(changed('adam', { firstName: 'A' }));
    await catchUp(w.store, w.state);
    const v = w.state.destinations.get(w.config.destinationId) as DestinationView;
    const changes = candidates(w.state, v);
    expect([changes.reason, coverEveryEntry(changes), changes.listed]).toStrictEqual([
      'changes',
      false,
      ['adam'],
    ]);
    await w.reconfigure({ ...w.config, mapping: { ...w.config.mapping, first: 'firstName' } });
    await catchUp(w.store, w.state);
    const reconfigured = candidates(w.state, v);
    expect([reconfigured.reason, coverEveryEntry(reconfigured), reconfigured.count]).toStrictEqual([
      'config-changed',
      true,
      IDS.length,
    ]);
  });
});
