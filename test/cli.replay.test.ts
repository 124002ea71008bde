// `syncline replay` through the built CLI: runs made by `sync` in all three modes verify, a what-if
// mode or config lists what would have differed, and a decision forged into the store exits 1; on
// each kind of event store, named by --store.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MESSAGES } from '../domain/decision.js';
import { syncStream, type SyncEvent } from '../domain/syncEvents.js';
import { runCli, tempDir, type CliResult } from './support/cli.js';
import { storeKinds, withStoreAt, type StoreKind } from './support/storeKinds.js';

type BatchData = Extract<SyncEvent, { type: 'BatchDecided' }>['data'];
type RunJson = {
  runId: string;
  mode: string;
  outcome: string;
  decisions: number;
  matched: number | null;
  mismatches: { profileId: string | null; aspect: string; recorded: unknown; recomputed: unknown }[];
  counterfactual: {
    mode: string;
    counts: { kind: string; count: number; sentence: string }[];
    differences: { profileId: string; kind: string; would: { operation: string } }[];
  } | null;
};
type ReplayJson = { destinationId: string; verified: boolean; runs: RunJson[] };

const destination = (destinationId: string, syncMode: string) => ({
  destinationId,
  type: 'sqlite',
  syncMode,
  collection: { kind: 'group', groupId: 'customers' },
  keyField: 'email',
  mapping: { email: 'email', first_name: 'firstName' },
  groupMapping: { customers: 'Customers' },
  options: { path: `${destinationId}.db`, table: 'contacts' },
});
const CONFIG = {
  destinations: [
    destination('warehouse', 'sync'),
    destination('mailing', 'additive'),
    destination('crm', 'enrich'),
  ],
};

const event = (type: string, data: Record<string, unknown>) => ({ id: randomUUID(), type, data });
const jsonl = (events: readonly unknown[]): string => events.map((e) => JSON.stringify(e)).join('\n') + '\n';
const ids = ['p1', 'p2', 'p3', 'p4', 'p5', 'p6'];

// Six customers; then p2 changes email, p3 leaves, p4 is deleted and p7 arrives.
const ROUND_1 = [
  event('GroupCreated', { groupId: 'customers', name: 'Customers' }),
  ...ids.map((p) =>
    event('ProfileCreated', { profileId: p, properties: { email: `${p}@x.io`, firstName: p.toUpperCase() } }),
  ),
  ...ids.map((p) => event('ProfileJoinedGroup', { groupId: 'customers', profileId: p })),
];
const ROUND_2 = [
  event('ProfilePropertiesChanged', { profileId: 'p2', set: { email: 'p2@new.io' } }),
  event('ProfileLeftGroup', { groupId: 'customers', profileId: 'p3' }),
  event('ProfileDeleted', { profileId: 'p4' }),
  event('ProfileCreated', { profileId: 'p7', properties: { email: 'p7@x.io', firstName: 'P7' } }),
  event('ProfileJoinedGroup', { groupId: 'customers', profileId: 'p7' }),
];

for (const kind of storeKinds)
  describe.skipIf(!kind.runs)(`syncline replay on a ${kind.name} store`, () => replaySpecs(kind));

function replaySpecs(kind: StoreKind): void {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let store: string;
  const cli = (...args: string[]): Promise<CliResult> =>
    runCli(['--store', store, ...args], { cwd: dir.path });
  const replay = async (...args: string[]): Promise<ReplayJson> => {
    const r = await cli('replay', ...args, '--json');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    return JSON.parse(r.stdout) as ReplayJson;
  };

  beforeAll(async () => {
    dir = await tempDir();
    store = kind.freshUrl();
    await dir.write('syncline.config.json', CONFIG);
    await dir.write('round1.jsonl', jsonl(ROUND_1));
    await dir.write('round2.jsonl', jsonl(ROUND_2));
    for (const args of [
      ['apply'],
      ['ingest', 'round1.jsonl'],
      ['sync'],
      ['ingest', 'round2.jsonl'],
      ['sync'],
    ]) {
      const r = await cli(...args);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
    }
  });
  afterAll(async () => {
    await dir.remove();
    await kind.dropStores();
  });

  it.each(['warehouse', 'mailing', 'crm'])(
    'given two syncs of %s, when replayed with --verify, then both runs match decision for decision',
    async (id) => {
      const r = await replay('--destination', id, '--verify');
      expect(r.verified).toBe(true);
      expect(r.runs.map((run) => [run.outcome, run.decisions, run.matched, run.mismatches])).toEqual([
        ['finished', 6, 6, []],
        ['finished', 4, 4, []],
      ]);
    },
  );

  it('given no --verify and no what-if, when replayed for people, then it verifies and says so', async () => {
    const r = await cli('replay', '--destination', 'crm');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Replay of crm: 2 runs, 10 decisions recomputed from their recorded inputs');
    expect(r.stdout).toContain('Every recorded decision follows from its recorded inputs.');
  });

  it('given runs made in enrich, when replayed with --mode additive, then the skipped creates are listed and counted', async () => {
    const r = await replay('--destination', 'crm', '--mode', 'additive');
    expect(r.verified).toBe(false);
    const [first, second] = r.runs;
    expect(first?.counterfactual?.counts).toEqual([
      {
        kind: 'created/skipped',
        would: 'created',
        recorded: 'skipped',
        count: 6,
        sentence: 'would have created 6 profiles that enrich skipped',
      },
    ]);
    expect(first?.counterfactual?.differences.map((d) => d.profileId)).toEqual(ids);
    // p2 (renamed) and p7 (new) were skipped again in the second run; p3 and p4 were never written.
    expect(second?.counterfactual?.differences.map((d) => [d.profileId, d.would.operation])).toEqual([
      ['p2', 'create'],
      ['p7', 'create'],
    ]);
  });

  it('given runs made in additive, when replayed with --with-config naming a sync version, then the kept leavers would have been deleted', async () => {
    await dir.write('whatif.json', { destinations: [destination('mailing', 'sync')] });
    const r = await replay('--destination', 'mailing', '--with-config', 'whatif.json');
    expect(r.runs[1]?.counterfactual?.counts.map((c) => c.sentence)).toEqual([
      'would have deleted 2 profiles that additive kept',
    ]);
    expect(r.runs[1]?.counterfactual?.differences.map((d) => d.profileId)).toEqual(['p3', 'p4']);
    const human = await cli('replay', '--destination', 'mailing', '--with-config', 'whatif.json');
    expect(human.stdout).toContain('What mailing would have done under whatif.json (sync):');
    expect(human.stdout).toContain('would have deleted 2 profiles that additive kept');
  });

  it('given a file named by --config on replay, when replayed, then it is the config file as on every command, not a what-if', async () => {
    const r = await replay('--destination', 'mailing', '--config', 'whatif.json');
    expect(r.runs.map((x) => x.counterfactual)).toStrictEqual([null, null]);
  });

  it('given --mode and --with-config together, when replayed, then it is a usage error naming both', async () => {
    const r = await cli(
      'replay',
      '--destination',
      'mailing',
      '--mode',
      'sync',
      '--with-config',
      'whatif.json',
    );
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(
      /^syncline: --mode sync and --with-config whatif\.json are two what-ifs: give one/,
    );
  });

  it('given a what-if file that cannot be used, when replayed, then it fails naming the file', async () => {
    expect(await cli('replay', '--destination', 'crm', '--with-config', 'missing.json')).toMatchObject({
      code: 1,
      stderr: 'syncline: cannot read missing.json: no such file\n',
    });
    await dir.write('other.json', { destinations: [destination('warehouse', 'sync')] });
    expect(await cli('replay', '--destination', 'crm', '--with-config', 'other.json')).toMatchObject({
      code: 1,
      stderr: 'destinations: no destination crm (it has: warehouse)\n',
    });
  });

  it('given a destination without runs or no --destination, when replayed, then it fails or is a usage error', async () => {
    expect(await cli('replay', '--destination', 'nowhere')).toMatchObject({
      code: 1,
      stderr: 'syncline: destination nowhere is not configured (configured: warehouse, mailing, crm)\n',
    });
    expect((await cli('replay')).code).toBe(2);
  });

  it('given a decision forged into the store, when replayed, then it is named with both versions and the exit code is 1', async () => {
    await withStoreAt(store, dir.path, async (events) => {
      let original: BatchData | undefined;
      for await (const e of events.readStream(syncStream('warehouse')))
        if (e.type === 'BatchDecided') original ??= e.data as BatchData;
      const forged = structuredClone(original as BatchData);
      const p1 = forged.decisions.find((d) => d.decision.profileId === 'p1');
      if (p1) p1.decision = { ...p1.decision, operation: 'skip', level: 'info', message: MESSAGES.noCreate };
      await events.append([
        {
          stream: syncStream('warehouse'),
          events: [{ type: 'BatchDecided', data: forged }],
          expected: 'any',
        },
      ])();
    });

    const r = await cli('replay', '--destination', 'warehouse', '--json');
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      'syncline: replay of warehouse found 2 mismatches in 1 run: what was recorded does not follow from the recorded inputs\n',
    );
    const first = (JSON.parse(r.stdout) as ReplayJson).runs[0];
    expect(first?.mismatches.map((m) => [m.profileId, m.aspect])).toEqual([
      ['p1', 'decision'],
      [null, 'order'],
    ]);
    expect(first?.mismatches[0]?.recorded).toMatchObject({ operation: 'skip' });
    expect(first?.mismatches[0]?.recomputed).toMatchObject({ operation: 'create', key: 'p1@x.io' });
    const human = await cli('replay', '--destination', 'warehouse');
    expect(human.code).toBe(1);
    expect(human.stdout).toMatch(
      /MISMATCH run [0-9a-f-]+, profile p1, decided at position \d+: the decision/,
    );
  });
}
