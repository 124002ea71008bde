// Issue 4's story through the built CLI in all three modes: profiles join, change email, leave, are
// deleted and rejoin; log, explain and status tell it; then the additive destination moves to sync.
// Told once per kind of event store, which the config file names.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ADDITIVE,
  ENRICH,
  KEPT,
  NO_CREATE,
  ROUNDS,
  SYNC,
  config,
  expectedTables,
  givenStoryWorld,
  pid,
  range,
  type StoryWorld,
  type Entry,
  type Status,
  type SyncCounts,
} from './support/storyWorld.js';
import { storeKinds, type StoreKind } from './support/storeKinds.js';

type Item = { kind: string; type?: string; position: number; operation?: string; summary: string };
type Story = {
  timeline: Item[];
  at: {
    mode: string;
    desired: { inScope: boolean; scope: string };
    observed: { records: unknown[] };
    verdict: { operation: string } | null;
    reason: string;
  } | null;
};
const MODES = [
  ['sync', SYNC],
  ['additive', ADDITIVE],
  ['enrich', ENRICH],
] as const;
/** Per round and destination: considered, created, updated, deleted, skipped (no create), unchanged, failed. */
const COUNTS: Record<string, number[]>[] = [
  { [SYNC]: [16, 16, 0, 0, 0, 0, 0], [ADDITIVE]: [16, 16, 0, 0, 0, 0, 0], [ENRICH]: [16, 0, 1, 0, 15, 0, 0] },
  { [SYNC]: [3, 0, 1, 2, 0, 0, 0], [ADDITIVE]: [3, 0, 3, 0, 0, 0, 0], [ENRICH]: [3, 0, 1, 0, 1, 1, 0] },
  { [SYNC]: [2, 1, 0, 1, 0, 0, 0], [ADDITIVE]: [2, 0, 2, 0, 0, 0, 0], [ENRICH]: [2, 0, 1, 0, 0, 1, 0] },
  { [SYNC]: [9, 0, 0, 9, 0, 0, 0], [ADDITIVE]: [9, 0, 9, 0, 0, 0, 0], [ENRICH]: [9, 0, 0, 0, 0, 9, 0] },
];
const counted = ({ considered, totals: t }: SyncCounts): number[] => {
  expect(Object.keys(t.skipped).filter((m) => m !== NO_CREATE)).toEqual([]);
  return [considered, t.created, t.updated, t.deleted, t.skipped[NO_CREATE] ?? 0, t.unchanged, t.failed];
};
const ops = (op: string, ns: number[]) => ns.map((n) => `${pid(n)} ${op}`);
/** Per destination, each run's decisions as `profile operation`. */
const DECIDED: Record<string, string[][]> = {
  [SYNC]: [
    ops('create', range(1, 16)),
    ['p02 update', 'p03 delete', 'p04 delete'],
    ['p03 create', 'p05 delete'],
    ops('delete', range(6, 14)),
  ],
  [ADDITIVE]: [
    ops('create', range(1, 16)),
    ['p02 update', 'p03 update', 'p04 update'],
    ['p03 update', 'p05 update'],
    ops('update', range(6, 14)),
  ],
  [ENRICH]: [
    [...ops('skip', [1, 2]), 'p03 update', ...ops('skip', range(4, 16))],
    ['p02 skip', 'p03 update'],
    ['p03 update'],
    [],
  ],
};

for (const kind of storeKinds)
  describe.skipIf(!kind.runs)(`the story of issue 4 through the built CLI on a ${kind.name} store`, () =>
    story(kind),
  );

function story(kind: StoreKind): void {
  let w: StoryWorld;
  /** Each destination's run ids, one per round. */
  const runs: Record<string, string[]> = { [SYNC]: [], [ADDITIVE]: [], [ENRICH]: [] };
  /** A moment after each round's sync and before the next round's ingest. */
  const after: string[] = [];
  const status = () => w.json<Status>('status');
  const logOf = async (destinationId: string, ...args: string[]) =>
    (await w.json<{ entries: Entry[] }>('log', '--destination', destinationId, ...args)).entries;
  const explainP03 = (destinationId: string, ...args: string[]) =>
    w.json<Story>('explain', '--destination', destinationId, '--profile', 'p03', ...args);

  beforeAll(async () => {
    w = await givenStoryWorld(kind.freshUrl());
    await w.json('apply');
  });
  afterAll(async () => {
    await w.dir.remove();
    await kind.dropStores();
  });

  describe('act 1: four rounds of changes, each ingested and synced to every mode', () => {
    it.each([1, 2, 3, 4])(
      'given round %i ingested, when synced, then each mode did its own thing and the lag is gone',
      async (round) => {
        await w.json('ingest', `round${round}.jsonl`);
        const lagging = (await status()).destinations;
        for (const d of lagging) expect(d.lag.configChanged).toBe(round === 1);
        expect(lagging.map((d) => d.lag.profiles)).toEqual(Array(3).fill(COUNTS[round - 1]?.[SYNC]?.[0]));

        const synced = (await w.json<{ destinations: SyncCounts[] }>('sync')).destinations;
        expect(Object.fromEntries(synced.map((d) => [d.destinationId, counted(d)]))).toEqual(
          COUNTS[round - 1],
        );
        for (const d of synced) runs[d.destinationId]?.push(d.runId);
        for (const [mode, id] of MODES) expect(w.tables(id), id).toEqual(expectedTables(mode, round));
        for (const d of (await status()).destinations) expect(d.lag.profiles, d.destinationId).toBe(0);
        after.push(new Date().toISOString());
      },
    );
  });

  describe('act 2: what log, explain and status tell of it', () => {
    it.each(MODES)(
      'given the %s destination, when its log is read, then every decision is there, applied, with its causes and times',
      async (_mode, id) => {
        const log = await logOf(id);
        const byRun = runs[id]?.map((run) =>
          log.filter((x) => x.runId === run).map((x) => `${x.profileId} ${x.decision.operation}`),
        );
        expect(byRun).toEqual(DECIDED[id]);
        const configured = await w.positionsIn(`destination-${id}`);
        const positions = await w.positionsOf(ROUNDS.flat().map((e) => e.id));
        for (const x of log) {
          const round = runs[id]?.indexOf(x.runId) ?? -1;
          const events = ROUNDS[round]?.filter((e) => e.data.profileId === x.profileId) ?? [];
          const causes = [
            ...(round === 0
              ? configured.map((position) => ({ type: 'DestinationConfigured', position }))
              : []),
            ...events.map((e) => ({ type: e.type, position: positions.get(e.id) ?? -1 })),
          ];
          expect(
            x.causes.map(({ type, position }) => ({ type, position })),
            `${x.profileId} in round ${round + 1}`,
          ).toEqual(causes.sort((a, b) => a.position - b.position));
          expect(x.outcome.status).toBe(x.decision.operation === 'skip' ? 'skipped' : 'applied');
          if (round > 0) expect(x.times.caused).toBe(`2026-03-0${round + 1}T09:00:00.000Z`);
          expect(Date.parse(x.times.caused ?? '')).toBeLessThanOrEqual(Date.parse(x.times.decided));
          if (x.outcome.status === 'applied')
            expect(Date.parse(x.times.accepted ?? '')).toBeGreaterThanOrEqual(Date.parse(x.times.decided));
          else expect(x.times.accepted).toBeNull();
        }
      },
    );

    it('when the email-changer is logged, then the rename is an update from the old key to the new one', async () => {
      for (const id of [SYNC, ADDITIVE]) {
        const log = await logOf(id, '--profile', 'p02');
        expect(log.map((x) => [x.decision.operation, x.decision.key, x.keyAfter, x.outcome.status])).toEqual([
          ['create', 'p02@x.io', 'p02@x.io', 'applied'],
          ['update', 'p02@x.io', 'p02@new.io', 'applied'],
        ]);
        expect(log[1]?.decision.fields.set).toEqual({ email: 'p02@new.io' });
      }
      expect((await logOf(ENRICH, '--profile', 'p02')).map((x) => x.decision.message)).toEqual([
        NO_CREATE,
        NO_CREATE,
      ]);
    });

    it.each([
      [
        SYNC,
        ['create', 'delete', 'create'],
        'deleted: left the collection (no longer a member of vip) and sync mode removes profiles',
      ],
      [
        ADDITIVE,
        ['create', 'update', 'update'],
        'removed from groups Newsletter, VIP: left the collection (no longer a member of vip), and additive mode never deletes; the record is left in place',
      ],
      [
        ENRICH,
        ['update', 'update', 'update'],
        'removed from groups Newsletter, VIP: left the collection (no longer a member of vip), and enrich mode never deletes; the record is left in place',
      ],
    ])(
      'when the leaver is explained at %s, then her story is told in order with a reason for the leave',
      async (id, operations, leaveReason) => {
        const { timeline } = await explainP03(id);
        const looked = ['observation', 'decision', 'outcome'];
        expect(timeline.map((i) => (i.kind === 'event' || i.kind === 'config' ? i.type : i.kind))).toEqual([
          ...[
            'DestinationConfigured',
            'ProfileCreated',
            'ProfileJoinedGroup',
            'ProfileJoinedGroup',
            ...looked,
          ],
          ...['ProfileLeftGroup', ...looked, 'ProfileJoinedGroup', ...looked],
        ]);
        expect(timeline.map((i) => i.position)).toEqual(
          timeline.map((i) => i.position).sort((a, b) => a - b),
        );
        const decisions = timeline.filter((i) => i.kind === 'decision');
        expect(decisions.map((i) => i.operation)).toEqual(operations);
        expect(decisions[1]?.summary).toBe(leaveReason);
      },
    );

    it('when the leaver is explained at a time between rounds 2 and 3, then she is out of scope and kept without groups', async () => {
      const { at } = await explainP03(ADDITIVE, '--at', after[1] ?? '');
      expect(at).toMatchObject({
        mode: 'additive',
        desired: { inScope: false, scope: 'left the collection (no longer a member of vip)' },
        observed: {
          records: [{ key: 'p03@x.io', fields: { email: 'p03@x.io', first_name: 'Name 3' }, groups: [] }],
        },
        verdict: { operation: 'nothing' },
        reason:
          'nothing to do: left the collection (no longer a member of vip); additive mode never deletes and record p03@x.io has no managed groups left',
      });
      const before = await explainP03(SYNC, '--at', after[0] ?? '');
      expect(before.at).toMatchObject({ desired: { inScope: true }, verdict: { operation: 'nothing' } });
      expect(before.at?.reason).toBe(
        'in sync: record p03@x.io already holds every mapped field and managed group',
      );
    });

    it('when the status is read, then every destination has four runs, no failures and no lag', async () => {
      const s = await status();
      expect(s.destinations.map((d) => [d.destinationId, d.runs, d.lastRun?.mode])).toEqual([
        [ENRICH, 4, 'enrich'],
        [ADDITIVE, 4, 'additive'],
        [SYNC, 4, 'sync'],
      ]);
      for (const d of s.destinations)
        expect(d).toMatchObject({
          failedRun: null,
          openRun: null,
          failures: { waiting: 0 },
          pending: 0,
          lag: { profiles: 0 },
        });
    });
  });

  describe('act 3: the additive destination switched to sync after a preview', () => {
    const leavers = [4, 5, ...range(6, 14)].map(pid);

    it('given a preview in sync mode, then it lists exactly the kept leavers as deletes and writes nothing', async () => {
      const head = (await status()).head;
      const plan = await w.json<{
        destinations: {
          counts: Record<string, number>;
          decisions: { profileId: string; operation: string; key: string }[];
        }[];
      }>('plan', '--destination', ADDITIVE, '--mode', 'sync');
      const [only] = plan.destinations;
      expect(only?.counts).toEqual({ create: 0, update: 0, delete: 11, skip: 0, unchanged: 5 });
      expect(only?.decisions.map((d) => [d.profileId, d.operation, d.key])).toEqual(
        leavers.map((p) => [p, 'delete', `${p}@x.io`]),
      );
      // Exactly those whose last word from syncline was "kept, removed from groups".
      const last = new Map((await logOf(ADDITIVE)).map((x) => [x.profileId, x.decision.message]));
      expect(
        [...last]
          .filter(([, m]) => m === KEPT)
          .map(([p]) => p)
          .sort(),
      ).toEqual(leavers);
      expect((await status()).head).toBe(head);
      expect(w.tables(ADDITIVE)).toEqual(expectedTables('additive', 4));
    });

    it('given the config switched and applied, when synced, then the guardrail refuses and nothing is applied', async () => {
      await w.dir.write('syncline.config.json', config('sync', w.store));
      expect(await w.json('apply')).toMatchObject({ changed: [ADDITIVE], unchanged: [SYNC, ENRICH] });
      const head = (await status()).head;
      const logged = (await logOf(ADDITIVE)).length;

      const refused = await w.cli('sync', '--destination', ADDITIVE);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain('this sync would delete 11 records, more than the limit of 10');
      expect(refused.stderr).toContain(`syncline sync --destination ${ADDITIVE} --max-deletes 11`);
      expect(w.tables(ADDITIVE)).toEqual(expectedTables('additive', 4));
      expect((await status()).head).toBe(head);
      expect(await logOf(ADDITIVE)).toHaveLength(logged);
    });

    it('when synced with --max-deletes 11, then the leavers are deleted and the table is what sync would hold', async () => {
      const r = await w.json<{ destinations: SyncCounts[] }>(
        'sync',
        '--destination',
        ADDITIVE,
        '--max-deletes',
        '11',
      );
      expect(r.destinations).toMatchObject([
        {
          destinationId: ADDITIVE,
          mode: 'sync',
          totals: { created: 0, updated: 0, deleted: 11, unchanged: 5, failed: 0 },
        },
      ]);
      expect(w.tables(ADDITIVE)).toEqual(expectedTables('sync', 4));
      const latest = (await logOf(ADDITIVE)).filter((x) => x.runId === r.destinations[0]?.runId);
      expect(latest.map((x) => [x.profileId, x.decision.operation, x.outcome.status])).toEqual(
        leavers.map((p) => [p, 'delete', 'applied']),
      );
      expect(latest.every((x) => x.causes.some((c) => c.type === 'DestinationConfigured'))).toBe(true);
    });
  });
}
