// Runs the EventStore contract against both built-in adapters: memory, and SQLite on temp files.
// Each SQLite test gets its own file so no test can see another's events.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import { openMemoryEventStore } from '../adapters/stores/memory.js';
import { openSqliteStore } from '../adapters/stores/sqlite/store.js';
import { eventStoreContract } from './contract/eventStore.js';

eventStoreContract('memory', openMemoryEventStore);

const directory = mkdtempSync(join(tmpdir(), 'syncline-store-contract-'));
let files = 0;
eventStoreContract(
  'sqlite',
  () => {
    files += 1;
    // A short poll keeps the subscription specs quick without changing what they check.
    const opened = openSqliteStore(join(directory, `store-${files}.db`), { pollIntervalMs: 20 });
    if (E.isLeft(opened)) throw new Error(opened.left.message);
    return opened.right;
  },
  () => rmSync(directory, { recursive: true, force: true }),
);
