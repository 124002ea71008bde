// End-to-end tests of `syncline describe`: the built CLI lists the destination types with their
// modes (the default marked) and options, as JSON and as text, and refuses an unknown type.
import { describe, expect, it } from 'vitest';
import { describeTypes } from '../adapters/destinations/registry.js';
import { linesOf, runCli } from './support/cli.js';

// The mode texts are the mode table's (domain/modes.ts); every built-in type supports all three.
const ALL_MODES = [
  {
    name: 'sync',
    displayName: 'Sync',
    description: 'Add, update and remove profiles as needed',
    default: true,
  },
  {
    name: 'additive',
    displayName: 'Additive',
    description: 'Add and update profiles; never remove anyone',
    default: false,
  },
  {
    name: 'enrich',
    displayName: 'Enrich',
    description: 'Only update profiles that already exist in the destination',
    default: false,
  },
];

/** A type's own words come from its adapter; the CLI's part is the shape and the modes. */
const descriptionOf = (type: string): string =>
  describeTypes().find((t) => t.type === type)?.description ?? '';

const memory = {
  type: 'memory',
  description: descriptionOf('memory'),
  defaultMode: 'sync',
  modes: ALL_MODES,
  options: [],
};

const sqliteOptions = [
  { name: 'path', required: true, description: expect.any(String) as unknown },
  { name: 'table', required: true, description: expect.any(String) as unknown },
  {
    name: 'groupsTable',
    required: false,
    description: expect.any(String) as unknown,
    default: '<table>_groups',
  },
];
const sqlite = {
  type: 'sqlite',
  description: descriptionOf('sqlite'),
  defaultMode: 'sync',
  modes: ALL_MODES,
  options: sqliteOptions,
};

/** The server types: their options are checked by their own suites (postgresDestination.e2e, mysql's, http's). */
const server = (type: string) => ({
  type,
  description: descriptionOf(type),
  defaultMode: 'sync',
  modes: ALL_MODES,
  options: describeTypes().find((t) => t.type === type)?.options,
});

describe('syncline describe', () => {
  it('--json lists every type, sorted by name', async () => {
    const r = await runCli(['describe', '--json']);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(JSON.parse(r.stdout)).toEqual({
      types: [server('http'), memory, server('mysql'), server('postgres'), sqlite],
    });
  });

  it('--json with a type prints that type alone', async () => {
    const r = await runCli(['--json', 'describe', 'sqlite']);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(JSON.parse(r.stdout)).toEqual(sqlite);
  });

  it('describes a type for people: modes with the default marked, then options', async () => {
    const r = await runCli(['describe', 'memory']);
    expect(r).toEqual({
      code: 0,
      stderr: '',
      stdout: [
        `memory: ${memory.description}`,
        '  Modes:',
        '    sync      default  Add, update and remove profiles as needed',
        '    additive           Add and update profiles; never remove anyone',
        '    enrich             Only update profiles that already exist in the destination',
        '  Options:',
        '    (none)',
        '',
      ].join('\n'),
    });
  });

  it('lists required and optional options with their defaults', async () => {
    const r = await runCli(['describe', 'sqlite']);
    expect(r.code).toBe(0);
    const lines = linesOf(r.stdout);
    expect(lines.slice(0, 6)).toEqual([
      `sqlite: ${sqlite.description}`,
      '  Modes:',
      '    sync      default  Add, update and remove profiles as needed',
      '    additive           Add and update profiles; never remove anyone',
      '    enrich             Only update profiles that already exist in the destination',
      '  Options:',
    ]);
    expect(lines[6]).toMatch(/^ {4}path {9}required {2}\S/);
    expect(lines[7]).toMatch(/^ {4}table {8}required {2}\S/);
    expect(lines[8]).toMatch(/^ {4}groupsTable {2}optional {2}.*\(default: "<table>_groups"\)$/);
    expect(lines).toHaveLength(9);
  });

  it('without a type describes them all, a blank line apart', async () => {
    const r = await runCli(['describe']);
    expect(r.code).toBe(0);
    const lines = linesOf(r.stdout);
    expect(lines.filter((l) => /^\S/.test(l))).toEqual([
      `http: ${descriptionOf('http')}`,
      `memory: ${memory.description}`,
      `mysql: ${descriptionOf('mysql')}`,
      `postgres: ${descriptionOf('postgres')}`,
      `sqlite: ${sqlite.description}`,
    ]);
    expect(lines[lines.indexOf(`sqlite: ${sqlite.description}`) - 1]).toBe('');
  });

  it('fails on an unknown type, naming the known ones', async () => {
    for (const args of [
      ['describe', 'hubspot'],
      ['describe', 'hubspot', '--json'],
    ]) {
      expect(await runCli(args)).toEqual({
        code: 1,
        stdout: '',
        stderr:
          "syncline: unknown destination type 'hubspot' (known types: http, memory, mysql, postgres, sqlite)\n",
      });
    }
  });

  it('exits 2 on a usage error', async () => {
    expect(await runCli(['describe', 'memory', 'sqlite'])).toEqual({
      code: 2,
      stdout: '',
      stderr: "syncline: too many arguments for 'describe'. Expected 1 argument but got 2.\n",
    });
    expect(await runCli(['describe', '--verbose'])).toEqual({
      code: 2,
      stdout: '',
      stderr: "syncline: unknown option '--verbose'\n",
    });
  });
});
