// Runs the EventStore contract against KurrentDB through the official client: in CI against the
// stand-in server under test/kurrentdb/, and against a real server when SYNCLINE_KURRENTDB_URL names one.
import * as E from 'fp-ts/lib/Either.js';
import { afterAll, beforeAll, describe } from 'vitest';
import { openKurrentStore } from '../adapters/stores/kurrentdb/store.js';
import { parseKurrentUrl } from '../adapters/stores/kurrentdb/url.js';
import { eventStoreContract } from './contract/eventStore.js';
import { kurrentServer } from './support/kurrentdb.js';

describe('KurrentDB', () => {
  const server = kurrentServer();
  beforeAll(server.start);
  afterAll(server.stop);
  let stores = 0;
  eventStoreContract(
    `kurrentdb (${server.what})`,
    async () => {
      // Each test its own prefix: streams of earlier tests stay on the server and are filtered out.
      stores += 1;
      const location = parseKurrentUrl(
        server.url(`contract-${process.pid}-${Date.now().toString(36)}-${stores}-`),
      );
      if (E.isLeft(location)) throw new Error(location.left);
      const opened = await openKurrentStore(location.right);
      if (E.isLeft(opened)) throw new Error(opened.left.message);
      return opened.right;
    },
    undefined,
    { densePositions: false, appendAllInOneTransaction: false },
  );
});
