// Runs the Destination contract (test/contract/destination.ts) against every destination adapter we
// ship: memory, and sqlite on a fresh file in a temporary directory per test.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openMemoryDestination } from '../adapters/destinations/memory.js';
import { sqliteDestinationType } from '../adapters/destinations/sqlite/destination.js';
import { destinationContract } from './contract/destination.js';

destinationContract('memory', (config) => {
  const { destination } = openMemoryDestination({ ...config, type: 'memory' });
  return Promise.resolve({ destination, cleanup: () => destination.close() });
});

destinationContract('sqlite', async (config) => {
  const dir = mkdtempSync(join(tmpdir(), 'syncline-destination-'));
  const opened = await sqliteDestinationType.open(
    { ...config, type: 'sqlite', options: { path: join(dir, 'contacts.db'), table: 'contacts' } },
    {},
  )();
  if (opened._tag === 'Left') throw new Error(opened.left.message);
  const destination = opened.right;
  return {
    destination,
    cleanup: async () => {
      await destination.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
