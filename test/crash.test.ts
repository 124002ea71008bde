// Crash safety (docs/architecture.md, "Failure semantics"): a `syncline sync` killed with SIGKILL anywhere
// leaves a store the next sync continues from, converging to an uninterrupted run's; no decision is lost.
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { changes, population, random } from '../adapters/demo/people.js';
import type { InputEvent } from '../domain/events.js';
import { syncStream } from '../domain/syncEvents.js';
import type { Destination } from '../engine/ports.js';
import { syncDestination } from '../engine/sync/run.js';
import { givenEngine, noWait, type EngineWorld } from './support/engine.js';
import { changed, created, deleted, destination, everyone, record } from './support/given.js';
import {
  expectRecovered as expectRecoveredWith,
  killMidway as killMidwayWith,
  reference as referenceWith,
  syncInBatches,
  type Reference,
} from './support/crashTrials.js';
import {
  copyWorld,
  createWorld,
  destinationRows,
  ingestEvents,
  launch,
  readAllEvents,
  removeWorld,
  syncEventCounts,
  tableDiff,
  type FaultWorld,
  type Tables,
} from './support/faultWorld.js';

const PROFILES = 20_000;
const SYNC = syncInBatches(200);
/** Applying each batch on its own puts a window between one batch's apply and its recorded outcome. */
const SYNC_EACH_BATCH = [...SYNC, '--apply-batch-size', '200'];
const BATCHES = PROFILES / 200;

/**
 * Each kill waits for the run to record a given batch, then a random part of one batch's duration
 * (measured on the reference run), so the kill lands in that batch's lookup, decide, apply or the
 * append after it, whatever the machine's load. The seed fixes the parts.
 */
const rnd = random(8_2026);
const trials = [
  { when: 'in its first batch', after: 0, part: rnd() },
  { when: 'a quarter of the way through', after: 25, part: rnd() },
  { when: 'half way through', after: 50, part: rnd() },
  { when: 'three quarters of the way through', after: 75, part: rnd() },
  { when: 'as it finishes its last batch', after: BATCHES, part: rnd() * 0.2 },
];
const changeTrial = { part: rnd() };

const worlds: FaultWorld[] = [];
const track = (w: FaultWorld): FaultWorld => (worlds.push(w), w);
const report: string[] = [];

let unsynced: FaultWorld;
/** after one uninterrupted sync; the starting point of the trial with changes */
let synced: FaultWorld;
let round: readonly InputEvent[];
let inputEvents: number;
let roundEvents: number;
let first: Reference;
let second: Reference;

const reference = (world: FaultWorld): Promise<Reference> => referenceWith(world, SYNC);

beforeAll(async () => {
  unsynced = track(await createWorld([...population(PROFILES)], 'all'));
  inputEvents = await readAllEvents(unsynced);
  const world = track(await copyWorld(unsynced));
  first = await reference(world);
  synced = track(await copyWorld(world));
  round = changes(PROFILES, 0.05).events;
  roundEvents = await ingestEvents(world, round);
  second = await reference(world);
}, 60_000);

afterAll(async () => {
  // One line per trial: where each kill landed, for whoever reads the run's output.
  console.log(report.join('\n'));
  await Promise.all(worlds.map(removeWorld));
});

/**
 * Kills a sync of `world` with SIGKILL once its run has recorded `after` batches and then `part` of
 * one batch's duration has passed; returns where the kill landed.
 */
const killMidway = (world: FaultWorld, ref: Reference, after: number, part: number, input: number) =>
  killMidwayWith(world, { sync: SYNC, ref, after, part, input, track });

/**
 * Batches (numbered from 1, 200 profiles each) of the first sync holding a profile the round deletes
 * and one it renames (a new email, the key), from the tenth on.
 */
const batchesDeletingAndRenaming = (events: readonly InputEvent[]): number[] => {
  const batchOf = (profileId: string) => Math.floor(Number(profileId.slice(1)) / 200) + 1;
  const deleted = new Set<number>();
  const renamed = new Set<number>();
  for (const e of events) {
    if (e.type === 'ProfileDeleted') deleted.add(batchOf(e.data.profileId));
    if (e.type === 'ProfilePropertiesChanged' && e.data.set?.email !== undefined)
      renamed.add(batchOf(e.data.profileId));
  }
  return [...deleted].filter((b) => renamed.has(b) && b >= 10 && b <= BATCHES).sort((a, b) => a - b);
};

/**
 * Kills a first sync of `world` just after one of `batches` was applied and before the append that
 * records its outcomes: waits until the destination holds that batch's rows, freezes the process,
 * and kills it if its outcomes are not recorded yet, else lets it go on to the next candidate.
 */
const killBetweenApplyAndRecord = async (
  world: FaultWorld,
  batches: readonly number[],
): Promise<number | undefined> => {
  const running = launch(world, SYNC_EACH_BATCH);
  let ended = false;
  void running.exit.then(() => (ended = true));
  for (const k of batches) {
    while (!ended && destinationRows(world) < k * 200) await sleep(1);
    if (ended) return undefined;
    running.freeze();
    if (destinationRows(world) === k * 200 && (await syncEventCounts(world)).BatchApplied === k - 1) {
      running.kill();
      await running.exit;
      return k;
    }
    running.thaw();
  }
  running.kill();
  await running.exit;
  return undefined;
};

/** (a)–(d) of a recovered world: the reference's tables, a sound store, outcomes for all, nothing left. */
const expectRecovered = (world: FaultWorld, expected: Tables) =>
  expectRecoveredWith(world, expected, SYNC, report);

describe('the uninterrupted reference runs', () => {
  it('given 20,000 generated profiles, when synced once without interruption, then the warehouse holds a row per profile and their groups', () => {
    expect(first.tables.rows).toHaveLength(PROFILES);
    expect(first.tables.groups.length).toBeGreaterThan(PROFILES / 2);
    expect(first.batches).toBe(BATCHES);
  });

  it('given a round of changes to 5% of them, when synced again, then the warehouse differs from the first run in rows and groups', () => {
    const diff = tableDiff(second.tables, first.tables);
    expect(diff.rowsMissing.count).toBeGreaterThan(0);
    expect(diff.rowsUnexpected.count).toBeGreaterThan(0);
    expect(diff.groupsMissing.count + diff.groupsUnexpected.count).toBeGreaterThan(0);
    expect(second.batches).toBeGreaterThan(2);
  });
});

describe('a first sync killed with SIGKILL', () => {
  it.each(trials)(
    'given a first sync of 20,000 profiles killed $when, when sync runs again, then the warehouse equals the uninterrupted run, the store is sound, every decision has an outcome and a further sync decides nothing',
    async ({ when, after, part }) => {
      const world = track(await copyWorld(unsynced));
      const kill = await killMidway(world, first, after, part, inputEvents);
      report.push(
        `first sync killed ${when}: ${kill.delayMs.toFixed(1)} ms after batch ${after} → ${kill.where}`,
      );
      expect(kill.killed).toBe(true);
      await expectRecovered(world, first.tables);
    },
  );
});

describe('a first sync killed after an apply, with changes before the next sync', () => {
  it('given a first sync killed after applying a batch but before recording its outcomes, and then a round of changes deleting and renaming some of that batch, when sync runs again, then the warehouse equals the uninterrupted run with the same changes, with no record left behind', async () => {
    const targets = batchesDeletingAndRenaming(round);
    expect(targets.length).toBeGreaterThan(3);
    const world = track(await copyWorld(unsynced));
    const k = await killBetweenApplyAndRecord(world, targets);
    report.push(
      `first sync frozen and killed after batch ${k ?? '(none)'} was applied, before its outcomes were recorded`,
    );
    expect(targets).toContain(k);
    expect(await ingestEvents(world, round)).toBe(roundEvents);
    await expectRecovered(world, second.tables);
  });
});

describe('a sync of a round of changes killed with SIGKILL', () => {
  it('given a synced warehouse and a round of changes, when the sync of the changes is killed half way and sync runs again, then the warehouse equals the uninterrupted run with the same changes, and every decision has an outcome', async () => {
    const world = track(await copyWorld(synced));
    expect(await ingestEvents(world, round)).toBe(roundEvents);
    const after = Math.floor(second.batches / 2);
    const kill = await killMidway(world, second, after, changeTrial.part, inputEvents + roundEvents);
    report.push(
      `sync of changes killed: ${kill.delayMs.toFixed(1)} ms after batch ${after} of ${second.batches} → ${kill.where}`,
    );
    expect(kill.killed).toBe(true);
    await expectRecovered(world, second.tables);
  });
});

/** A destination that applies the commands and then never answers: the process died just after. */
const diesAfterApply = (d: Destination): Destination => ({
  ...d,
  apply: (commands) => () =>
    d
      .apply(commands)()
      .then(() => new Promise<never>(() => undefined)),
});

/** A destination whose apply never starts: the process died between recording and applying. */
const diesBeforeApply = (d: Destination): Destination => ({
  ...d,
  apply: () => () => new Promise<never>(() => undefined),
});

/** Starts a sync that dies in `apply`, and returns once the engine has reached it. */
const syncDyingIn = async (w: EngineWorld, wrap: (d: Destination) => Destination): Promise<void> => {
  let reached = false;
  const live = wrap(w.destination.destination(w.config));
  const dying: Destination = { ...live, apply: (commands) => ((reached = true), live.apply(commands)) };
  void syncDestination(w.store, w.state, w.config.destinationId, dying, noWait);
  for (let i = 0; !reached; i++) {
    if (i > 1000) throw new Error('the sync never reached apply');
    await new Promise((resolve) => setImmediate(resolve));
  }
  await new Promise((resolve) => setImmediate(resolve));
};

const settlementsOf = async (w: EngineWorld) => {
  const out: string[] = [];
  for await (const e of w.store.readStream(syncStream(w.config.destinationId)))
    if (e.type === 'BatchDecided')
      for (const s of (e.data as { settled?: { status: string }[] }).settled ?? []) out.push(s.status);
  return out;
};

describe('settling commands a crash left without outcome, when the profile changed before the next sync', () => {
  const ann = created('p1', { email: 'ann@x.io', firstName: 'Ann' });

  it('given a create applied just before the process died and the profile deleted since, when sync runs again, then the record it wrote is deleted and the create is confirmed', async () => {
    const w = await givenEngine(destination({ mode: 'sync', collection: everyone }));
    await w.happen(ann);
    await syncDyingIn(w, diesAfterApply);
    expect(w.records()).toEqual([record('ann@x.io', { email: 'ann@x.io', first_name: 'Ann' })]);
    await w.happen(deleted('p1'));
    const run = await w.synced({ isAlive: () => false });
    expect(run.totals).toMatchObject({ created: 0, deleted: 1, failed: 0 });
    expect(w.records()).toEqual([]);
    expect(await settlementsOf(w)).toEqual(['confirmed']);
  });

  it('given a create applied just before the process died and the email (the key) changed since, when sync runs again, then the record is renamed, not left behind beside a new one', async () => {
    const w = await givenEngine(destination({ mode: 'sync', collection: everyone }));
    await w.happen(ann);
    await syncDyingIn(w, diesAfterApply);
    await w.happen(changed('p1', { email: 'ann@new.io' }));
    const run = await w.synced({ isAlive: () => false });
    expect(run.totals).toMatchObject({ created: 0, updated: 1, failed: 0 });
    expect(w.records()).toEqual([record('ann@new.io', { email: 'ann@new.io', first_name: 'Ann' })]);
    expect(await settlementsOf(w)).toEqual(['confirmed']);
  });

  it('given a create recorded but never applied and the profile deleted since, when sync runs again, then nothing is written and the create is superseded, not taken as written', async () => {
    const w = await givenEngine(destination({ mode: 'sync', collection: everyone }));
    await w.happen(ann);
    await syncDyingIn(w, diesBeforeApply);
    await w.happen(deleted('p1'));
    const run = await w.synced({ isAlive: () => false });
    expect(run.totals).toMatchObject({ created: 0, deleted: 0, failed: 0 });
    expect(w.records()).toEqual([]);
    expect(await settlementsOf(w)).toEqual(['superseded']);
    expect(w.state.destinations.get('crm')?.ledger.entries.size).toBe(0);
  });
});
