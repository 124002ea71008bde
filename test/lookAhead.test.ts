// Looking a batch up while the previous one is recorded: when lookups happen, and how a preparation
// made before that recording is made good against the ledger the recording left.
import * as E from 'fp-ts/lib/Either.js';
import { describe, expect, it } from 'vitest';
import type { ObservedRecord } from '../domain/decision.js';
import { keysOf, prepare } from '../engine/sync/batch.js';
import { resolveLookAhead, type LookAhead } from '../engine/sync/lookAhead.js';
import { syncDestination } from '../engine/sync/run.js';
import type { DestinationError } from '../engine/ports.js';
import { catchUp } from '../engine/state/engineState.js';
import { pendingMark } from '../projections/pending.js';
import { givenEngine, noWait } from './support/engine.js';
import { notingDestination, notingStore } from './support/noting.js';
import { changed, created, destination, everyone } from './support/given.js';

const rec = (key: string): ObservedRecord => ({ key, fields: { email: key }, groups: [] });

describe('looking up ahead', () => {
  it('given a run of three batches, when it records a batch, then the next batch has already been looked up', async () => {
    const w = await givenEngine(destination({ mode: 'sync', collection: everyone }));
    await w.happen(...['p1', 'p2', 'p3'].map((id) => created(id, { email: `${id}@x.io` })));
    const log: string[] = [];
    const logged = notingDestination(w.destination.destination(w.config), {
      lookup: (keys) => log.push(`lookup ${keys.join(' ')}`),
    });
    const recording = notingStore(w.store, (e) => {
      if (e.type === 'BatchDecided')
        log.push(`record ${(e.data as { profileIds: string[] }).profileIds.join(' ')}`);
    });
    const run = await syncDestination(recording, w.state, 'crm', logged, { ...noWait, batchSize: 1 });
    expect(E.isRight(run) && run.right.totals.created).toBe(3);
    expect(log).toStrictEqual([
      'lookup p1@x.io',
      'lookup p2@x.io',
      'record p1',
      'lookup p3@x.io',
      'record p2',
      'record p3',
    ]);
  });

  describe('a batch prepared before the previous one was recorded', () => {
    const world = async () => {
      const w = await givenEngine(destination({ mode: 'sync', collection: everyone }));
      await w.happen(created('p1', { email: 'p1@x.io' }), created('p2', { email: 'p2@x.io' }));
      await w.synced();
      // p1 moves to a new key: it looks up its new key and, from its ledger entry, its old one
      await w.happen(changed('p1', { email: 'new@x.io' }));
      await catchUp(w.store, w.state);
      const v = w.state.destinations.get('crm');
      if (!v || !v.config) throw new Error('no view');
      const batch = prepare(w.state, v, v.config, 'sync', ['p1', 'p2']);
      const ahead = (found: readonly ObservedRecord[], foreign = 0): LookAhead => ({
        index: 0,
        batch,
        keys: keysOf(batch),
        found: Promise.resolve(E.right(found)),
        foreign,
        taken: v.ledger.taken,
        decidedBefore: pendingMark(v.ledger.pending),
      });
      return { w, v, config: v.config, batch, ahead };
    };

    it('given nothing moved meanwhile, then it is decided as prepared, with what was looked up', async () => {
      const { w, v, config, batch, ahead } = await world();
      const found = [rec('p1@x.io'), rec('p2@x.io')];
      const r = await resolveLookAhead(ahead(found), 0, () => ahead([]), w.state, v, config, 'sync');
      expect(r).toStrictEqual(E.right({ batch, keys: ['new@x.io', 'p1@x.io', 'p2@x.io'], records: found }));
    });

    it('given an outcome meanwhile took a profile’s record (the owners rule), then that profile is prepared again without the key, and its record is left out of the observation', async () => {
      const { w, v, config, ahead } = await world();
      const a = ahead([rec('p1@x.io'), rec('p2@x.io')]);
      // as the fold of another profile's outcome for p1@x.io would leave the ledger
      v.ledger.entries.delete('p1');
      v.ledger.taken++;
      const r = await resolveLookAhead(a, 0, () => ahead([]), w.state, v, config, 'sync');
      if (E.isLeft(r)) throw new Error(r.left.message);
      expect(r.right.batch[0]?.input.ledger).toBeNull();
      expect(r.right.batch[0]?.keys).toStrictEqual(['new@x.io']);
      expect(r.right.batch[1]).toBe(a.batch[1]);
      expect(r.right.keys).toStrictEqual(['new@x.io', 'p2@x.io']);
      expect(r.right.records).toStrictEqual([rec('p2@x.io')]);
    });

    it('given events written by others were folded meanwhile, then the batch is prepared and looked up again', async () => {
      const { w, v, config, ahead } = await world();
      const again = ahead([rec('p2@x.io')], 1);
      const r = await resolveLookAhead(
        ahead([rec('p1@x.io')], 0),
        1,
        () => again,
        w.state,
        v,
        config,
        'sync',
      );
      expect(r).toStrictEqual(E.right({ batch: again.batch, keys: again.keys, records: [rec('p2@x.io')] }));
    });

    it('given the look-up failed, then that failure is what is observed', async () => {
      const { w, v, config, batch } = await world();
      const down: DestinationError = {
        _tag: 'DestinationUnavailable',
        message: 'destination down',
        retryable: true,
      };
      const failed: LookAhead = {
        index: 0,
        batch,
        keys: keysOf(batch),
        found: Promise.resolve(E.left(down)),
        foreign: 0,
        taken: 0,
        decidedBefore: 0,
      };
      expect(await resolveLookAhead(failed, 0, () => failed, w.state, v, config, 'sync')).toStrictEqual(
        E.left(down),
      );
    });
  });
});
