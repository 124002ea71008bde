// Crash safety on a `postgres` destination (issue 23; docs/architecture.md, "Failure semantics"): a sync
// killed with SIGKILL is continued by the next to the tables of an uninterrupted run, and replay verifies it.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { changes, population, random } from '../adapters/demo/people.js';
import type { InputEvent } from '../domain/events.js';
import {
  expectRecovered,
  killAfterApply,
  killMidway,
  reference,
  syncInBatches,
  type Reference,
} from './support/crashTrials.js';
import {
  POSTGRES_DESTINATION,
  createWorld,
  ingestEvents,
  launch,
  readAllEvents,
  removeWorld,
  syncEventCounts,
  syncEvents,
  syncToEnd,
  type FaultWorld,
} from './support/faultWorld.js';
import { dropSchemas, postgresAnswers } from './support/postgres.js';

/** A few thousand profiles in small batches: enough batches to land a kill in, little CI time. */
const PROFILES = 3_000;
const SIZE = 100;
const SYNC = syncInBatches(SIZE);
const BATCHES = PROFILES / SIZE;
/** Applying each batch on its own puts a window between one batch's commit and its recorded outcomes. */
const SYNC_EACH_BATCH = [...SYNC, '--apply-batch-size', String(SIZE)];

/** Each kill waits for a batch to be recorded, then a part of one batch's duration: the seed fixes the parts. */
const rnd = random(23_2026);
const trials = [
  { when: 'in its first batch', after: 0, part: rnd() },
  { when: 'half way through', after: BATCHES / 2, part: rnd() },
  { when: 'as it finishes its last batch', after: BATCHES, part: rnd() * 0.2 },
];
const changeTrial = { part: rnd() };

/** The worlds of the test running (dropped after it), and the reference's (dropped after the file). */
let worlds: FaultWorld[] = [];
const track = (w: FaultWorld): FaultWorld => (worlds.push(w), w);
let referenceWorlds: FaultWorld[] = [];
const report: string[] = [];

let people: readonly InputEvent[];
let round: readonly InputEvent[];
let inputEvents: number;
let roundEvents: number;
let first: Reference;
let second: Reference;

/** A world of its own: a SQLite store holding the people, its warehouse a fresh schema of the server. */
const world = (): Promise<FaultWorld> => createWorld(people, 'all', 'sqlite', POSTGRES_DESTINATION);

type ReplayJson = {
  verified: boolean;
  runs: { outcome: string; decisions: number; matched: number | null; mismatches: unknown[] }[];
};

/** `syncline replay --verify` of every run the world recorded: each decision follows from its inputs. */
const expectEveryRunVerifies = async (w: FaultWorld): Promise<ReplayJson['runs']> => {
  const replayed = await launch(w, ['replay', '--destination', 'warehouse', '--verify', '--json']).exit;
  expect(replayed.code, replayed.stderr).toBe(0);
  const r = JSON.parse(replayed.stdout) as ReplayJson;
  expect(r.verified).toBe(true);
  expect(r.runs).toHaveLength((await syncEventCounts(w)).RunStarted);
  for (const run of r.runs) expect(run).toMatchObject({ matched: run.decisions, mismatches: [] });
  return r.runs;
};

describe.skipIf(!postgresAnswers)('a sync into a postgres destination killed with SIGKILL', () => {
  beforeAll(async () => {
    people = [...population(PROFILES)];
    const w = await createWorld(people, 'all', 'sqlite', POSTGRES_DESTINATION);
    referenceWorlds.push(w);
    inputEvents = await readAllEvents(w);
    first = await reference(w, SYNC);
    round = changes(PROFILES, 0.05).events;
    roundEvents = await ingestEvents(w, round);
    second = await reference(w, SYNC);
  }, 120_000);

  afterEach(async () => {
    await Promise.all(worlds.map(removeWorld));
    worlds = [];
  });

  afterAll(async () => {
    // One line per trial: where each kill landed, for whoever reads the run's output.
    console.log(report.join('\n'));
    await Promise.all(referenceWorlds.map(removeWorld));
    referenceWorlds = [];
    await dropSchemas();
  });

  it('given 3,000 profiles, when synced without interruption and again after a round of changes, then the tables hold a row per profile and their groups, and the second run differs from the first', () => {
    expect(first.tables.rows).toHaveLength(PROFILES);
    expect(first.tables.groups.length).toBeGreaterThan(PROFILES / 2);
    expect(first.batches).toBe(BATCHES);
    expect(second.tables).not.toEqual(first.tables);
    expect(second.batches).toBeGreaterThan(2);
  });

  it.each(trials)(
    'given a first sync of 3,000 profiles killed $when, when sync runs again, then the tables equal the uninterrupted run row by row, every decision has an outcome, a further sync decides nothing and replay --verify passes for every run',
    async ({ when, after, part }) => {
      const w = track(await world());
      const kill = await killMidway(w, { sync: SYNC, ref: first, after, part, input: inputEvents, track });
      report.push(
        `first sync killed ${when}: ${kill.delayMs.toFixed(1)} ms after batch ${after} → ${kill.where}`,
      );
      expect(kill.killed).toBe(true);
      await expectRecovered(w, first.tables, SYNC, report);
      const runs = await expectEveryRunVerifies(w);
      expect(runs.map((r) => r.outcome).slice(-2)).toEqual(['finished', 'finished']);
    },
    60_000,
  );

  it("given a first sync killed after a batch's transaction committed but before its outcomes were recorded, when sync runs again, then that batch's commands are settled as confirmed, the tables equal the uninterrupted run row by row, a further sync decides nothing and replay --verify passes for every run", async () => {
    const w = track(await world());
    const candidates = Array.from({ length: BATCHES - 2 }, (_, i) => i + 3);
    const k = await killAfterApply(w, SYNC_EACH_BATCH, SIZE, candidates);
    report.push(
      `first sync frozen and killed after batch ${k ?? '(none)'} committed, before its outcomes were recorded`,
    );
    expect(candidates).toContain(k);
    await expectRecovered(w, first.tables, SYNC, report);
    const settled = (await syncEvents(w)).flatMap((e) =>
      e.type === 'BatchDecided' ? (e.data.settled ?? []) : [],
    );
    expect(settled.filter((x) => x.status === 'confirmed')).toHaveLength(SIZE);
    await expectEveryRunVerifies(w);
  }, 60_000);

  it('given a synced postgres warehouse and a round of changes, when the sync of the changes is killed half way and sync runs again, then the tables equal the uninterrupted run with the same changes, every decision has an outcome and replay --verify passes for every run', async () => {
    const w = track(await world());
    await syncToEnd(w, SYNC.slice(1));
    expect(await ingestEvents(w, round)).toBe(roundEvents);
    const after = Math.floor(second.batches / 2);
    const input = inputEvents + roundEvents;
    const kill = await killMidway(w, {
      sync: SYNC,
      ref: second,
      after,
      part: changeTrial.part,
      input,
      track,
    });
    report.push(
      `sync of changes killed: ${kill.delayMs.toFixed(1)} ms after batch ${after} of ${second.batches} → ${kill.where}`,
    );
    expect(kill.killed).toBe(true);
    await expectRecovered(w, second.tables, SYNC, report);
    await expectEveryRunVerifies(w);
  }, 60_000);
});
