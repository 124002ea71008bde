// Runs the EventStore contract against PostgreSQL: each test in a schema of its own, dropped after
// the suite; skipped with one line where no server answers (and failing instead when CI=true).
import { describe } from 'vitest';
import * as E from 'fp-ts/lib/Either.js';
import { openPostgresStore } from '../adapters/stores/postgres/store.js';
import { parsePostgresUrl } from '../adapters/stores/postgres/url.js';
import { eventStoreContract } from './contract/eventStore.js';
import { dropSchemas, postgresAnswers, postgresStoreUrl } from './support/postgres.js';

describe.skipIf(!postgresAnswers)('PostgreSQL', () => {
  eventStoreContract(
    'postgres',
    async () => {
      const location = parsePostgresUrl(postgresStoreUrl());
      if (E.isLeft(location)) throw new Error(location.left);
      // A short poll keeps the subscription specs quick without changing what they check.
      const opened = await openPostgresStore(location.right, { pollIntervalMs: 50 });
      if (E.isLeft(opened)) throw new Error(opened.left.message);
      return opened.right;
    },
    () => dropSchemas(),
  );
});
