// Several processes at once on one PostgreSQL store: two syncs of one destination (one runs, one is
// told which run is in progress), ingests from several processes, and ingests while a follower syncs.
import { randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { population } from '../adapters/demo/people.js';
import type { InputEvent } from '../domain/events.js';
import {
  NO_DIFFERENCE,
  POSTGRES,
  copyWorld,
  createWorld,
  launch,
  readTables,
  removeWorld,
  storePositions,
  syncToEnd,
  tableDiff,
  type FaultWorld,
  type Tables,
} from './support/faultWorld.js';
import { dropSchemas, onServer, postgresAnswers } from './support/postgres.js';
import { busy, busyJson, expectOneOfTwoApplied, onlyRun, secondWhileFirstHeld } from './support/syncRaces.js';

/** Fewer profiles than the SQLite suite's 15,000: a run still takes a good part of a second. */
const PROFILES = 8_000;

const worlds: FaultWorld[] = [];
const track = (w: FaultWorld): FaultWorld => (worlds.push(w), w);

/** The groups, and then `files` files of the population's profiles (each profile's events in one file), every event with an id. */
const split = (
  events: readonly InputEvent[],
  files: number,
): { groups: InputEvent[]; files: InputEvent[][] } => {
  const withIds = events.map((e) => ({ ...e, id: randomUUID() }));
  const groups = withIds.filter((e) => e.type === 'GroupCreated');
  const out: InputEvent[][] = Array.from({ length: files }, () => []);
  for (const e of withIds) {
    if (e.type === 'GroupCreated') continue;
    const profileId = (e.data as { profileId: string }).profileId;
    out[Number(profileId.slice(1)) % files]?.push(e);
  }
  return { groups, files: out };
};

const writeJsonl = async (w: FaultWorld, name: string, events: readonly InputEvent[]): Promise<string> => {
  await writeFile(join(w.dir, name), `${events.map((e) => JSON.stringify(e)).join('\n')}\n`);
  return name;
};

/** Every stored event's id with its position, in position order. */
const storedIds = async (w: FaultWorld): Promise<{ id: string; position: number }[]> =>
  (
    await onServer<{ id: string; position: string }>(
      `SELECT id, position FROM "${w.schema ?? ''}".events ORDER BY position`,
    )
  ).map((r) => ({ id: r.id, position: Number(r.position) }));

/** Whether the positions of `ids` in `stored` are one unbroken run: a file's ingest is one transaction. */
const contiguous = (
  stored: readonly { id: string; position: number }[],
  ids: ReadonlySet<string>,
): boolean => {
  const at = stored.flatMap((e, i) => (ids.has(e.id) ? [i] : []));
  return at.length === ids.size && (at[at.length - 1] ?? 0) - (at[0] ?? 0) === at.length - 1;
};

describe.skipIf(!postgresAnswers)('several processes on one PostgreSQL store', () => {
  afterAll(async () => {
    await Promise.all(worlds.map(removeWorld));
    await dropSchemas();
  });

  describe('two syncs of one destination', () => {
    let unsynced: FaultWorld;
    let reference: Tables;
    let vipMembers: number;

    beforeAll(async () => {
      const events = [...population(PROFILES)];
      vipMembers = events.filter((e) => e.type === 'ProfileJoinedGroup' && e.data.groupId === 'vip').length;
      unsynced = track(await createWorld(events, 'vip', POSTGRES));
      const alone = track(await copyWorld(unsynced));
      await syncToEnd(alone);
      reference = readTables(alone);
    }, 60_000);

    it('given the VIP collection of 8,000 profiles in a PostgreSQL store, when one sync runs alone, then the warehouse holds a row per VIP member', () => {
      expect(vipMembers).toBeGreaterThan(PROFILES / 10);
      expect(reference.rows).toHaveLength(vipMembers);
    });

    it('given a sync from a PostgreSQL store held right after its RunStarted, when a second sync starts, then the second exits 1 naming the run in progress (on stderr and in its JSON), and the first then finishes alone', async () => {
      const world = track(await copyWorld(unsynced));
      const { first, second } = await secondWhileFirstHeld(world);
      expect(first.code).toBe(0);
      const runId = await onlyRun(world);
      expect(second.code).toBe(1);
      expect(second.stderr).toBe(busy(runId));
      expect(JSON.parse(second.stdout)).toStrictEqual(busyJson(runId));
      expect(tableDiff(readTables(world), reference)).toEqual(NO_DIFFERENCE);
    });

    it.each([1, 2])(
      'given a warehouse nobody syncs from a PostgreSQL store, when two `syncline sync --json` start at the same moment (round %i), then exactly one applies, and the other exits 1 naming the winning run or, if it only started after the first finished, finds nothing to do',
      async () => {
        const world = track(await copyWorld(unsynced));
        await expectOneOfTwoApplied(world, reference, { considered: PROFILES, created: vipMembers });
      },
    );
  });

  describe('ingests from several processes', () => {
    it('given a PostgreSQL store holding the groups, when two processes ingest two files of different profiles at the same moment, then both exit 0, every event of both files is stored exactly once, each file as one unbroken run of positions, and the positions are dense', async () => {
      const { groups, files } = split([...population(3_000, 7)], 2);
      const world = track(await createWorld(groups, 'all', POSTGRES));
      const names = await Promise.all(files.map((events, i) => writeJsonl(world, `part${i}.jsonl`, events)));
      const exits = await Promise.all(names.map((name) => launch(world, ['ingest', name]).exit));
      expect(exits.map((e) => [e.code, e.stderr])).toEqual(names.map(() => [0, '']));

      const stored = await storedIds(world);
      const expected = [...groups, ...files.flat()].map((e) => e.id as string);
      // Besides the input: the configuration createWorld applied.
      const input = stored.filter((e) => expected.includes(e.id));
      expect(input.map((e) => e.id).sort()).toEqual([...expected].sort());
      expect(new Set(stored.map((e) => e.id)).size).toBe(stored.length);
      for (const events of files)
        expect(contiguous(stored, new Set(events.map((e) => e.id as string)))).toBe(true);
      expect(await storePositions(world)).toEqual({
        events: stored.length,
        last: stored.length,
        dense: true,
      });
    });

    it('given a PostgreSQL store holding the groups, when two processes ingest the same file (events with ids) at the same moment, then both exit 0, one stores the file and the other adds nothing, and every event of it is stored exactly once', async () => {
      const { groups, files } = split([...population(2_000, 9)], 1);
      const world = track(await createWorld(groups, 'all', POSTGRES));
      const name = await writeJsonl(world, 'same.jsonl', files[0] ?? []);
      const exits = await Promise.all([
        launch(world, ['ingest', name]).exit,
        launch(world, ['ingest', name]).exit,
      ]);
      // Whichever stores it first, the other finds every id stored already: it adds nothing.
      expect(exits.map((e) => [e.code, e.stderr])).toEqual([
        [0, ''],
        [0, ''],
      ]);
      const ingested = exits.map((e) => Number(/ingested (\d+) events/.exec(e.stdout)?.[1]));
      expect(ingested.sort((a, b) => a - b)).toEqual([0, files[0]?.length]);
      const stored = await storedIds(world);
      const ids = (files[0] ?? []).map((e) => e.id as string);
      expect(stored.filter((e) => ids.includes(e.id))).toHaveLength(ids.length);
      expect(new Set(stored.map((e) => e.id)).size).toBe(stored.length);
      expect(await storePositions(world)).toEqual({
        events: stored.length,
        last: stored.length,
        dense: true,
      });
    });
  });

  describe('ingests while a follower syncs', () => {
    it.each(['SIGTERM', 'SIGINT'] as const)(
      'given `syncline sync --follow` on a PostgreSQL store, when three processes ingest files of different profiles at once, then once they finish the follower catches up, stops cleanly on %s, every profile is in the warehouse row by row as one sync of all the files would leave it, and replay --verify passes',
      async (stop) => {
        const events = [...population(4_500, 11)];
        const { groups, files } = split(events, 3);
        // What one sync of everything leaves, in a world of its own.
        const alone = track(await createWorld(events, 'all'));
        await syncToEnd(alone);
        const reference = readTables(alone);
        expect(reference.rows).toHaveLength(4_500);

        const world = track(await createWorld(groups, 'all', POSTGRES));
        const names = await Promise.all(files.map((part, i) => writeJsonl(world, `part${i}.jsonl`, part)));
        const follower = launch(world, ['sync', '--follow', '--json']);
        try {
          const exits = await Promise.all(names.map((name) => launch(world, ['ingest', name]).exit));
          expect(exits.map((e) => e.code)).toEqual([0, 0, 0]);
          const ingestsEnded = performance.now();
          // Caught up: its runs report every profile created, and the warehouse holds them all.
          const created = (out: string) =>
            out
              .split('\n')
              .filter((l) => l.trim() !== '')
              .map((l) => JSON.parse(l) as { totals: { created: number; failed: number } })
              .reduce((n, r) => n + r.totals.created, 0);
          for (let waited = 0; ; waited += 100) {
            // A line is only complete once its newline is printed.
            const lines = follower.stdout().slice(0, follower.stdout().lastIndexOf('\n') + 1);
            if (created(lines) === 4_500 && isDeepStrictEqual(readTables(world), reference)) break;
            if (waited > 60_000) throw new Error('the follower did not catch up within a minute');
            await sleep(100);
          }
          const caughtUpMs = performance.now() - ingestsEnded;
          follower.signal(stop);
          const stopped = await follower.exit;
          expect([stopped.code, stopped.stderr]).toEqual([0, '']);
          const runs = stopped.stdout
            .split('\n')
            .filter((l) => l.trim() !== '')
            .map((l) => JSON.parse(l) as { totals: { created: number; failed: number } });
          expect(created(stopped.stdout)).toBe(4_500);
          expect(runs.every((r) => r.totals.failed === 0)).toBe(true);
          console.log(
            `follower stopped with ${stop}: ${runs.length} runs; the ingests took ` +
              `${exits.map((e) => e.ms.toFixed(0)).join(', ')} ms, the follower caught up ${caughtUpMs.toFixed(0)} ms after`,
          );
        } finally {
          follower.kill();
        }
        expect(tableDiff(readTables(world), reference)).toEqual(NO_DIFFERENCE);
        expect(readTables(world)).toEqual(reference);
        const verified = await launch(world, ['replay', '--destination', 'warehouse', '--verify']).exit;
        expect(verified.code, verified.stderr + verified.stdout).toBe(0);
        expect((await storePositions(world)).dense).toBe(true);
      },
      120_000,
    );
  });
});
