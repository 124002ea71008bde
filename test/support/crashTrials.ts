// The steps of the SIGKILL trials (test/crash.test.ts, test/*.faults.test.ts), whatever the store:
// an uninterrupted reference run, a sync killed part way through a batch, and the checks of a recovery.
import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'vitest';
import { foldLedger, initialLedger } from '../../projections/ledger.js';
import { pendingCommands } from '../../projections/pending.js';
import {
  NO_DIFFERENCE,
  copyWorld,
  decisionsWithoutOutcome,
  densePositions,
  destinationTables,
  launch,
  positionsGrow,
  readAllEvents,
  rowCounter,
  storeIntegrity,
  storePositions,
  syncEventCounts,
  syncEvents,
  syncToEnd,
  tableDiff,
  waitForSyncEvents,
  whereKilled,
  type FaultWorld,
  type Tables,
} from './faultWorld.js';

export type Reference = {
  readonly tables: Tables;
  /** milliseconds from RunStarted being visible to the process's exit, per batch */
  readonly msPerBatch: number;
  readonly batches: number;
};

/** `syncline sync` in batches of `size` profiles. */
export const syncInBatches = (size: number): readonly string[] => ['sync', '--batch-size', String(size)];

/** Runs an uninterrupted sync, timing its batches, and keeps what the destination then holds. */
export const reference = async (world: FaultWorld, sync: readonly string[]): Promise<Reference> => {
  const before = await syncEventCounts(world);
  const running = launch(world, sync);
  const untilStarted = await waitForSyncEvents(world, running, 'RunStarted', before.RunStarted + 1);
  const exit = await running.exit;
  if (exit.code !== 0) throw new Error(`the reference sync failed: ${exit.stderr}`);
  const batches = (await syncEventCounts(world)).BatchDecided - before.BatchDecided;
  return { tables: await destinationTables(world), msPerBatch: (exit.ms - untilStarted) / batches, batches };
};

export type Kill = {
  readonly sync: readonly string[];
  readonly ref: Reference;
  /** the run's batches recorded before the wait starts (0: wait for RunStarted) */
  readonly after: number;
  /** the part of one batch's duration (on the reference run) waited after that, in [0, 1) */
  readonly part: number;
  /** how many events the store held before the sync */
  readonly input: number;
  /** keeps the forensic copy for removal after the suite */
  readonly track: (w: FaultWorld) => FaultWorld;
};

/**
 * Kills a sync of `world` with SIGKILL once its run has recorded `after` batches and then `part` of
 * one batch's duration has passed; returns where the kill landed. The store is checked as the crash
 * left it, in a copy, so that the next sync meets it untouched.
 */
export const killMidway = async (
  world: FaultWorld,
  { sync, ref, after, part, input, track }: Kill,
): Promise<{ where: string; delayMs: number; killed: boolean }> => {
  const before = await syncEventCounts(world);
  const known = Object.values(before).reduce((a, b) => a + b, 0);
  const running = launch(world, sync);
  if (after === 0) await waitForSyncEvents(world, running, 'RunStarted', before.RunStarted + 1);
  else await waitForSyncEvents(world, running, 'BatchDecided', before.BatchDecided + after);
  const delayMs = part * ref.msPerBatch;
  await sleep(delayMs);
  running.kill();
  const exit = await running.exit;
  const forensic = track(await copyWorld(world));
  const stored = await syncEvents(forensic);
  expect(await readAllEvents(forensic)).toBe(input + stored.length);
  expect(await storeIntegrity(forensic)).toBe('ok');
  return { where: await whereKilled(forensic, stored, known), delayMs, killed: exit.signal === 'SIGKILL' };
};

/**
 * Kills a first sync of `world` (creating every profile, `sync` applying each batch of `size` on its
 * own) just after one of `batches` (numbered from 1) was applied and before the append recording its
 * outcomes: waits until the destination holds that batch's rows, freezes the process, and kills it if
 * the outcomes are not recorded yet, else lets it go on to the next candidate. Returns the batch.
 */
export const killAfterApply = async (
  world: FaultWorld,
  sync: readonly string[],
  size: number,
  batches: readonly number[],
): Promise<number | undefined> => {
  const applied = (await syncEventCounts(world)).BatchApplied;
  const running = launch(world, sync);
  let ended = false;
  void running.exit.then(() => (ended = true));
  const rows = await rowCounter(world);
  try {
    for (const k of batches) {
      while (!ended && (await rows.count()) < k * size) await sleep(1);
      if (ended) return undefined;
      running.freeze();
      if (
        (await rows.count()) === k * size &&
        (await syncEventCounts(world)).BatchApplied === applied + k - 1
      )
        return k;
      running.thaw();
    }
    return undefined;
  } finally {
    // Killed here, frozen or not: at the chosen moment, or whatever went wrong on the way.
    running.kill();
    await running.exit;
    await rows.close();
  }
};

/**
 * What a recovered world shows once `sync` runs again: (a) the reference's tables, (b) a sound store
 * whose positions run without a gap (on KurrentDB: only grow), (c) an outcome for every decision, (d) nothing left to decide.
 * Pushes a line on how the resumed sync settled what the crash left open.
 */
export const expectRecovered = async (
  world: FaultWorld,
  expected: Tables,
  sync: readonly string[],
  report: string[],
): Promise<void> => {
  const resumed = await syncToEnd(world, [...sync.slice(1), '--json']);
  expect(JSON.parse(resumed.stdout)).toMatchObject({
    destinations: [{ totals: { failed: 0 }, failures: [] }],
  });

  expect(tableDiff(await destinationTables(world), expected)).toEqual(NO_DIFFERENCE);

  expect(await storeIntegrity(world)).toBe('ok');
  if (densePositions(world)) {
    const positions = await storePositions(world);
    expect(positions).toMatchObject({ dense: true, last: positions.events });
  } else expect(await positionsGrow(world)).toBe(true);
  const stored = await syncEvents(world);
  expect(decisionsWithoutOutcome(stored)).toEqual([]);
  // The engine's own view agrees: folded, the stream leaves no command pending and no run open.
  const ledger = stored.reduce(foldLedger, initialLedger());
  expect([...pendingCommands(ledger.pending)]).toEqual([]);
  expect(ledger.open).toBeNull();
  const settled = stored.flatMap((e) => (e.type === 'BatchDecided' ? (e.data.settled ?? []) : []));
  report.push(
    `  the next sync settled ${settled.filter((x) => x.status === 'confirmed').length} commands as confirmed, ` +
      `${settled.filter((x) => x.status === 'superseded').length} as superseded`,
  );

  const again = await syncToEnd(world, ['--json']);
  expect(JSON.parse(again.stdout)).toEqual({
    destinations: [
      expect.objectContaining({
        considered: 0,
        totals: { created: 0, updated: 0, deleted: 0, skipped: {}, failed: 0, unchanged: 0 },
        failures: [],
      }),
    ],
  });
};
