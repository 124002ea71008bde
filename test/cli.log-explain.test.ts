// `syncline log` and `syncline explain` through the built CLI: a store set up with apply, ingest and
// sync on a SQLite destination, then the recorded decisions, their causes and reasons as JSON and text.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempDir, type CliResult } from './support/cli.js';

const CONFIG = {
  destinations: [
    {
      destinationId: 'crm',
      type: 'sqlite',
      syncMode: 'additive',
      collection: { kind: 'group', groupId: 'vip' },
      keyField: 'email',
      mapping: { email: 'email', first_name: 'firstName' },
      groupMapping: { vip: 'VIP' },
      options: { path: 'crm.db', table: 'contacts' },
    },
  ],
};

const event = (type: string, data: Record<string, unknown>, occurredAt?: string) => ({
  id: randomUUID(),
  type,
  data,
  ...(occurredAt === undefined ? {} : { occurredAt }),
});
const jsonl = (events: readonly unknown[]): string => events.map((e) => JSON.stringify(e)).join('\n') + '\n';

const ROUNDS = [
  [
    event('GroupCreated', { groupId: 'vip', name: 'VIP' }),
    event(
      'ProfileCreated',
      { profileId: 'p1', properties: { email: 'ann@x.io', firstName: 'Ann' } },
      '2026-01-05T09:00:00Z',
    ),
    event('ProfileJoinedGroup', { groupId: 'vip', profileId: 'p1' }, '2026-01-05T09:30:00Z'),
    event('ProfileCreated', { profileId: 'p2', properties: { firstName: 'Bob' } }),
    event('ProfileJoinedGroup', { groupId: 'vip', profileId: 'p2' }),
  ],
  [
    event(
      'ProfilePropertiesChanged',
      { profileId: 'p1', set: { email: 'ann@new.io' } },
      '2026-01-06T10:00:00Z',
    ),
  ],
  [event('ProfileLeftGroup', { groupId: 'vip', profileId: 'p1' }, '2026-01-07T11:00:00Z')],
];

type Entry = {
  profileId: string;
  decision: { operation: string; key?: string };
  keyAfter: string | null;
  outcome: { status: string; attempts?: number };
  times: { caused: string | null; decided: string; accepted: string | null };
  causes: { type: string; position: number; occurredAt: string }[];
};
type Item = { kind: string; summary: string; operation?: string };
type Story = {
  timeline: Item[];
  at: {
    desired: { inScope: boolean; key: string | null };
    verdict: { operation: string } | null;
    reason: string;
  };
};

describe('syncline log and explain on a store built by apply, ingest and sync', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  const cli = (...args: string[]): Promise<CliResult> => runCli(args, { cwd: dir.path });
  const json = async <T>(...args: string[]): Promise<T> => {
    const r = await cli(...args, '--json');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    return JSON.parse(r.stdout) as T;
  };
  const entries = async (...args: string[]) =>
    (await json<{ entries: Entry[] }>('log', '--destination', 'crm', ...args)).entries;

  beforeAll(async () => {
    dir = await tempDir();
    await dir.write('syncline.config.json', CONFIG);
    expect((await cli('apply')).code).toBe(0);
    for (const [i, round] of ROUNDS.entries()) {
      await dir.write(`round${i}.jsonl`, jsonl(round));
      expect((await cli('ingest', `round${i}.jsonl`)).code).toBe(0);
      expect((await cli('sync')).code).toBe(0);
    }
  });
  afterAll(() => dir.remove());

  it('when we log ann, then her create, rename and group removal are there, applied, each with its cause and times', async () => {
    const log = await entries('--profile', 'p1');
    expect(log.map((x) => [x.decision.operation, x.decision.key, x.keyAfter, x.outcome.status])).toEqual([
      ['create', 'ann@x.io', 'ann@x.io', 'applied'],
      ['update', 'ann@x.io', 'ann@new.io', 'applied'],
      ['update', 'ann@new.io', 'ann@new.io', 'applied'],
    ]);
    expect(log.map((x) => x.causes.map((c) => c.type))).toEqual([
      ['DestinationConfigured', 'ProfileCreated', 'ProfileJoinedGroup'],
      ['ProfilePropertiesChanged'],
      ['ProfileLeftGroup'],
    ]);
    // caused: when the latest of its causes happened (here the config, applied after ann's backdated events)
    const latest = Math.max(...(log[0]?.causes ?? []).map((c) => Date.parse(c.occurredAt)));
    expect(Date.parse(log[0]?.times.caused ?? '')).toBe(latest);
    expect(log[1]?.times.caused).toBe('2026-01-06T10:00:00Z');
    expect(log[2]?.times.caused).toBe('2026-01-07T11:00:00Z');
    for (const x of log)
      expect(Date.parse(x.times.accepted ?? '')).toBeGreaterThanOrEqual(Date.parse(x.times.decided));
  });

  it('when we log the whole destination with filters, then operation, run and time narrow the entries', async () => {
    const all = await entries();
    expect(all.map((x) => x.profileId)).toEqual(['p1', 'p2', 'p1', 'p1']);
    expect((await entries('--operation', 'skip')).map((x) => [x.profileId, x.outcome.status])).toEqual([
      ['p2', 'skipped'],
    ]);
    expect(await entries('--since', '1h')).toHaveLength(4);
    expect(await entries('--until', '2000-01-01')).toEqual([]);
    const runId = (all[2] as Entry & { runId: string }).runId;
    expect((await entries('--run', runId)).map((x) => x.decision.operation)).toEqual(['update']);
    expect(await entries('--limit', '2')).toEqual(all.slice(2));
  });

  it('when we explain ann, then each decision is told in words after the event that led to it', async () => {
    const story = await json<Story>('explain', '--destination', 'crm', '--profile', 'p1');
    expect(story.timeline.filter((i) => i.kind === 'decision').map((i) => i.summary)).toEqual([
      'created: in scope (member of vip) and no record with key ann@x.io existed',
      'renamed ann@x.io → ann@new.io',
      'removed from groups VIP: left the collection (no longer a member of vip), and additive mode never deletes; the record is left in place',
    ]);
    expect(story.timeline.map((i) => i.kind)).toContain('observation');
  });

  it('when we explain ann at the moment the rename was decided, then a sync then would have decided the rename', async () => {
    const rename = (await entries('--profile', 'p1'))[1] as Entry;
    const story = await json<Story>(
      'explain',
      '--destination',
      'crm',
      '--profile',
      'p1',
      '--at',
      rename.times.decided,
    );
    expect(story.at.desired).toMatchObject({ inScope: true, key: 'ann@new.io' });
    expect(story.at.verdict).toMatchObject({ operation: 'update', key: 'ann@x.io' });
    expect(story.at.reason).toBe('renamed ann@x.io → ann@new.io');
  });

  it('when the output is piped, then log and explain print plain tables without colour', async () => {
    const log = await cli('log', '--destination', 'crm', '--profile', 'p2');
    expect(log.code).toBe(0);
    expect(log.stdout).toContain("skip: Profile has no value for key field 'email'");
    const story = await cli('explain', '--destination', 'crm', '--profile', 'p2');
    expect(story.stdout).toContain('skipped: no value for key field email');
    const newest = await cli('log', '--destination', 'crm', '--limit', '1');
    expect(newest.stdout).toContain(
      '4 decisions, oldest first\n… 3 earlier decisions not shown (--limit N, or --json)',
    );
    expect(log.stdout + story.stdout).not.toContain('\u001b[');
  });

  it('given a destination or profile the store does not know, then the command fails with a reason; a missing flag is a usage error', async () => {
    const unknown = await cli('log', '--destination', 'nowhere');
    expect([unknown.code, unknown.stderr.trim()]).toEqual([
      1,
      'syncline: destination nowhere is not configured (configured: crm)',
    ]);
    const nobody = await cli('explain', '--destination', 'crm', '--profile', 'ghost');
    expect([nobody.code, nobody.stderr.trim()]).toEqual([
      1,
      'syncline: profile ghost has no events in this store and no decisions at crm',
    ]);
    expect((await cli('explain', '--destination', 'crm')).code).toBe(2);
    expect((await cli('log', '--destination', 'crm', '--since', 'yesterday')).code).toBe(2);
  });

  it('given a key value (an email) where a profile id belongs, when explained, then it names the profile that holds the key', async () => {
    const byEmail = await cli('explain', '--destination', 'crm', '--profile', 'ann@new.io');
    expect([byEmail.code, byEmail.stdout, byEmail.stderr.trim()]).toEqual([
      1,
      '',
      'syncline: profile ann@new.io has no events in this store and no decisions at crm; ' +
        'the key email=ann@new.io is held by profile p1: try --profile p1',
    ]);
  });
});
