// End-to-end tests of `syncline simulate` that succeed: the built CLI on the example scenarios in
// each mode and with --mode, checking the exact JSON, the human table and the working directory.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, linesOf, runCli, tempDir } from './support/cli.js';

const NO_CHANGE = { fields: { set: {}, unset: [] }, groups: { add: [], remove: [] } };
const REMOVED_FROM_GROUPS =
  'Destination sync mode does not allow removing profiles; removed from groups instead';

// What each mode does with examples/enrich-scenario.json: ada and grace are the same in every mode
// (an update and a rename); linus has no record; margaret left the vip group; alan is in sync.
const ada = {
  profileId: 'ada',
  operation: 'update',
  key: 'ada@example.com',
  fields: { set: { ltv: 1200 }, unset: [] },
  groups: { add: [], remove: ['Newsletter'] },
};
const grace = {
  profileId: 'grace',
  operation: 'update',
  key: 'grace@old.example',
  fields: { set: { email: 'grace@new.example' }, unset: [] },
  groups: { add: [], remove: [] },
};
const linusCreated = {
  profileId: 'linus',
  operation: 'create',
  key: 'linus@example.com',
  fields: { set: { email: 'linus@example.com', first_name: 'Linus', ltv: 300 }, unset: [] },
  groups: { add: ['VIP'], remove: [] },
};
const margaretRemovedFromGroups = {
  profileId: 'margaret',
  operation: 'update',
  key: 'margaret@example.com',
  fields: { set: {}, unset: [] },
  groups: { add: [], remove: ['Newsletter', 'VIP'] },
  level: 'info',
  message: REMOVED_FROM_GROUPS,
};

const json = (stdout: string): unknown => JSON.parse(stdout);

describe('syncline simulate on the examples', () => {
  it('enrich: updates, a rename, no creation, and a leaver removed from the managed groups only', async () => {
    const r = await runCli(['simulate', 'examples/enrich-scenario.json', '--json']);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(json(r.stdout)).toEqual({
      decisions: [
        ada,
        grace,
        {
          profileId: 'linus',
          operation: 'skip',
          key: 'linus@example.com',
          ...NO_CHANGE,
          level: 'info',
          message: 'Destination sync mode does not allow creating new profiles',
        },
        margaretRemovedFromGroups,
      ],
    });
  });

  it('--mode sync: the same inputs create the newcomer and delete the leaver', async () => {
    const r = await runCli(['simulate', 'examples/enrich-scenario.json', '--json', '--mode', 'sync']);
    expect(r.code).toBe(0);
    expect(json(r.stdout)).toEqual({
      decisions: [
        ada,
        grace,
        linusCreated,
        { profileId: 'margaret', operation: 'delete', key: 'margaret@example.com', ...NO_CHANGE },
      ],
    });
  });

  it('--mode additive: creates the newcomer but only removes the leaver from groups', async () => {
    const r = await runCli(['--json', 'simulate', '--mode', 'additive', 'examples/enrich-scenario.json']);
    expect(r.code).toBe(0);
    expect(json(r.stdout)).toEqual({ decisions: [ada, grace, linusCreated, margaretRemovedFromGroups] });
  });

  it('additive: create, unset of a lost property, a deleted profile kept, a profile with no key', async () => {
    const r = await runCli(['simulate', 'examples/additive-scenario.json', '--json']);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(json(r.stdout)).toEqual({
      decisions: [
        {
          profileId: 'p-001',
          operation: 'create',
          key: 'kim@example.com',
          fields: { set: { email: 'kim@example.com', name: 'Kim Lee', plan: 'pro' }, unset: [] },
          groups: { add: ['Paying'], remove: [] },
        },
        {
          profileId: 'p-002',
          operation: 'update',
          key: 'sam@example.com',
          fields: { set: { name: 'Sam Roe-Diaz' }, unset: ['plan'] },
          groups: { add: [], remove: [] },
        },
        {
          profileId: 'p-003',
          operation: 'update',
          key: 'jo@example.com',
          fields: { set: {}, unset: [] },
          groups: { add: [], remove: ['Paying'] },
          level: 'info',
          message: REMOVED_FROM_GROUPS,
        },
        {
          profileId: 'p-004',
          operation: 'skip',
          ...NO_CHANGE,
          level: 'error',
          message: "Profile has no value for key field 'email'",
        },
      ],
    });
  });

  it('sync: numeric keys, a duplicate key, a delete; the profile in sync is omitted', async () => {
    const r = await runCli(['simulate', 'examples/sync-scenario.json', '--json']);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(json(r.stdout)).toEqual({
      decisions: [
        {
          profileId: 'u2',
          operation: 'update',
          key: '1002',
          fields: { set: { country: 'FR' }, unset: [] },
          groups: { add: ['Churn risk'], remove: [] },
        },
        {
          profileId: 'u3',
          operation: 'create',
          key: '1003',
          fields: { set: { country: 'NL', customer_id: 1003 }, unset: [] },
          groups: { add: ['Customers'], remove: [] },
        },
        { profileId: 'u4', operation: 'delete', key: '1004', ...NO_CHANGE },
        {
          profileId: 'u5',
          operation: 'skip',
          key: '1003',
          ...NO_CHANGE,
          level: 'error',
          message: "Key '1003' is also claimed by profile u3",
        },
      ],
    });
  });

  it('prints a plain table and counts for people when stdout is not a terminal', async () => {
    const r = await runCli(['simulate', 'examples/sync-scenario.json']);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(linesOf(r.stdout)).toEqual([
      'Destination warehouse (Warehouse customers table, sqlite) in sync mode.',
      '┌─────────┬───────────┬──────┬──────────────────────────────────────┬──────────────────────────────────────────┐',
      '│ profile │ operation │ key  │ changes                              │ message                                  │',
      '├─────────┼───────────┼──────┼──────────────────────────────────────┼──────────────────────────────────────────┤',
      '│ u2      │ update    │ 1002 │ set country; +Churn risk             │                                          │',
      '│ u3      │ create    │ 1003 │ set country, customer_id; +Customers │                                          │',
      '│ u4      │ delete    │ 1004 │                                      │                                          │',
      "│ u5      │ skip      │ 1003 │                                      │ Key '1003' is also claimed by profile u3 │",
      '└─────────┴───────────┴──────┴──────────────────────────────────────┴──────────────────────────────────────────┘',
      '4 decisions: 1 create, 1 update, 1 delete, 1 skip.',
    ]);
  });

  it('names the overriding mode and the configured one, and summarises unsets and groups', async () => {
    const r = await runCli(['simulate', 'examples/additive-scenario.json', '--mode', 'sync']);
    expect(r.code).toBe(0);
    const lines = linesOf(r.stdout);
    expect(lines[0]).toBe(
      'Destination mailer (Mailing tool, memory) in sync mode (--mode; the destination is configured for additive).',
    );
    expect(lines.find((l) => l.includes('p-002'))).toMatch(
      /│ update +│ sam@example\.com +│ set name; unset plan +│/,
    );
    expect(lines.find((l) => l.includes('p-003'))).toMatch(/│ delete +│ jo@example\.com +│ +│/);
    expect(lines.at(-1)).toBe('4 decisions: 1 create, 1 update, 1 delete, 1 skip.');
  });

  it('resolves the file against the working directory', async () => {
    const r = await runCli(['simulate', 'enrich-scenario.json', '--json'], {
      cwd: join(REPO_ROOT, 'examples'),
    });
    expect(r.code).toBe(0);
    expect((json(r.stdout) as { decisions: unknown[] }).decisions).toHaveLength(4);
  });
});

describe('syncline simulate when nothing is to be done', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  beforeAll(async () => {
    dir = await tempDir();
  });
  afterAll(() => dir.remove());

  const inDir = (args: string[]) => runCli(args, { cwd: dir.path });

  it('says there is nothing to do when the destination already matches', async () => {
    const file = await dir.write('in-sync.json', {
      destination: {
        destinationId: 'd',
        type: 'memory',
        collection: { kind: 'all' },
        keyField: 'id',
        mapping: { id: 'id' },
      },
      events: [{ type: 'ProfileCreated', data: { profileId: 'p1', properties: { id: 'a' } } }],
      observed: [{ key: 'a', fields: { id: 'a' } }],
    });
    const human = await inDir(['simulate', file]);
    expect(human).toEqual({
      code: 0,
      stdout: 'Destination d (memory) in sync mode.\nNothing to do: the destination already matches.\n',
      stderr: '',
    });
    const machine = await inDir(['simulate', file, '--json']);
    expect(machine.code).toBe(0);
    expect(json(machine.stdout)).toEqual({ decisions: [] });
  });
});
