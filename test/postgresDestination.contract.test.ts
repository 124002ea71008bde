// The Destination contract (test/contract/destination.ts) against the postgres destination type, each
// test in a schema of its own on the test server, dropped after; skipped (with a reason) without one.
import { afterAll, describe } from 'vitest';
import { postgresDestinationType } from '../adapters/destinations/postgres/destination.js';
import { destinationContract } from './contract/destination.js';
import { dropSchemas, freshSchema, onServer, POSTGRES_URL, postgresAnswers } from './support/postgres.js';

describe.skipIf(!postgresAnswers)('the postgres destination type', () => {
  afterAll(() => dropSchemas());

  destinationContract('postgres', async (config) => {
    const schema = freshSchema();
    const opened = await postgresDestinationType.open(
      { ...config, type: 'postgres', options: { connection: POSTGRES_URL, schema, table: 'contacts' } },
      {},
    )();
    if (opened._tag === 'Left') throw new Error(opened.left.message);
    const destination = opened.right;
    return {
      destination,
      cleanup: async () => {
        await destination.close();
        await onServer(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      },
    };
  });
});
