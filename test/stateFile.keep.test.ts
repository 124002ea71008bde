// A run keeping its state in a state file saves between its batches once enough waits to be written,
// so that a first sync of millions holds a bounded part of its changes in memory; what it saves is
// the fold of the store at the position it saves, and the run decides as it would in memory.
import Database from 'better-sqlite3';
import * as E from 'fp-ts/lib/Either.js';
import { describe, expect, it } from 'vitest';
import { openStateFile } from '../adapters/state/open.js';
import { syncDestination } from '../engine/sync/run.js';
import { collect } from './contract/eventStoreHelpers.js';
import { givenEngine, noWait } from './support/engine.js';
import { created, destination, everyone } from './support/given.js';
import { projectionsOf } from './support/stateProjections.js';
import { caughtUp, foldOf, opened, saved, stateDirPerSpec } from './support/stateFiles.js';

const dir = stateDirPerSpec();

const crm = destination({ mode: 'sync', collection: everyone });

const savedPosition = (path: string): number => {
  const db = new Database(path, { readonly: true });
  try {
    return Number(db.prepare(`SELECT value FROM meta WHERE name = 'position'`).pluck().get());
  } finally {
    db.close();
  }
};

describe('a run that keeps its state in a state file', () => {
  it('given a first sync of 40 profiles in batches of 4 and a state file that saves from 20 rows waiting, when it runs, then the file is saved during the run, each time at the fold of the store up to where it saved; the run decides what a run in memory decides; and the file saved at its end is the whole fold', async () => {
    const w = await givenEngine(crm);
    await w.happen(
      ...Array.from({ length: 40 }, (_, i) =>
        created(`p${String(i).padStart(2, '0')}`, { email: `p${i}@x.io` }),
      ),
    );
    const path = dir.path('state.db');
    const r = await openStateFile(path, w.store, { keepFrom: 20 });
    if (E.isLeft(r)) throw new Error(r.left.message);
    const { file } = r.right;
    await caughtUp(w.store, file.state);
    expect(saved(file)).toBe('saved');
    const before = savedPosition(path);
    const positions: number[] = [];
    const destination = w.destination.destination(crm);
    const result = await syncDestination(w.store, file.state, crm.destinationId, destination, {
      ...noWait,
      batchSize: 4,
      onProgress: () => positions.push(savedPosition(path)),
    });
    expect(E.isRight(result) && result.right.totals.created).toBe(40);
    // Saved between batches, more than once, before the run's end was.
    const during = [...new Set(positions)].filter((p) => p > before);
    expect(during.length).toBeGreaterThan(1);
    const events = await collect(w.store.readAll());
    // What the file held at its last save during the run is the fold up to there.
    const mid = await opened(path, w.store);
    const at = mid.file.state.position;
    // (the last batch's save comes after its progress is told)
    expect(at).toBeGreaterThanOrEqual(Math.max(...during));
    expect(at).toBeLessThan(events.length);
    expect(projectionsOf(mid.file.state)).toStrictEqual(projectionsOf(foldOf(events.slice(0, at))));
    mid.file.close();
    // The run's own state is the whole fold, and so is the file once it saves at the end.
    expect(projectionsOf(file.state)).toStrictEqual(projectionsOf(foldOf(events)));
    expect(saved(file)).toBe('saved');
    file.close();
    const end = await opened(path, w.store);
    expect(projectionsOf(end.file.state)).toStrictEqual(projectionsOf(foldOf(events)));
    end.file.close();
  });

  it('given the same run with the default threshold, when it runs, then nothing is saved before its end', async () => {
    const w = await givenEngine(crm);
    await w.happen(...Array.from({ length: 40 }, (_, i) => created(`p${i}`, { email: `p${i}@x.io` })));
    const path = dir.path('state.db');
    const { file } = await opened(path, w.store);
    await caughtUp(w.store, file.state);
    expect(saved(file)).toBe('saved');
    const before = savedPosition(path);
    const result = await syncDestination(
      w.store,
      file.state,
      crm.destinationId,
      w.destination.destination(crm),
      {
        ...noWait,
        batchSize: 4,
      },
    );
    expect(E.isRight(result)).toBe(true);
    expect(savedPosition(path)).toBe(before);
    file.close();
  });
});
