// Fault injection, a store that loses its newest commits (a power cut with the fast setting, or a
// store restored from a backup): syncline goes on from what the store still holds, and the
// destination ends as an uninterrupted run leaves it, with no record left behind or doubled.
import { copyFile, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { changes, population } from '../adapters/demo/people.js';
import type { InputEvent } from '../domain/events.js';
import {
  NO_DIFFERENCE,
  copyWorld,
  createWorld,
  ingestEvents,
  launch,
  readTables,
  removeWorld,
  syncToEnd,
  tableDiff,
  type FaultWorld,
  type Tables,
} from './support/faultWorld.js';

const PROFILES = 3_000;
const SYNC = ['--batch-size', '200'];

const worlds: FaultWorld[] = [];
const track = (w: FaultWorld): FaultWorld => (worlds.push(w), w);

let unsynced: FaultWorld;
let round: readonly InputEvent[];
/** the profiles the round gave a new email (the key) now deleted: their renamed records must go */
let renamedDeleted: readonly InputEvent[];
/** the destination after sync, the round, and sync again, uninterrupted */
let reference: Tables;
/** the same, then the renamed profiles deleted and synced */
let referenceAfterDeletes: Tables;

const SIDE_FILES = ['', '-wal', '-shm'];

/** A copy of the store's files as they are now (no process has the store open between commands). */
const backUp = async (w: FaultWorld): Promise<() => Promise<void>> => {
  for (const side of SIDE_FILES)
    if (existsSync(w.storePath + side)) await copyFile(w.storePath + side, `${w.storePath}${side}.backup`);
  return async () => {
    for (const side of SIDE_FILES) {
      await rm(w.storePath + side, { force: true });
      if (existsSync(`${w.storePath}${side}.backup`))
        await copyFile(`${w.storePath}${side}.backup`, w.storePath + side);
    }
  };
};

beforeAll(async () => {
  unsynced = track(await createWorld([...population(PROFILES)], 'all'));
  // Values, renames (the key), leaving and joining groups and deletions, and newcomers.
  round = changes(PROFILES, 0.1).events;
  const deletedInRound = new Set(
    round.flatMap((e) => (e.type === 'ProfileDeleted' ? [e.data.profileId] : [])),
  );
  renamedDeleted = round.flatMap((e): InputEvent[] =>
    e.type === 'ProfilePropertiesChanged' &&
    e.data.set?.email !== undefined &&
    !deletedInRound.has(e.data.profileId)
      ? [{ type: 'ProfileDeleted', data: { profileId: e.data.profileId } }]
      : [],
  );
  const w = track(await copyWorld(unsynced));
  await syncToEnd(w, SYNC);
  await ingestEvents(w, round);
  await syncToEnd(w, SYNC);
  reference = readTables(w);
  await ingestEvents(w, renamedDeleted);
  await syncToEnd(w, SYNC);
  referenceAfterDeletes = readTables(w);
}, 120_000);

afterAll(() => Promise.all(worlds.map(removeWorld)));

describe('a store that loses its newest commits', () => {
  it('given a store restored to before the first sync, when it syncs again, then the round of changes is synced as in the uninterrupted run: deleted profiles removed, renamed ones not doubled', async () => {
    const w = track(await copyWorld(unsynced));
    const restore = await backUp(w);
    await syncToEnd(w, SYNC);
    await restore();
    // The store knows nothing of the records: this sync finds them as the profiles want them.
    await syncToEnd(w, SYNC);
    await ingestEvents(w, round);
    await syncToEnd(w, SYNC);
    expect(tableDiff(readTables(w), reference)).toEqual(NO_DIFFERENCE);
  });

  it('given a store restored to before the sync of the round, when the round is ingested again and synced and the renamed profiles are then deleted, then the destination equals the uninterrupted run at each step', async () => {
    const w = track(await copyWorld(unsynced));
    await syncToEnd(w, SYNC);
    const restore = await backUp(w);
    await ingestEvents(w, round);
    await syncToEnd(w, SYNC);
    await restore();
    await ingestEvents(w, round);
    await syncToEnd(w, SYNC);
    expect(tableDiff(readTables(w), reference)).toEqual(NO_DIFFERENCE);
    // The ledger must know the renamed records, which only the lost run had recorded writing.
    expect(renamedDeleted.length).toBeGreaterThan(10);
    await ingestEvents(w, renamedDeleted);
    await syncToEnd(w, SYNC);
    expect(tableDiff(readTables(w), referenceAfterDeletes)).toEqual(NO_DIFFERENCE);
  });

  it('given a restored store that went on, when its runs are verified, then every recorded decision follows from its inputs', async () => {
    const w = track(await copyWorld(unsynced));
    const restore = await backUp(w);
    await syncToEnd(w, SYNC);
    await restore();
    await ingestEvents(w, round);
    await syncToEnd(w, SYNC);
    const verified = await launch(w, ['replay', '--destination', 'warehouse', '--verify', '--json']).exit;
    expect(verified.code, verified.stderr).toBe(0);
    const status = await launch(w, ['status', '--json']).exit;
    const [warehouse] = (JSON.parse(status.stdout) as { destinations: { records: unknown }[] }).destinations;
    expect(warehouse?.records).toMatchObject({ missing: 0 });
  });
});
