// Crash safety and lost connections on the PostgreSQL store (docs/architecture.md, "Failure semantics"):
// a sync killed with SIGKILL, or whose connections the server ends, is continued by the next sync.
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
  POSTGRES,
  copyWorld,
  createWorld,
  ingestEvents,
  launch,
  readAllEvents,
  removeWorld,
  syncEventCounts,
  waitForSyncEvents,
  type FaultWorld,
} from './support/faultWorld.js';
import { dropDatabase, dropSchemas, freshDatabase, onServer, postgresAnswers } from './support/postgres.js';

/** Fewer profiles than the SQLite suite's 20,000 in smaller batches: as many batches to land in. */
const PROFILES = 5_000;
const SIZE = 100;
const SYNC = syncInBatches(SIZE);
const BATCHES = PROFILES / SIZE;
/** In the store URL of the connection-loss world: the server trusts local connections, so any will do. */
const PASSWORD = 'pw-Sentinel-7f3a';

const rnd = random(15_2026);
const trials = [
  { when: 'in its first batch', after: 0, part: rnd() },
  { when: 'half way through', after: BATCHES / 2, part: rnd() },
  { when: 'as it finishes its last batch', after: BATCHES, part: rnd() * 0.2 },
];
const changeTrial = { part: rnd() };
const cuts = [
  { when: 'just after it started its run', after: 0 },
  { when: 'a third of the way through', after: Math.round(BATCHES / 3) },
  { when: 'two thirds of the way through', after: Math.round((2 * BATCHES) / 3) },
];

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
/** a database of its own, so that ending its connections ends no other suite's */
let isolated: string | undefined;

describe.skipIf(!postgresAnswers)('the PostgreSQL store under faults', () => {
  beforeAll(async () => {
    unsynced = track(await createWorld([...population(PROFILES)], 'all', POSTGRES));
    inputEvents = await readAllEvents(unsynced);
    const world = track(await copyWorld(unsynced));
    first = await reference(world, SYNC);
    synced = track(await copyWorld(world));
    round = changes(PROFILES, 0.05).events;
    roundEvents = await ingestEvents(world, round);
    second = await reference(world, SYNC);
    isolated = await freshDatabase(PASSWORD);
  }, 120_000);

  afterAll(async () => {
    console.log(report.join('\n'));
    await Promise.all(worlds.map(removeWorld));
    if (isolated !== undefined) await dropDatabase(isolated);
    await dropSchemas();
  });

  describe('the uninterrupted reference runs', () => {
    it('given 5,000 generated profiles in a PostgreSQL store, when synced once and then again after a round of changes, then the warehouse holds a row per profile, and the second run changed rows and groups', () => {
      expect(first.tables.rows).toHaveLength(PROFILES);
      expect(first.batches).toBe(BATCHES);
      expect(second.batches).toBeGreaterThan(2);
      expect(second.tables.rows).not.toEqual(first.tables.rows);
    });
  });

  describe('a first sync killed with SIGKILL', () => {
    it.each(trials)(
      'given a first sync of 5,000 profiles from a PostgreSQL store killed $when, when sync runs again, then the warehouse equals the uninterrupted run, the store is sound with dense positions, every decision has an outcome and a further sync decides nothing',
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
    );
  });

  describe('a sync of a round of changes killed with SIGKILL', () => {
    it('given a synced warehouse and a round of changes in a PostgreSQL store, when the sync of the changes is killed half way and sync runs again, then the warehouse equals the uninterrupted run with the same changes, and every decision has an outcome', async () => {
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
    });
  });

  describe('a sync whose connections the server ends', () => {
    it.each(cuts)(
      'given a sync from a PostgreSQL store, when the server ends every syncline connection $when, then the run carries on or exits non-zero naming the store without its password, and the next sync converges to the uninterrupted run',
      async ({ when, after }) => {
        if (isolated === undefined) throw new Error('no database of its own');
        const world = track(await createWorld([...population(PROFILES)], 'all', { postgres: isolated }));
        expect(world.storeUrl).toContain(PASSWORD);
        const before = await syncEventCounts(world);
        const running = launch(world, SYNC);
        if (after === 0) await waitForSyncEvents(world, running, 'RunStarted', before.RunStarted + 1);
        else await waitForSyncEvents(world, running, 'BatchDecided', before.BatchDecided + after);
        // The statement an operator would run, in this database only: current_database() is `isolated`.
        const ended = await onServer<{ ended: boolean }>(
          `SELECT pg_terminate_backend(pid) AS ended FROM pg_stat_activity
            WHERE application_name = 'syncline' AND datname = current_database()`,
          [],
          isolated,
        );
        const exit = await running.exit;
        report.push(
          `connections ended ${when} (${ended.length} of them): the run ` +
            (exit.code === 0 ? 'carried on' : `exited ${exit.code ?? exit.signal}: ${exit.stderr.trim()}`),
        );
        expect(ended.filter((r) => r.ended).length).toBeGreaterThan(0);
        // Soft, so that a wrong message still lets the spec show whether the next sync converges.
        expect.soft(exit.signal).toBeNull();
        expect.soft(`${exit.stdout}${exit.stderr}`).not.toContain(PASSWORD);
        if (exit.code !== 0) {
          expect
            .soft(exit.stderr)
            .toContain(`postgres://postgres@127.0.0.1:5432/${new URL(isolated).pathname.slice(1)}`);
          // A message for people, not a driver's stack trace.
          expect.soft(exit.stderr).not.toMatch(/^\s+at /m);
        }
        await expectRecovered(world, first.tables, SYNC, report);
      },
    );
  });
});
