// Shared values by sets of names: what the ledger's compact entries rely on is one value per set,
// whatever order its names come in, built once, and never one set's value for another set.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { interned, interner } from '../projections/interned.js';

describe('interned sets of names', () => {
  it('given names asked for in any order and repetition, then each set gets one value, built once from its sorted names', () => {
    const names = fc.uniqueArray(fc.constantFrom('a', 'b', 'c', 'd'), { maxLength: 4 });
    fc.assert(
      fc.property(fc.array(names, { maxLength: 30 }), (asks) => {
        const built: string[][] = [];
        const i = interner((sorted) => (built.push(sorted), { sorted }));
        const bySet = new Map<string, unknown>();
        for (const ask of asks) {
          const set = [...ask].sort().join(',');
          const value = interned(i, ask);
          expect(value).toStrictEqual({ sorted: [...ask].sort() });
          if (bySet.has(set)) expect(value).toBe(bySet.get(set));
          bySet.set(set, value);
        }
        expect(built.map((b) => b.join(',')).sort()).toStrictEqual([...bySet.keys()].sort());
      }),
    );
  });
});
