// Replay of issue 4's story through the built CLI: every run verifies, what-if modes list exactly what
// the other mode would have done differently, and a forged decision or altered observation is caught.
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli.js';
import {
  ADDITIVE,
  ENRICH,
  KEPT,
  NO_CREATE,
  SYNC,
  givenStoryWorld,
  playWholeStory,
  pid,
  range,
  type Decision,
  type Entry,
  type StoryWorld,
} from './support/storyWorld.js';

type Run = {
  runId: string;
  mode: string;
  outcome: string;
  decisions: number;
  matched: number | null;
  mismatches: { profileId: string | null; aspect: string; recorded: Decision; recomputed: Decision }[];
  counterfactual: { differences: { profileId: string; kind: string; would: { operation: string } }[] } | null;
};
type Replay = { verified: boolean; runs: Run[] };
type Batch = {
  runId: string;
  observed: { key: string; fields: Record<string, unknown> }[];
  decisions: { decision: Decision }[];
};

describe('replay of the story of issue 4 through the built CLI', () => {
  let w: StoryWorld;
  const replay = (destinationId: string, ...args: string[]) =>
    w.json<Replay>('replay', '--destination', destinationId, ...args);
  /** Each run's profiles whose recorded decision passes `chosen`, from the destination's log. */
  const loggedPerRun = async (destinationId: string, runs: Run[], chosen: (d: Decision) => boolean) => {
    const { entries } = await w.json<{ entries: Entry[] }>('log', '--destination', destinationId);
    return runs.map((r) =>
      entries.filter((x) => x.runId === r.runId && chosen(x.decision)).map((x) => x.decision.profileId),
    );
  };
  /**
   * The store copied aside with the first batch `destinationId` decided rewritten by `tamper`; then
   * replay --verify there, as JSON and for people.
   */
  const tamperedReplay = async (destinationId: string, tamper: (b: Batch) => void) => {
    const copy = await w.copyStore();
    const db = new Database(join(copy.path, 'events.db'));
    const row = db
      .prepare(
        "SELECT position, data FROM events WHERE stream = ? AND type = 'BatchDecided' ORDER BY position LIMIT 1",
      )
      .get(`sync-${destinationId}`) as { position: number; data: string };
    const batch = JSON.parse(row.data) as Batch;
    tamper(batch);
    db.prepare('UPDATE events SET data = ? WHERE position = ?').run(JSON.stringify(batch), row.position);
    db.close();
    const cli = (...args: string[]) =>
      runCli(['replay', '--destination', destinationId, '--verify', ...args], { cwd: copy.path });
    const [asJson, forPeople] = [await cli('--json'), await cli()];
    await copy.remove();
    return { runId: batch.runId, asJson, forPeople, runs: (JSON.parse(asJson.stdout) as Replay).runs };
  };

  beforeAll(async () => {
    w = await givenStoryWorld();
    await playWholeStory(w);
  });
  afterAll(() => w.dir.remove());

  describe('verify', () => {
    it.each([
      [SYNC, ['sync', 'sync', 'sync', 'sync']],
      [ADDITIVE, ['additive', 'additive', 'additive', 'additive', 'sync']],
      [ENRICH, ['enrich', 'enrich', 'enrich', 'enrich']],
    ])(
      'given every run of %s, when replayed with --verify, then each decision matches',
      async (id, modes) => {
        const r = await replay(id, '--verify');
        expect(r.verified).toBe(true);
        expect(r.runs.map((run) => [run.mode, run.outcome, run.mismatches])).toEqual(
          modes.map((m) => [m, 'finished', []]),
        );
        for (const run of r.runs) expect(run.matched).toBe(run.decisions);
      },
    );
  });

  describe('what if', () => {
    it('given runs made in enrich, when replayed in additive, then exactly the skipped creates would have been created', async () => {
      const { runs } = await replay(ENRICH, '--mode', 'additive');
      const differences = runs.map((r) => r.counterfactual?.differences ?? []);
      expect(differences.map((ds) => ds.map((d) => d.profileId))).toEqual(
        await loggedPerRun(ENRICH, runs, (d) => d.message === NO_CREATE),
      );
      expect(differences.map((ds) => ds.map((d) => d.profileId))).toEqual([
        [1, 2, ...range(4, 16)].map(pid),
        ['p02'],
        [],
        [],
      ]);
      for (const d of differences.flat())
        expect([d.kind, d.would.operation]).toEqual(['created/skipped', 'create']);
    });

    it('given runs made in additive, when replayed in sync, then exactly the kept leavers would have been deleted', async () => {
      const { runs } = await replay(ADDITIVE, '--mode', 'sync');
      const differences = runs.map((r) => r.counterfactual?.differences ?? []);
      expect(differences.map((ds) => ds.map((d) => d.profileId))).toEqual(
        await loggedPerRun(ADDITIVE, runs, (d) => d.message === KEPT),
      );
      // The last run was made in sync mode already: nothing would have differed.
      expect(differences.map((ds) => ds.map((d) => d.profileId))).toEqual([
        [],
        ['p03', 'p04'],
        ['p05'],
        range(6, 14).map(pid),
        [],
      ]);
      for (const d of differences.flat())
        expect([d.kind, d.would.operation]).toEqual(['deleted/kept', 'delete']);
    });
  });

  describe('tampering', () => {
    it('given a decision forged in the store (a create turned into a skip), when verified, then the run and profile are named and it exits 1', async () => {
      const forged = await tamperedReplay(SYNC, (b) => {
        const p01 = b.decisions.find((d) => d.decision.profileId === 'p01');
        if (p01) p01.decision.operation = 'skip';
      });
      expect(forged.asJson.code).toBe(1);
      expect(forged.asJson.stderr).toBe(
        `syncline: replay of ${SYNC} found 1 mismatch in 1 run: what was recorded does not follow from the recorded inputs\n`,
      );
      const [first, ...rest] = forged.runs;
      expect(first?.runId).toBe(forged.runId);
      expect(
        first?.mismatches.map((m) => [m.profileId, m.aspect, m.recorded.operation, m.recomputed.operation]),
      ).toEqual([['p01', 'decision', 'skip', 'create']]);
      for (const run of rest) expect(run.mismatches).toEqual([]);
      expect(forged.forPeople.code).toBe(1);
      expect(forged.forPeople.stdout).toContain(
        `MISMATCH run ${forged.runId}, profile p01, decided at position`,
      );
    });

    it('given a recorded observation altered (the name the contact held), when verified, then the run and profile are named and it exits 1', async () => {
      const altered = await tamperedReplay(ENRICH, (b) => {
        const p03 = b.observed.find((r) => r.key === 'p03@x.io');
        if (p03) p03.fields.first_name = 'Name 3';
      });
      expect(altered.asJson.code).toBe(1);
      expect(altered.asJson.stderr).toContain(`replay of ${ENRICH} found 2 mismatches in 1 run`);
      const mismatch = altered.runs[0]?.mismatches;
      // The record matched to p03 then held the first name too: what the batch adopted differs as well.
      expect(mismatch?.map((m) => [m.profileId, m.aspect])).toEqual([
        ['p03', 'decision'],
        [null, 'adopted'],
      ]);
      // Recorded: the first name was set over 'Old'; from the altered observation there is nothing to set.
      expect(mismatch?.[0]?.recorded.fields.set).toEqual({ first_name: 'Name 3' });
      expect(mismatch?.[0]?.recomputed.fields.set).toEqual({});
      expect(altered.forPeople.stdout).toContain(
        `MISMATCH run ${altered.runId}, profile p03, decided at position`,
      );
    });
  });
});
