// One command line: help marks required options, tables fit COLUMNS (--wide prints them whole), a
// bad option value is a usage error naming the option and the value, and an unknown --destination
// gets one message from every command that takes one.
import { copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import pc from 'picocolors';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fitColumns, table } from '../adapters/cli/output.js';
import { REPO_ROOT, runCli, tempDir, type CliResult } from './support/cli.js';

const plain = { colors: pc.createColors(false), width: undefined };
/** The lines of a boxed table in some output. */
const tableLines = (out: string): string[] => out.split('\n').filter((l) => /^[┌│├└]/.test(l));
const widest = (lines: readonly string[]): number => Math.max(0, ...lines.map((l) => [...l].length));

describe('the command line, consistent', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  const cli = (args: readonly string[], env: Record<string, string> = {}): Promise<CliResult> =>
    runCli(args, { cwd: dir.path, env });
  beforeAll(async () => {
    dir = await tempDir();
    for (const f of ['syncline.config.json', 'events.jsonl', 'sync-scenario.json'])
      await copyFile(join(REPO_ROOT, 'examples', f), join(dir.path, f));
    for (const args of [['apply'], ['ingest', 'events.jsonl'], ['sync']])
      expect((await cli(args)).code, args.join(' ')).toBe(0);
  });
  afterAll(() => dir.remove());

  it.each([
    ['explain', ['--destination <id>', '--profile <id>'], ['--at <time>']],
    ['log', ['--destination <id>'], ['--profile <id>', '--run <id>']],
    ['replay', ['--destination <id>'], ['--run <runId>', '--with-config <file>']],
    ['retry', ['--destination <id>'], ['--since <time>']],
    ['sync', [], ['--destination <id>', '--batch-size <n>']],
  ])(
    'given `%s --help`, then exactly the options it requires are marked (required)',
    async (command, required, optional) => {
      const { stdout } = await cli([command, '--help']);
      const line = (flag: string) => stdout.split('\n').find((l) => l.trimStart().startsWith(flag)) ?? '';
      for (const flag of required) expect(line(flag), flag).toContain('(required)');
      for (const flag of optional) expect(line(flag), flag).not.toContain('(required)');
      expect(stdout.split('\n').filter((l) => l.includes('(required)'))).toHaveLength(required.length);
    },
  );

  const TABLES: [string, string[]][] = [
    ['simulate', ['simulate', 'sync-scenario.json']],
    ['plan', ['plan', '--destination', 'warehouse', '--full', '--mode', 'additive']],
    ['log', ['log', '--destination', 'warehouse']],
    // A fixed --at: one relative to now names a different second in each of two runs.
    ['explain', ['explain', '--destination', 'crm', '--profile', 'ada', '--at', '2020-01-01T00:00:00Z']],
    ['replay', ['replay', '--destination', 'newsletter', '--mode', 'sync']],
  ];

  it.each(TABLES)(
    'given COLUMNS=60, when %s prints a table, then every table line fits 60 and cut cells end in …',
    async (_name, args) => {
      const r = await cli(args, { COLUMNS: '60' });
      expect(r.stderr).toBe('');
      const lines = tableLines(r.stdout);
      expect(lines.length).toBeGreaterThan(0);
      expect(widest(lines)).toBeLessThanOrEqual(60);
      expect(lines.some((l) => l.includes('…'))).toBe(true);
    },
  );

  it.each(TABLES)(
    'given COLUMNS=60 and --wide, when %s prints a table, then it is whole',
    async (_name, args) => {
      const fitted = await cli(args, { COLUMNS: '60' });
      const wide = await cli([...args, '--wide'], { COLUMNS: '60' });
      const unlimited = await cli(args);
      expect(widest(tableLines(wide.stdout))).toBeGreaterThan(60);
      expect(tableLines(wide.stdout).some((l) => l.includes('…'))).toBe(false);
      // A pipe without COLUMNS gets whole tables too; fitting changes widths, never the rows.
      expect(tableLines(unlimited.stdout)).toStrictEqual(tableLines(wide.stdout));
      expect(tableLines(fitted.stdout)).toHaveLength(tableLines(wide.stdout).length);
    },
  );

  it('given columns wider than the room, then the widest are narrowed first to one cap and narrow ones stay whole', () => {
    // 4 columns take 13 characters of borders: 47 are left for content.
    expect(fitColumns([4, 10, 40, 30], 60)).toStrictEqual([4, 10, 16, 16]);
    expect(fitColumns([4, 10, 20], 60)).toStrictEqual([4, 10, 20]);
    const lines = table({ ...plain, width: 30 }, ['id', 'message'], [['p1', 'x'.repeat(50)]]).split('\n');
    expect(widest(lines)).toBeLessThanOrEqual(30);
    expect(lines[3]).toMatch(/^│ p1 │ x+… │$/);
  });

  it.each([
    [['plan', '--limit', 'abc'], '--limit <n>', 'abc'],
    [['plan', '--batch-size', '1e3'], '--batch-size <n>', '1e3'],
    [['sync', '--batch-size', '-1'], '--batch-size <n>', '-1'],
    [['sync', '--max-deletes', '1.5'], '--max-deletes <n>', '1.5'],
    [['plan', '--mode', 'x'], '--mode <mode>', 'x'],
    [['replay', '--destination', 'crm', '--mode', 'x'], '--mode <mode>', 'x'],
    [['simulate', 'sync-scenario.json', '--mode', 'x'], '--mode <mode>', 'x'],
    [['log', '--destination', 'crm', '--operation', 'frob'], '--operation <op>', 'frob'],
    [['log', '--destination', 'crm', '--limit', '0'], '--limit <n>', '0'],
    [['explain', '--destination', 'crm', '--profile', 'ada', '--at', 'noon'], '--at <time>', 'noon'],
    [['replay', '--destination', 'crm', '--until', '2026-13-45'], '--until <time>', '2026-13-45'],
    [['retry', '--destination', 'crm', '--since', 'x'], '--since <time>', 'x'],
    [
      ['status', '--store', 'postgres://db/x?schema=Bad-Name'],
      '--store <url>',
      'postgres://db/x?schema=Bad-Name',
    ],
    [['status', '--store', 'kurrentdb://?tls=false'], '--store <url>', 'kurrentdb://?tls=false'],
  ])('given %j, then it is a usage error naming the option and the value', async (args, option, value) => {
    const r = await cli(args);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`option '${option}' argument '${value}' is invalid.`);
  });

  it.each([
    ['plan', []],
    ['sync', []],
    ['log', []],
    ['explain', ['--profile', 'ada']],
    ['replay', []],
    ['retry', []],
  ])(
    'given an unknown --destination, when %s runs, then it names the configured destinations as every command does',
    async (command, rest) => {
      const r = await cli([command, '--destination', 'nowhere', ...rest]);
      expect([r.code, r.stdout, r.stderr]).toStrictEqual([
        1,
        '',
        'syncline: destination nowhere is not configured (configured: warehouse, newsletter, crm)\n',
      ]);
    },
  );
});
