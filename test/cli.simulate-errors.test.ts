// End-to-end tests of `syncline simulate` that fail: every problem of a bad scenario on stderr with
// exit 1, JSON syntax errors by line and column, unreadable files, and usage errors with exit 2.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, linesOf, runCli, tempDir } from './support/cli.js';

describe('syncline simulate on scenarios it must refuse', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let example: { destination: Record<string, unknown>; events: Record<string, unknown>[] } & Record<
    string,
    unknown
  >;
  beforeAll(async () => {
    dir = await tempDir();
    example = JSON.parse(
      await readFile(join(REPO_ROOT, 'examples/enrich-scenario.json'), 'utf8'),
    ) as typeof example;
  });
  afterAll(() => dir.remove());

  const inDir = (args: string[]) => runCli(args, { cwd: dir.path });

  it('reports every decoding problem, one per line, and prints nothing on stdout', async () => {
    const bad = structuredClone(example);
    bad.destination.syncMode = 'mirror';
    bad.events[3] = { type: 'ProfileMade', data: {} };
    bad.events[4] = { type: 'ProfileCreated', data: { profileId: '', properties: { email: { at: 'x' } } } };
    bad.observed = [{ key: 'a', tags: ['VIP'] }];
    const file = await dir.write('bad.json', bad);
    const r = await inDir(['simulate', file, '--json']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(linesOf(r.stderr)).toEqual([
      'destination.syncMode: "mirror" is not one of sync, additive, enrich',
      'events[3].type: "ProfileMade" is not one of ProfileCreated, ProfilePropertiesChanged, ProfileDeleted, GroupCreated, GroupDeleted, ProfileJoinedGroup, ProfileLeftGroup, DestinationConfigured, DestinationRemoved',
      'events[4].data.profileId: must not be empty',
      'events[4].data.properties.email: must be a string, number, boolean, null, or an array of those',
      'observed[0].tags: is not a known field (expected key, fields, groups)',
    ]);
  });

  it('reports an unknown destination type along with the other problems', async () => {
    const bad = structuredClone(example);
    bad.destination.type = 'hubspot';
    bad.ledger = [{ profileId: 'ada' }];
    const file = await dir.write('unknown-type.json', bad);
    const r = await inDir(['simulate', file]);
    expect(r).toEqual({
      code: 1,
      stdout: '',
      stderr:
        'ledger[0].key: is required\n' +
        'destination crm: type "hubspot" is not a known destination type (http, memory, mysql, postgres, sqlite)\n',
    });
  });

  it('checks the options against the destination type', async () => {
    const bad = structuredClone(example);
    bad.destination.options = { table: 'contacts' };
    const file = await dir.write('no-path.json', bad);
    const r = await inDir(['simulate', file]);
    expect(r).toEqual({
      code: 1,
      stdout: '',
      stderr: 'destination crm: options.path: is required by type sqlite\n',
    });
  });

  it('names the file and the line and column of a JSON syntax error', async () => {
    const file = await dir.write(
      'broken.json',
      '{\n  "destination": {\n    "destinationId": "crm",\n  }\n}\n',
    );
    expect(await inDir(['simulate', file])).toEqual({
      code: 1,
      stdout: '',
      stderr: "syncline: broken.json is not valid JSON: unexpected '}' at line 4, column 3\n",
    });
    const truncated = await dir.write('truncated.json', '{"destination": {"destinationId": "crm"');
    expect((await inDir(['simulate', truncated])).stderr).toBe(
      'syncline: truncated.json is not valid JSON: unexpected end of file at line 1, column 40\n',
    );
  });

  it('fails with one line when the file cannot be read', async () => {
    expect(await inDir(['simulate', 'missing.json'])).toEqual({
      code: 1,
      stdout: '',
      stderr: 'syncline: cannot read missing.json: no such file\n',
    });
    expect(await inDir(['simulate', '.'])).toEqual({
      code: 1,
      stdout: '',
      stderr: 'syncline: cannot read .: is a directory\n',
    });
  });
});

describe('syncline simulate usage errors', () => {
  it.each([
    [['simulate', 'examples/enrich-scenario.json', '--bogus'], "syncline: unknown option '--bogus'"],
    [['simulate'], "syncline: missing required argument 'file'"],
    [
      ['simulate', 'a.json', 'b.json'],
      "syncline: too many arguments for 'simulate'. Expected 1 argument but got 2.",
    ],
    [
      ['simulate', 'examples/enrich-scenario.json', '--mode', 'mirror'],
      "syncline: option '--mode <mode>' argument 'mirror' is invalid. Allowed choices are sync, additive, enrich.",
    ],
  ])('exits 2 with one line and no output: %j', async (args, message) => {
    expect(await runCli(args)).toEqual({ code: 2, stdout: '', stderr: `${message}\n` });
  });
});
