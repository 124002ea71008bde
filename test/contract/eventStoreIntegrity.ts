// The integrity half of the EventStore contract: a store in good order says it is sound, names how
// it checked, and refuses only when it cannot check at all. Registered by eventStoreContract.
import { describe, expect, it } from 'vitest';
import type { EventStore } from '../../engine/ports.js';
import { appended, failure, success } from './eventStoreHelpers.js';

export const integritySpecs = (current: () => EventStore): void => {
  describe('checking its storage (checkIntegrity)', () => {
    it('given an empty store, when checked, then it is sound and says how it checked', async () => {
      const integrity = await success(current().checkIntegrity());
      expect(integrity.findings).toStrictEqual([]);
      expect(integrity.check).not.toBe('');
    });

    it('given events in several streams and a checkpoint, when checked, then it is sound', async () => {
      const store = current();
      await appended(store, 'a', 30);
      await appended(store, 'b', 5);
      await success(store.setCheckpoint('reader', null, 35));
      expect((await success(store.checkIntegrity())).findings).toStrictEqual([]);
    });

    it('given a closed store, when checked, then the check is refused as StoreUnavailable', async () => {
      const store = current();
      await store.close();
      expect(await failure(store.checkIntegrity())).toMatchObject({ _tag: 'StoreUnavailable' });
    });
  });
};
