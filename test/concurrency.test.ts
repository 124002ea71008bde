// Two `syncline sync` processes for one destination (docs/architecture.md, "Failure semantics"): the
// sync stream's expected revision lets exactly one of them run; the other stops with a clear message
// naming the run that won (and, with --json, the destination's entry saying so).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { population } from '../adapters/demo/people.js';
import {
  NO_DIFFERENCE,
  copyWorld,
  createWorld,
  readTables,
  removeWorld,
  syncToEnd,
  tableDiff,
  type FaultWorld,
  type Tables,
} from './support/faultWorld.js';
import { busy, busyJson, expectOneOfTwoApplied, onlyRun, secondWhileFirstHeld } from './support/syncRaces.js';

/** Enough profiles that a run takes about a second, most of it before and around RunStarted. */
const PROFILES = 15_000;

const worlds: FaultWorld[] = [];
const track = (w: FaultWorld): FaultWorld => (worlds.push(w), w);

let unsynced: FaultWorld;
let reference: Tables;
let vipMembers: number;

beforeAll(async () => {
  const events = [...population(PROFILES)];
  vipMembers = events.filter((e) => e.type === 'ProfileJoinedGroup' && e.data.groupId === 'vip').length;
  unsynced = track(await createWorld(events, 'vip'));
  const alone = track(await copyWorld(unsynced));
  await syncToEnd(alone);
  reference = readTables(alone);
}, 60_000);

afterAll(() => Promise.all(worlds.map(removeWorld)));

describe('the reference: one sync alone', () => {
  it('given the VIP collection of 15,000 profiles, when one sync runs alone, then the warehouse holds a row per VIP member', () => {
    expect(vipMembers).toBeGreaterThan(PROFILES / 10);
    expect(reference.rows).toHaveLength(vipMembers);
    expect(reference.groups.filter((g) => g.endsWith('\tVIP'))).toHaveLength(vipMembers);
  });
});

describe('a second sync while a run is in progress', () => {
  it('given a sync held right after its RunStarted, when a second sync starts, then the second exits 1 naming the run in progress (on stderr and in its JSON), and the first then finishes alone', async () => {
    const world = track(await copyWorld(unsynced));
    const { first: done, second } = await secondWhileFirstHeld(world);
    expect(done.code).toBe(0);
    const runId = await onlyRun(world);
    expect(second.code).toBe(1);
    expect(second.stderr).toBe(busy(runId));
    expect(JSON.parse(second.stdout)).toStrictEqual(busyJson(runId));
    expect(tableDiff(readTables(world), reference)).toEqual(NO_DIFFERENCE);
  });
});

describe('two syncs started together', () => {
  it.each([1, 2, 3, 4])(
    'given a warehouse nobody syncs, when two `syncline sync --json` start at the same moment (round %i), then exactly one applies, and the other exits 1 naming the winning run or, if it only started after the first finished, finds nothing to do',
    async () => {
      const world = track(await copyWorld(unsynced));
      await expectOneOfTwoApplied(world, reference, { considered: PROFILES, created: vipMembers });
    },
  );
});
