// Crash safety on the KurrentDB store (docs/architecture.md, "Failure semantics"): a sync killed with
// SIGKILL is continued by the next sync, on the stand-in server or SYNCLINE_KURRENTDB_URL's server.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { changes, population, random } from '../adapters/demo/people.js';
import type { InputEvent } from '../domain/events.js';
import {
  expectRecovered,
  killMidway,
  reference,
  syncInBatches,
  type Reference,
} from './support/crashTrials.js';
import {
  KURRENTDB,
  copyWorld,
  createWorld,
  ingestEvents,
  positionsGrow,
  readAllEvents,
  removeWorld,
  storePositions,
  type FaultWorld,
} from './support/faultWorld.js';
import { kurrentServer } from './support/kurrentdb.js';

/** Fewer profiles than the SQLite suite's 20,000 in smaller batches: as many batches to land in. */
const PROFILES = 2_000;
const SIZE = 100;
const SYNC = syncInBatches(SIZE);
const BATCHES = PROFILES / SIZE;

const rnd = random(24_2026);
const trials = [
  { when: 'in its first batch', after: 0, part: rnd() },
  { when: 'half way through', after: BATCHES / 2, part: rnd() },
  { when: 'as it finishes its last batch', after: BATCHES, part: rnd() * 0.2 },
];
const changeTrial = { part: rnd() };

const server = kurrentServer();
const worlds: FaultWorld[] = [];
const track = (w: FaultWorld): FaultWorld => (worlds.push(w), w);
const report: string[] = [];

let unsynced: FaultWorld;
let synced: FaultWorld;
let round: readonly InputEvent[];
let inputEvents: number;
let roundEvents: number;
let first: Reference;
let second: Reference;

describe(`the KurrentDB store under faults (${server.what})`, () => {
  beforeAll(async () => {
    await server.start();
    const started = performance.now();
    unsynced = track(await createWorld([...population(PROFILES)], 'all', KURRENTDB(server)));
    inputEvents = await readAllEvents(unsynced);
    const made = performance.now();
    const world = track(await copyWorld(unsynced));
    const copied = performance.now();
    first = await reference(world, SYNC);
    synced = track(await copyWorld(world));
    round = changes(PROFILES, 0.05).events;
    roundEvents = await ingestEvents(world, round);
    second = await reference(world, SYNC);
    report.push(
      `set up: a world of ${inputEvents} events in ${(made - started).toFixed(0)} ms, copied in ` +
        `${(copied - made).toFixed(0)} ms; reference runs at ${first.msPerBatch.toFixed(0)} and ` +
        `${second.msPerBatch.toFixed(0)} ms per batch (${first.batches} and ${second.batches} batches)`,
    );
  }, 180_000);

  afterAll(async () => {
    console.log(report.join('\n'));
    await Promise.all(worlds.map(removeWorld));
    await server.stop();
  });

  describe('the uninterrupted reference runs', () => {
    it('given 2,000 generated profiles in a KurrentDB store, when synced once and then again after a round of changes, then the warehouse holds a row per profile, and the second run changed rows and groups', () => {
      expect(first.tables.rows).toHaveLength(PROFILES);
      expect(first.batches).toBe(BATCHES);
      expect(second.batches).toBeGreaterThan(2);
      expect(second.batches).toBeLessThan(BATCHES);
      expect(second.tables.rows).not.toEqual(first.tables.rows);
    });

    it('given a KurrentDB world and its copy under another prefix, when both are read through the adapter, then the copy holds as many events, at positions that only grow and are not those of the original', async () => {
      const copy = track(await copyWorld(unsynced));
      const [a, b] = [await storePositions(unsynced), await storePositions(copy)];
      expect(b.events).toBe(a.events);
      expect(await positionsGrow(copy)).toBe(true);
      expect(b.last).toBeGreaterThan(a.last);
    });
  });

  describe('a first sync killed with SIGKILL', () => {
    it.each(trials)(
      'given a first sync of 2,000 profiles from a KurrentDB store killed $when, when sync runs again, then the warehouse equals the uninterrupted run, the store is sound with positions that only grow, every decision has an outcome and a further sync decides nothing',
      async ({ when, after, part }) => {
        const world = track(await copyWorld(unsynced));
        const kill = await killMidway(world, {
          sync: SYNC,
          ref: first,
          after,
          part,
          input: inputEvents,
          track,
        });
        report.push(
          `first sync killed ${when}: ${kill.delayMs.toFixed(1)} ms after batch ${after} → ${kill.where}`,
        );
        expect(kill.killed).toBe(true);
        await expectRecovered(world, first.tables, SYNC, report);
      },
      90_000,
    );
  });

  describe('a sync of a round of changes killed with SIGKILL', () => {
    it('given a synced warehouse and a round of changes in a KurrentDB store, when the sync of the changes is killed half way and sync runs again, then the warehouse equals the uninterrupted run with the same changes, and every decision has an outcome', async () => {
      const world = track(await copyWorld(synced));
      expect(await ingestEvents(world, round)).toBe(roundEvents);
      const after = Math.floor(second.batches / 2);
      const kill = await killMidway(world, {
        sync: SYNC,
        ref: second,
        after,
        part: changeTrial.part,
        input: inputEvents + roundEvents,
        track,
      });
      report.push(
        `sync of changes killed: ${kill.delayMs.toFixed(1)} ms after batch ${after} of ${second.batches} → ${kill.where}`,
      );
      expect(kill.killed).toBe(true);
      await expectRecovered(world, second.tables, SYNC, report);
    }, 90_000);
  });
});
