// The holders of a key, kept as a string for one and a Set for several: what claims and pending
// commands rely on is that holders come back once each, in the order they came, and are forgotten.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hold, holdersOf, letGo, type Holders } from '../projections/holders.js';

describe('holders of a key', () => {
  it('given holders added and removed in any order, then the key lists the remaining ones once each, in the order they came, and a key nobody holds is gone', () => {
    const step = fc.tuple(fc.boolean(), fc.constantFrom('a', 'b', 'c', 'd'));
    fc.assert(
      fc.property(fc.array(step, { maxLength: 30 }), (steps) => {
        const m: Holders = new Map();
        let model: string[] = [];
        for (const [adding, holder] of steps) {
          if (adding) {
            hold(m, 'k', holder);
            if (!model.includes(holder)) model.push(holder);
          } else {
            letGo(m, 'k', holder);
            model = model.filter((h) => h !== holder);
          }
          expect([...holdersOf(m, 'k')]).toStrictEqual(model);
          expect(m.has('k')).toBe(model.length > 0);
          // One holder is kept without a Set.
          if (model.length === 1) expect(m.get('k')).toBe(model[0]);
        }
      }),
    );
  });
});
