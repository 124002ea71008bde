// Two `syncline sync` processes for one destination (docs/architecture.md, "Failure semantics"): the
// sync stream's expected revision lets exactly one of them run; the other stops with a clear message
// naming the run that won (and, with --json, the destination's entry saying so).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { population } from '../adapters/demo/people.js';
import {
  DESTINATION_ID,
  NO_DIFFERENCE,
  copyWorld,
  createWorld,
  launch,
  readTables,
  removeWorld,
  syncEvents,
  syncToEnd,
  tableDiff,
  type FaultWorld,
  type Tables,
} from './support/faultWorld.js';

/** Enough profiles that a run takes about a second, most of it before and around RunStarted. */
const PROFILES = 15_000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

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

/** The one run the store records, and a check that every sync event is that run's. */
const onlyRun = async (world: FaultWorld): Promise<string> => {
  const sync = await syncEvents(world);
  const started = sync.filter((e) => e.type === 'RunStarted');
  expect(started).toHaveLength(1);
  const runId = started[0]?.type === 'RunStarted' ? started[0].data.runId : '';
  expect(runId).toMatch(UUID);
  // Every event of the stream is the winner's: the loser wrote nothing.
  expect(sync.filter((e) => !('runId' in e.data) || e.data.runId !== runId)).toEqual([]);
  expect(sync[sync.length - 1]?.type).toBe('RunFinished');
  return runId;
};

const busy = (runId: string): string =>
  `syncline: destination ${DESTINATION_ID} is being synced by another process (run ${runId})\n`;

/** What the losing `sync --json` prints: its one destination, not synced, and why. */
const busyJson = (runId: string) => ({
  destinations: [
    {
      destinationId: DESTINATION_ID,
      error: {
        kind: 'Busy',
        runId,
        message: `destination ${DESTINATION_ID} is being synced by another process (run ${runId})`,
      },
    },
  ],
});

describe('a second sync while a run is in progress', () => {
  it('given a sync held right after its RunStarted, when a second sync starts, then the second exits 1 naming the run in progress (on stderr and in its JSON), and the first then finishes alone', async () => {
    const world = track(await copyWorld(unsynced));
    const first = launch(world, ['sync', '--json']);
    for (let waited = 0; !(await syncEvents(world)).some((e) => e.type === 'RunStarted'); waited += 5) {
      if (waited > 30_000) throw new Error('the first sync never started its run');
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    first.freeze();
    const second = await launch(world, ['sync', '--json']).exit;
    first.thaw();
    const done = await first.exit;
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
      const both = [launch(world, ['sync', '--json']), launch(world, ['sync', '--json'])];
      const exits = await Promise.all(both.map((r) => r.exit));
      const sync = await syncEvents(world);
      const runs = sync.filter((e) => e.type === 'RunStarted').length;

      if (exits.every((e) => e.code === 0)) {
        // On a loaded machine one process can start so late that the other has already finished:
        // then the runs did not overlap, and the late one must have found nothing to do.
        expect(runs).toBe(2);
        const reports = exits.map(
          (e) => JSON.parse(e.stdout) as { destinations: { totals?: { created: number } }[] },
        );
        expect(reports.map((r) => r.destinations[0]?.totals?.created).sort()).toEqual([0, vipMembers]);
        const firstFinished = sync.findIndex((e) => e.type === 'RunFinished');
        const secondStarted = sync.findIndex((e, i) => i > 0 && e.type === 'RunStarted');
        expect(secondStarted).toBeGreaterThan(firstFinished);
      } else {
        expect(exits.map((e) => e.code).sort()).toEqual([0, 1]);
        const winner = exits.find((e) => e.code === 0);
        const loser = exits.find((e) => e.code === 1);
        if (winner === undefined || loser === undefined) throw new Error('no winner and loser');
        const runId = await onlyRun(world);
        expect(loser.stderr).toBe(busy(runId));
        expect(JSON.parse(loser.stdout)).toStrictEqual(busyJson(runId));
        expect(winner.stderr).toBe('');
        expect(JSON.parse(winner.stdout)).toEqual({
          destinations: [
            expect.objectContaining({
              runId,
              considered: PROFILES,
              totals: expect.objectContaining({ created: vipMembers, failed: 0 }) as unknown,
            }),
          ],
        });
      }
      expect(tableDiff(readTables(world), reference)).toEqual(NO_DIFFERENCE);
    },
  );
});
