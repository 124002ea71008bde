// Two `syncline sync` processes for one destination, whatever the store (test/concurrency.test.ts,
// test/postgres.concurrency.test.ts): the run that won, the loser's message, and the check of a race.
import { expect } from 'vitest';
import {
  DESTINATION_ID,
  NO_DIFFERENCE,
  launch,
  readTables,
  syncEvents,
  tableDiff,
  type Exit,
  type FaultWorld,
  type Tables,
} from './faultWorld.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** The one run the store records, and a check that every sync event is that run's. */
export const onlyRun = async (world: FaultWorld): Promise<string> => {
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

/** What the losing sync prints on stderr. */
export const busy = (runId: string): string =>
  `syncline: destination ${DESTINATION_ID} is being synced by another process (run ${runId})\n`;

/** What the losing `sync --json` prints: its one destination, not synced, and why. */
export const busyJson = (runId: string) => ({
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

/**
 * Starts a `sync --json`, freezes it once its RunStarted is stored, runs a second `sync --json` to its
 * end meanwhile, then lets the first go on: returns both exits.
 */
export const secondWhileFirstHeld = async (world: FaultWorld): Promise<{ first: Exit; second: Exit }> => {
  const first = launch(world, ['sync', '--json']);
  for (let waited = 0; !(await syncEvents(world)).some((e) => e.type === 'RunStarted'); waited += 5) {
    if (waited > 30_000) throw new Error('the first sync never started its run');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  first.freeze();
  const second = await launch(world, ['sync', '--json']).exit;
  first.thaw();
  return { first: await first.exit, second };
};

/**
 * Starts two `sync --json` at the same moment and checks that exactly one applied: the other exits 1
 * naming the winning run or, when it only started after the first finished, found nothing to do.
 * Either way the warehouse ends as `reference`, which holds `created` rows of `considered` profiles.
 */
export const expectOneOfTwoApplied = async (
  world: FaultWorld,
  reference: Tables,
  { considered, created }: { readonly considered: number; readonly created: number },
): Promise<void> => {
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
    expect(reports.map((r) => r.destinations[0]?.totals?.created).sort()).toEqual([0, created]);
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
          considered,
          totals: expect.objectContaining({ created, failed: 0 }) as unknown,
        }),
      ],
    });
  }
  expect(tableDiff(readTables(world), reference)).toEqual(NO_DIFFERENCE);
};
