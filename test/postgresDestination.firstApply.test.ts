// A run looks the next batch up while it applies this one: while the first apply creates the tables
// in its transaction, lookups on other connections must see no table yet, not fail on a missing one.
import { afterAll, describe, expect, it } from 'vitest';
import { postgresDestinationType } from '../adapters/destinations/postgres/destination.js';
import { contractConfig, create } from './contract/destinationHelpers.js';
import { dropSchemas, freshSchema, POSTGRES_URL, postgresAnswers } from './support/postgres.js';

describe.skipIf(!postgresAnswers)('the postgres destination while its first apply creates its tables', () => {
  afterAll(() => dropSchemas());

  it('given no tables, when lookups run while the first apply is in flight, then each finds nothing or the committed rows, never an error, and the apply lands whole', async () => {
    const opened = await postgresDestinationType.open(
      {
        ...contractConfig,
        type: 'postgres',
        options: { connection: POSTGRES_URL, schema: freshSchema(), table: 'contacts' },
      },
      {},
    )();
    if (opened._tag === 'Left') throw new Error(opened.left.message);
    const d = opened.right;
    try {
      const keys = Array.from({ length: 3000 }, (_, i) => `p${i}@x.test`);
      let done = false;
      const applying = d
        .apply(keys.map((k) => create(k)))()
        .finally(() => (done = true));
      const seen: string[] = [];
      while (!done) {
        const r = await d.lookup(['later@x.test', keys[0] as string])();
        seen.push(r._tag === 'Left' ? r.left.message : `found ${r.right.length}`);
      }
      const outcomes = await applying;
      expect(outcomes._tag === 'Right' && outcomes.right.filter((o) => o.status !== 'ok')).toEqual([]);
      expect(seen.length).toBeGreaterThan(0);
      expect(seen.filter((s) => !s.startsWith('found'))).toEqual([]);
      const after = await d.lookup([keys[2999] as string])();
      expect(after._tag === 'Right' && after.right.map((r) => r.key)).toEqual([keys[2999]]);
    } finally {
      await d.close();
    }
  });
});
