// Destination options as the registry checks them and as a destination opens with them: one codec per
// option decides both, a variable's value is checked like a literal, and no message holds that value.
import fc from 'fast-check';
import * as E from 'fp-ts/lib/Either.js';
import { describe, expect, it } from 'vitest';
import type { DestinationConfig } from '../domain/destination.js';
import { memoryDestinationType } from '../adapters/destinations/memory.js';
import {
  checkEnvironment,
  resolveDestination,
  type DestinationInvalid,
} from '../adapters/destinations/registry.js';
import { sqliteDestinationType } from '../adapters/destinations/sqlite/destination.js';

const config = (
  options: Record<string, unknown>,
  over: Partial<DestinationConfig> = {},
): DestinationConfig => ({
  destinationId: 'crm',
  type: 'sqlite',
  collection: { kind: 'all' },
  keyField: 'email',
  mapping: { email: 'email', name: 'name' },
  options,
  ...over,
});

const problemsOf = (c: DestinationConfig): string[] =>
  E.match(
    (invalid: DestinationInvalid): string[] => [...invalid.problems],
    () => [],
  )(resolveDestination(c));

/** What opening says, or 'opened' (the database is private to the process and closed at once). */
const openWith = async (c: DestinationConfig, env: NodeJS.ProcessEnv = {}): Promise<string> => {
  const opened = await sqliteDestinationType.open(c, env)();
  if (E.isLeft(opened)) return opened.left.message;
  await opened.right.close();
  return 'opened';
};

describe('given a SQLite destination whose literal options or names the type cannot use', () => {
  it.each([
    [{ path: 42, table: 'contacts' }, 'options.path: must be a string, not 42'],
    [{ path: '', table: 'contacts' }, 'options.path: must not be empty'],
    [{ path: 'crm\u0000.db', table: 'contacts' }, 'options.path: must not contain a NUL character'],
    [
      { path: 'exports/', table: 'contacts' },
      'options.path: must name a file, not a directory (it ends with a separator)',
    ],
    [{ path: ':memory:', table: '' }, 'options.table: must not be empty'],
    [{ path: ':memory:', table: 'con\u0000tacts' }, 'options.table: must not contain a NUL character'],
    [
      { path: ':memory:', table: 'SQLite_contacts' },
      'options.table: must not start with sqlite_ (SQLite keeps those names for its own tables)',
    ],
    [
      { path: ':memory:', table: 'contacts', groupsTable: ['lists'] },
      'options.groupsTable: must be a string, not ["lists"]',
    ],
    [
      { path: ':memory:', table: 'contacts', groupsTable: 'lists\u0000' },
      'options.groupsTable: must not contain a NUL character',
    ],
    [
      { path: ':memory:', table: 'contacts', groupsTable: 'CONTACTS' },
      'options.groupsTable: must not name the same table as options.table',
    ],
    [
      { path: ':memory:', table: 'contacts', groupsTable: { env: '' } },
      'options.groupsTable.env: must not be empty',
    ],
    [
      { path: ':memory:', table: { env: 'T', default: 'contacts' } },
      'options.table.default: is not a known field (expected env)',
    ],
  ])('when %j is checked, then validate and open both refuse it: %s', async (options, problem) => {
    const c = config(options);
    expect(problemsOf(c)).toStrictEqual([`destination crm: ${problem}`]);
    expect(await openWith(c, { T: 'contacts' })).toBe(`destination crm: ${problem}`);
  });

  it('when a mapped field (and so the key field) holds NUL, then validate and open both name the field', async () => {
    const c = config(
      { path: ':memory:', table: 'contacts' },
      { keyField: 'e\u0000mail', mapping: { 'e\u0000mail': 'email' } },
    );
    const problem = 'destination crm: mapping: field "e\\u0000mail" must not contain a NUL character';
    expect(problemsOf(c)).toStrictEqual([problem]);
    expect(await openWith(c)).toBe(problem);
  });

  it('when every option is wrong at once, then each is named', () => {
    expect(problemsOf(config({ path: 1, table: '', groupsTable: null, colour: 'red' }))).toStrictEqual([
      'destination crm: options.path: must be a string, not 1',
      'destination crm: options.table: must not be empty',
      'destination crm: options.colour: is not known to type sqlite (its options: path, table, groupsTable)',
    ]);
  });
});

describe('given options read from variables', () => {
  const SECRET = 'sqlite_t0p-s3cret';
  const referenced = config({ path: { env: 'P' }, table: { env: 'T' }, groupsTable: { env: 'G' } });

  it('when the config is checked without the environment, then the references pass unread', () => {
    expect(problemsOf(referenced)).toStrictEqual([]);
  });

  it('when the variables hold values the options refuse, then validate and open name option and variable, not the value', async () => {
    const env = { P: `${SECRET}/`, T: SECRET, G: '' };
    const resolved = resolveDestination(referenced);
    if (E.isLeft(resolved)) throw new Error(resolved.left.problems.join('\n'));
    const problems = [
      'destination crm: options.path (from env P): must name a file, not a directory (it ends with a separator)',
      'destination crm: options.table (from env T): must not start with sqlite_ (SQLite keeps those names for its own tables)',
      'destination crm: options.groupsTable (from env G): must not be empty',
    ];
    expect(checkEnvironment(resolved.right, env)).toStrictEqual(problems);
    const opened = await openWith(referenced, env);
    expect(opened).toBe(
      `destination crm: ${problems.map((p) => p.replace('destination crm: ', '')).join('; ')}`,
    );
    expect(opened).not.toContain(SECRET);
  });

  it('when a variable is not set, then it is named with its option', () => {
    const resolved = resolveDestination(referenced);
    if (E.isLeft(resolved)) throw new Error(resolved.left.problems.join('\n'));
    expect(checkEnvironment(resolved.right, { P: ':memory:', T: 'contacts' })).toStrictEqual([
      'destination crm: options.groupsTable: environment variable G is not set',
    ]);
  });

  it('when a variable is named like what every object inherits, then it is not set unless the environment sets it', async () => {
    const c = config({ path: ':memory:', table: { env: 'constructor' }, groupsTable: { env: '__proto__' } });
    const problems = [
      'destination crm: options.table: environment variable constructor is not set',
      'destination crm: options.groupsTable: environment variable __proto__ is not set',
    ];
    const resolved = resolveDestination(c);
    if (E.isLeft(resolved)) throw new Error(resolved.left.problems.join('\n'));
    expect(checkEnvironment(resolved.right, process.env)).toStrictEqual(problems);
    expect(await openWith(c, process.env)).toBe(
      `destination crm: ${problems.map((p) => p.slice(17)).join('; ')}`,
    );
  });

  it('when two variables name one table, then the rule between options names the variable, not the table', async () => {
    const env = { P: ':memory:', T: SECRET.slice(7), G: SECRET.slice(7).toUpperCase() };
    const resolved = resolveDestination(referenced);
    if (E.isLeft(resolved)) throw new Error(resolved.left.problems.join('\n'));
    const problem =
      'destination crm: options.groupsTable (from env G): must not name the same table as options.table';
    expect(checkEnvironment(resolved.right, env)).toStrictEqual([problem]);
    expect(await openWith(referenced, env)).toBe(problem);
  });

  it('when an unknown option of the memory type is a reference, then it is refused naming option and variable', async () => {
    const c = config({ token: { env: 'TOKEN' } }, { type: 'memory' });
    const problem =
      'destination crm: options.token (from env TOKEN): is not known to type memory (it takes no options)';
    expect(problemsOf(c)).toStrictEqual([problem]);
    expect(await memoryDestinationType.open(c, { TOKEN: SECRET })()).toStrictEqual(
      E.left({ _tag: 'OpenFailed', message: problem }),
    );
  });
});

describe('validate and open agree (property)', () => {
  // Strings near every rule's edge, and values of other types.
  const option = fc.oneof(
    fc.constantFrom(
      '',
      '/',
      'a/',
      'sqlite_x',
      'SQLITE_',
      'sqlite',
      'x\u0000',
      'contacts',
      'Contacts',
      ':memory:',
    ),
    fc.string({ maxLength: 6 }),
    fc.constantFrom(0, true, null, ['x'], { env: '' }),
  );
  // Paths that pass the checks are kept private to the process (':memory:'), so no file is made.
  const path = fc.constantFrom('', '/', 'a/', 'x\u0000', ':memory:', 0, null, { env: '' });
  const optionsArb = fc.record({ path, table: option, groupsTable: option }, { requiredKeys: [] });

  it('given any options, when validate refuses them, then open refuses them with the same problems, and the other way round', async () => {
    await fc.assert(
      fc.asyncProperty(optionsArb, async (options) => {
        const c = config(options);
        const problems = problemsOf(c).map((p) => p.replace('destination crm: ', ''));
        expect(await openWith(c)).toBe(
          problems.length === 0 ? 'opened' : `destination crm: ${problems.join('; ')}`,
        );
      }),
      { numRuns: 300 },
    );
  });

  it('given any string for an option, when it comes from a variable, then open decides as for the literal, naming the variable instead', async () => {
    const base = { path: ':memory:', table: 'contacts' };
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('table', 'groupsTable'),
        option.filter((o): o is string => typeof o === 'string'),
        async (name, value) => {
          const literal = await openWith(config({ ...base, [name]: value }));
          const fromEnv = await openWith(config({ ...base, [name]: { env: 'V' } }), { V: value });
          expect(fromEnv).toBe(literal.replace(`options.${name}:`, `options.${name} (from env V):`));
        },
      ),
      { numRuns: 200 },
    );
  });
});
