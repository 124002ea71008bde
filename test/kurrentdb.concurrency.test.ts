// Several processes at once on one KurrentDB store: two syncs of one destination (one runs, one is told
// which run is in progress), and ingests of files from two processes, each event stored exactly once.
import { randomUUID } from 'node:crypto';
import { stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { population } from '../adapters/demo/people.js';
import { openStore } from '../adapters/stores/open.js';
import { streamOf, type InputEvent } from '../domain/events.js';
import type { StoredEvent } from '../engine/ports.js';
import {
  KURRENTDB,
  NO_DIFFERENCE,
  copyWorld,
  createWorld,
  launch,
  positionsGrow,
  readTables,
  removeWorld,
  storeIntegrity,
  syncToEnd,
  tableDiff,
  type FaultWorld,
  type Tables,
} from './support/faultWorld.js';
import { kurrentServer } from './support/kurrentdb.js';
import { busy, busyJson, expectOneOfTwoApplied, onlyRun, secondWhileFirstHeld } from './support/syncRaces.js';

/** Fewer profiles than the PostgreSQL suite's 8,000: a run still takes a good part of a second. */
const PROFILES = 2_000;
/** What the adapter sends in one append (adapters/stores/kurrentdb/writing.ts, APPEND_BYTES). */
const APPEND_BYTES = 512 * 1024;

const server = kurrentServer();
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

/** Every stored event, read through the adapter in `$all` order. */
const stored = async (w: FaultWorld): Promise<StoredEvent[]> => {
  const opened = await openStore(w.storeUrl, w.dir)();
  if (E.isLeft(opened)) throw new Error(opened.left.message);
  try {
    const out: StoredEvent[] = [];
    for await (const e of opened.right.readAll()) out.push(e);
    return out;
  } finally {
    await opened.right.close();
  }
};

/**
 * Whether each of `files` is stored exactly once, its events in each stream in the file's order: empty
 * when so, else what differs. (A file is several atomic appends on KurrentDB, so the files' events may
 * interleave in `$all`, and two files' memberships in a group's stream.)
 */
const storedOnceInOrder = (events: readonly StoredEvent[], files: readonly InputEvent[][]): string[] => {
  const byStream = new Map<string, string[]>();
  for (const e of events) byStream.set(e.stream, [...(byStream.get(e.stream) ?? []), e.id]);
  const problems: string[] = [];
  const ids = events.map((e) => e.id);
  if (new Set(ids).size !== ids.length) problems.push('an id is stored twice');
  for (const file of files) {
    const expected = new Map<string, string[]>();
    for (const e of file) {
      const stream = streamOf(e);
      expected.set(stream, [...(expected.get(stream) ?? []), e.id as string]);
    }
    const mine = new Set(file.map((e) => e.id));
    for (const [stream, want] of expected) {
      const got = (byStream.get(stream) ?? []).filter((id) => mine.has(id));
      if (got.join() !== want.join())
        problems.push(`${stream} holds ${got.length} of ${want.length}, or not in order`);
    }
  }
  return problems.slice(0, 5);
};

describe(`several processes on one KurrentDB store (${server.what})`, () => {
  beforeAll(server.start);

  afterAll(async () => {
    await Promise.all(worlds.map(removeWorld));
    await server.stop();
  });

  describe('two syncs of one destination', () => {
    let unsynced: FaultWorld;
    let reference: Tables;
    let vipMembers: number;

    beforeAll(async () => {
      const events = [...population(PROFILES)];
      vipMembers = events.filter((e) => e.type === 'ProfileJoinedGroup' && e.data.groupId === 'vip').length;
      unsynced = track(await createWorld(events, 'vip', KURRENTDB(server)));
      const alone = track(await copyWorld(unsynced));
      await syncToEnd(alone);
      reference = readTables(alone);
    }, 120_000);

    it('given the VIP collection of 2,000 profiles in a KurrentDB store, when one sync runs alone, then the warehouse holds a row per VIP member', () => {
      expect(vipMembers).toBeGreaterThan(PROFILES / 10);
      expect(reference.rows).toHaveLength(vipMembers);
    });

    it('given a sync from a KurrentDB store held right after its RunStarted, when a second sync starts, then the second exits 1 naming the run in progress (on stderr and in its JSON), and the first then finishes alone', async () => {
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
      'given a warehouse nobody syncs from a KurrentDB store, when two `syncline sync --json` start at the same moment (round %i), then exactly one applies, and the other exits 1 naming the winning run or, if it only started after the first finished, finds nothing to do',
      async () => {
        const world = track(await copyWorld(unsynced));
        await expectOneOfTwoApplied(world, reference, { considered: PROFILES, created: vipMembers });
      },
    );
  });

  describe('ingests from several processes', () => {
    it('given a KurrentDB store holding the groups and two files of different profiles, each larger than one append, when two processes ingest them at the same moment, then both exit 0 having stored their whole file, every event of both is stored exactly once and in its stream in the order of its file, and the store is sound with positions that only grow', async () => {
      const { groups, files } = split([...population(2 * PROFILES, 7)], 2);
      const world = track(await createWorld(groups, 'all', KURRENTDB(server)));
      const names = await Promise.all(files.map((events, i) => writeJsonl(world, `part${i}.jsonl`, events)));
      for (const name of names)
        expect((await stat(join(world.dir, name))).size).toBeGreaterThan(APPEND_BYTES);
      const exits = await Promise.all(names.map((name) => launch(world, ['ingest', name]).exit));
      expect(exits.map((e) => [e.code, e.stderr])).toEqual(names.map(() => [0, '']));
      expect(exits.map((e) => Number(/ingested (\d+) events/.exec(e.stdout)?.[1]))).toEqual(
        files.map((f) => f.length),
      );

      const events = await stored(world);
      const expected = [...groups, ...files.flat()].map((e) => e.id as string);
      const known = new Set(expected);
      // Besides the input: the configuration createWorld applied.
      expect(
        events
          .filter((e) => known.has(e.id))
          .map((e) => e.id)
          .sort(),
      ).toEqual([...expected].sort());
      expect(storedOnceInOrder(events, files)).toEqual([]);
      expect(await positionsGrow(world)).toBe(true);
      expect(await storeIntegrity(world)).toBe('ok');
    });

    it('given a KurrentDB store holding the groups, when two processes ingest the same file (events with ids) at the same moment, then both exit 0, between them they store the file once (an append at a time, so either may store a part), and every event of it is stored exactly once', async () => {
      const { groups, files } = split([...population(PROFILES, 9)], 1);
      const file = files[0] ?? [];
      const world = track(await createWorld(groups, 'all', KURRENTDB(server)));
      const name = await writeJsonl(world, 'same.jsonl', file);
      const exits = await Promise.all([
        launch(world, ['ingest', name]).exit,
        launch(world, ['ingest', name]).exit,
      ]);
      expect(exits.map((e) => [e.code, e.stderr])).toEqual([
        [0, ''],
        [0, ''],
      ]);
      const ingested = exits.map((e) => Number(/ingested (\d+) events/.exec(e.stdout)?.[1]));
      expect(ingested[0]! + ingested[1]!).toBe(file.length);
      const events = await stored(world);
      expect(storedOnceInOrder(events, [file])).toEqual([]);
      expect(await storeIntegrity(world)).toBe('ok');
    });
  });
});
