// End-to-end tests of what every `syncline` command shares: usage errors exit 2, help exits 0, the
// global options are accepted before or after the command, and the built file is the package's bin.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as E from 'fp-ts/lib/Either.js';
import { describe, expect, it } from 'vitest';
import { DEFAULT_HEAP_GROWTH_PERCENT, limitHeapGrowth } from '../adapters/cli/heap.js';
import { CLI_PATH, REPO_ROOT, linesOf, runCli } from './support/cli.js';

describe('syncline program', () => {
  it('exits 2 on an unknown command, with a suggestion on the same line', async () => {
    expect(await runCli(['simulat', 'x.json'])).toEqual({
      code: 2,
      stdout: '',
      stderr: "syncline: unknown command 'simulat' (Did you mean simulate?)\n",
    });
  });

  it('exits 2 when SYNCLINE_HEAP_GROWTH_PERCENT is not a whole number, naming the variable and its value', async () => {
    expect(await runCli(['describe'], { env: { SYNCLINE_HEAP_GROWTH_PERCENT: '2.5' } })).toEqual({
      code: 2,
      stdout: '',
      stderr:
        'syncline: SYNCLINE_HEAP_GROWTH_PERCENT: "2.5" is not a whole number of percent (0 leaves V8\'s own policy)\n',
    });
    expect(await runCli(['describe'], { env: { SYNCLINE_HEAP_GROWTH_PERCENT: '0' } })).toMatchObject({
      code: 0,
    });
  });

  it('exits 2 on an unknown global option', async () => {
    expect(await runCli(['--stor', 'x', 'describe'])).toMatchObject({ code: 2, stdout: '' });
  });

  it('prints help on stderr and exits 2 when no command is given', async () => {
    const r = await runCli([]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^Usage: syncline \[options\] \[command\]/);
    expect(linesOf(r.stderr).at(-1)).toBe('syncline: no command given');
  });

  it('exits 0 on --help, showing the global options under each command', async () => {
    const top = await runCli(['--help']);
    expect(top).toMatchObject({ code: 0, stderr: '' });
    expect(top.stdout).toMatch(/simulate \[options\] <file>/);
    expect(top.stdout).toMatch(/describe \[type\]/);
    const sub = await runCli(['simulate', '--help']);
    expect(sub).toMatchObject({ code: 0, stderr: '' });
    for (const option of ['--mode <mode>', '--store <url>', '--config <file>', '--json', 'SYNCLINE_STORE']) {
      expect(sub.stdout).toContain(option);
    }
  });

  it('accepts global options before and after the command', async () => {
    const before = await runCli(['--json', '--store', 'memory:', 'describe', 'memory']);
    const after = await runCli(['describe', 'memory', '--json', '--config', 'other.json']);
    expect(before.code).toBe(0);
    expect(after).toEqual(before);
    expect(JSON.parse(before.stdout)).toMatchObject({ type: 'memory' });
  });

  it('is the package bin: a node script with a shebang that npm can run', async () => {
    const pkg = JSON.parse(await readFile(join(REPO_ROOT, 'package.json'), 'utf8')) as {
      bin: Record<string, string>;
      version: string;
    };
    expect(join(REPO_ROOT, pkg.bin.syncline ?? '')).toBe(CLI_PATH);
    expect((await readFile(CLI_PATH, 'utf8')).split('\n')[0]).toBe('#!/usr/bin/env node');
    const version = await runCli(['--version']);
    expect(version).toEqual({
      code: 0,
      stdout: `${pkg.version}\n`,
      stderr: '',
    });
    // npm exec runs the project's own bin (making it executable), as an installed package would.
    const viaBin = await promisify(execFile)(
      'npm',
      ['exec', '--no', '--', 'syncline', 'describe', '--json'],
      {
        cwd: REPO_ROOT,
        encoding: 'utf8',
      },
    );
    expect(JSON.parse(viaBin.stdout)).toMatchObject({
      types: [
        { type: 'http' },
        { type: 'memory' },
        { type: 'mysql' },
        { type: 'postgres' },
        { type: 'sqlite' },
      ],
    });
  });
});

describe('the heap growth step', () => {
  it('is 30% unless SYNCLINE_HEAP_GROWTH_PERCENT says otherwise; 0 leaves V8 its own policy; anything else is refused', () => {
    expect(limitHeapGrowth({})).toEqual(E.right(DEFAULT_HEAP_GROWTH_PERCENT));
    expect(DEFAULT_HEAP_GROWTH_PERCENT).toBe(30);
    expect(limitHeapGrowth({ SYNCLINE_HEAP_GROWTH_PERCENT: '' })).toEqual(E.right(30));
    expect(limitHeapGrowth({ SYNCLINE_HEAP_GROWTH_PERCENT: '45' })).toEqual(E.right(45));
    expect(limitHeapGrowth({ SYNCLINE_HEAP_GROWTH_PERCENT: '0' })).toEqual(E.right(undefined));
    for (const bad of ['-1', 'lots', '1e400'])
      expect(E.isLeft(limitHeapGrowth({ SYNCLINE_HEAP_GROWTH_PERCENT: bad }))).toBe(true);
  });
});

describe('what the program loads at start', () => {
  it('given the program loaded to run any command, then rxjs is not among its modules: only `sync --follow` loads it', async () => {
    // rxjs took 100–130 ms to load, and every command paid it before a lazy import moved it.
    const script = [
      "import { createRequire } from 'node:module';",
      `await import(${JSON.stringify(join(REPO_ROOT, 'dist/adapters/cli/program.js'))});`,
      'const loaded = Object.keys(createRequire(import.meta.url).cache);',
      "console.log(JSON.stringify({ rxjs: loaded.filter((k) => k.includes('/node_modules/rxjs/')).length, commander: loaded.some((k) => k.includes('/node_modules/commander/')) }));",
    ].join('\n');
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
    });
    // commander shows that loaded modules are seen at all.
    expect(JSON.parse(stdout)).toEqual({ rxjs: 0, commander: true });
  });
});
