// The SQLite store binds a large event's JSON in pieces that SQLite joins: the pieces must join to
// exactly what JSON.stringify writes, whatever the value.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { jsonPieces, SLICE } from '../adapters/stores/sqlite/jsonPieces.js';

const stringified = (value: unknown): string => JSON.stringify(value) ?? 'null';

describe('jsonPieces', () => {
  it('given any JSON value, when cut with any slice size, then the pieces join to JSON.stringify of it', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.integer({ min: 1, max: 4 }), (value, slice) => {
        expect(jsonPieces(value, slice).join('')).toBe(stringified(value));
      }),
      { numRuns: 300 },
    );
  });

  it('given objects whose top-level arrays are longer than the slice, when cut, then they come in several pieces that join to JSON.stringify of them', () => {
    const arrays = fc.array(fc.jsonValue({ maxDepth: 2 }), { minLength: 0, maxLength: 12 });
    const objects = fc.dictionary(fc.string(), fc.oneof(arrays, fc.jsonValue({ maxDepth: 2 })), {
      minKeys: 1,
    });
    fc.assert(
      fc.property(objects, fc.integer({ min: 1, max: 3 }), (value, slice) => {
        const pieces = jsonPieces(value, slice);
        const longest = Math.max(0, ...Object.values(value).map((v) => (Array.isArray(v) ? v.length : 0)));
        if (longest > slice) expect(pieces.length).toBeGreaterThan(1);
        expect(pieces.join('')).toBe(stringified(value));
      }),
      { numRuns: 300 },
    );
  });

  it('given what JSON.stringify leaves out or writes its own way, when cut, then the pieces do the same', () => {
    const long = Array.from({ length: 5 }, (_, i) => i);
    const cases: unknown[] = [
      { skipped: undefined, fn: () => 1, kept: long, after: 'x' },
      { arrayOfHoles: [undefined, () => 1, Symbol('s'), 1, 2], more: long },
      { '': long, '"quoted"': long, 'é\u2028': long },
      { date: new Date(0), list: long },
      Object.assign(Object.create(null) as object, { a: long, b: 1 }),
      { nested: { inner: long }, top: long },
      { empty: [], first: long },
      undefined,
      null,
      long,
    ];
    for (const value of cases) expect(jsonPieces(value, 2).join('')).toBe(stringified(value));
  });

  it('given a recorded batch of 500 decisions, when cut, then no piece holds more than a slice of them', () => {
    const decisions = Array.from({ length: 500 }, (_, i) => ({
      commandId: `c-${i}`,
      decision: { profileId: `p${i}`, operation: 'create', key: `k${i}@example.com` },
    }));
    const batch = { runId: 'r', profileIds: decisions.map((d) => d.decision.profileId), decisions };
    const pieces = jsonPieces(batch);
    expect(pieces.join('')).toBe(JSON.stringify(batch));
    // profileIds and decisions, each in 500 / SLICE slices with the text before each, then what
    // follows the last slice
    expect(pieces.length).toBe(2 * 2 * (500 / SLICE) + 1);
    const longestPiece = Math.max(...pieces.map((p) => p.length));
    expect(longestPiece).toBeLessThan(JSON.stringify(decisions.slice(500 - SLICE)).length + 100);
  });
});
