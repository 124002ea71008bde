// Which profiles a run looks at: given the world and a destination's ledger, when a run picks its
// candidates, then each comes once, in code-unit order, whatever path picked it.
import { describe, expect, it } from 'vitest';
import { candidates } from '../engine/sync/candidates.js';
import { catchUp, type DestinationView } from '../engine/state/engineState.js';
import { foldLedger } from '../projections/ledger.js';
import { compareStrings } from '../domain/values.js';
import { givenEngine } from './support/engine.js';
import { changed, created, deleted, destination, everyone } from './support/given.js';

// Ids whose code-unit order differs from a naive or locale order: case, accents, astral characters.
const IDS = ['p2', 'p10', 'Zed', 'adam', 'éva', '😀', 'ｚ', 'p1'];

const byCodeUnits = (ids: readonly string[]): string[] => [...ids].sort(compareStrings);

/** A command decided for `profileId` and never given an outcome, as a crash leaves it. */
const leftPending = (v: DestinationView, profileId: string): void => {
  foldLedger(v.ledger, {
    type: 'BatchDecided',
    data: {
      runId: 'crashed-run',
      position: 1,
      profileIds: [profileId],
      keys: [`${profileId}@x.io`],
      observed: [],
      decisions: [
        {
          commandId: `c-${profileId}`,
          decision: {
            profileId,
            operation: 'create',
            key: `${profileId}@x.io`,
            fields: { set: { email: `${profileId}@x.io` }, unset: [] },
            groups: { add: [], remove: [] },
          },
        },
      ],
      decidedAt: '2026-01-01T00:00:00.000Z',
      unchanged: 0,
    },
  });
};

describe('the candidates of a run', () => {
  it('given profiles never synced, when the first run picks its candidates, then every profile comes once, in code-unit order', async () => {
    const w = await givenEngine(destination({ mode: 'sync', collection: everyone }));
    await w.happen(...IDS.map((id) => created(id, { email: `${id}@x.io` })));
    await catchUp(w.store, w.state);
    const picked = candidates(w.state, w.state.destinations.get(w.config.destinationId) as DestinationView);
    expect(picked.reason).toBe('first-run');
    expect(picked.profileIds).toStrictEqual(byCodeUnits(IDS));
  });

  it('given a first run with a command left unsettled, when it picks its candidates, then the unsettled profile is among them once', async () => {
    const w = await givenEngine(destination({ mode: 'sync', collection: everyone }));
    await w.happen(...IDS.map((id) => created(id, { email: `${id}@x.io` })));
    await catchUp(w.store, w.state);
    const v = w.state.destinations.get(w.config.destinationId) as DestinationView;
    leftPending(v, 'éva');
    leftPending(v, 'ghost');
    const picked = candidates(w.state, v);
    expect(picked.profileIds).toStrictEqual(byCodeUnits([...IDS, 'ghost']));
  });

  it('given a synced destination, when profiles change, are deleted or are left unsettled, then the run picks exactly those, once each, in order', async () => {
    const w = await givenEngine(destination({ mode: 'sync', collection: everyone }));
    await w.happen(...IDS.map((id) => created(id, { email: `${id}@x.io` })));
    await w.synced();
    await w.happen(
      changed('😀', { firstName: 'Smiley' }),
      deleted('Zed'),
      changed('adam', { firstName: 'A' }),
    );
    await catchUp(w.store, w.state);
    const v = w.state.destinations.get(w.config.destinationId) as DestinationView;
    leftPending(v, 'adam');
    leftPending(v, 'p10');
    const picked = candidates(w.state, v);
    expect(picked.reason).toBe('changes');
    expect(picked.profileIds).toStrictEqual(byCodeUnits(['😀', 'Zed', 'adam', 'p10']));
  });

  it('given a full run of a synced destination, when it picks its candidates, then every profile, deleted ones included, comes once', async () => {
    const w = await givenEngine(destination({ mode: 'sync', collection: everyone }));
    await w.happen(...IDS.map((id) => created(id, { email: `${id}@x.io` })));
    await w.synced();
    await w.happen(deleted('p1'));
    await catchUp(w.store, w.state);
    const picked = candidates(
      w.state,
      w.state.destinations.get(w.config.destinationId) as DestinationView,
      true,
    );
    expect(picked.reason).toBe('full');
    expect(picked.profileIds).toStrictEqual(byCodeUnits(IDS));
  });
});
