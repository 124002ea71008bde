// The PostgreSQL destination's options as codecs, declared once: what `validate` checks in a config,
// what `open` checks once variables are read, and what `describe` lists.
import * as t from 'io-ts';
import type { DestinationChecks } from '../../../engine/ports.js';
import { describeOptions, optionCodecs, type OptionDeclarations } from '../options.js';

type Rule = readonly [holds: (s: string) => boolean, problem: string];

/** A string that keeps every rule; messages never repeat it (a variable's value may be a secret). */
const text = (name: string, rules: readonly Rule[]) =>
  new t.Type<string, string, unknown>(
    name,
    (u): u is string => typeof u === 'string' && rules.every(([holds]) => holds(u)),
    (u, c) => {
      if (typeof u !== 'string')
        return t.failure(
          u,
          c,
          u === undefined ? 'is required' : `must be a string, not ${JSON.stringify(u)}`,
        );
      const broken = rules.find(([holds]) => !holds(u));
      return broken === undefined ? t.success(u) : t.failure(u, c, broken[1]);
    },
    t.identity,
  );

const parsed = (s: string): URL | undefined => {
  try {
    return new URL(s);
  } catch {
    return undefined;
  }
};

const FORM = 'postgres://USER@HOST:PORT/DB';

/** A `postgres://` (or `postgresql://`) URL naming a database. */
export const ConnectionUrl = text('ConnectionUrl', [
  [(s) => parsed(s) !== undefined, `must be a URL of the form ${FORM}`],
  [
    (s) => ['postgres:', 'postgresql:'].includes(parsed(s)?.protocol ?? ''),
    `must start with postgres:// or postgresql:// (${FORM})`,
  ],
  [(s) => (parsed(s)?.pathname ?? '').replace(/^\//, '') !== '', `must name a database (${FORM})`],
]);

/**
 * The connection as written in the config itself: it is recorded in the store with the config, so
 * it must not hold a password (which `{"env": NAME}` or PGPASSWORD give instead).
 */
export const LiteralConnection = text('LiteralConnection', [
  [
    (s) => (parsed(s)?.password ?? '') === '',
    'holds a password: give the URL as {"env": "NAME"} (or the password in PGPASSWORD), so that it stays out of the config and the store',
  ],
]);

const NOT_EMPTY: Rule = [(s) => s !== '', 'must not be empty'];
// PostgreSQL refuses NUL in a name, and truncates names past 63 bytes (another table than configured).
const NO_NUL: Rule = [(s) => !s.includes('\u0000'), 'must not contain a NUL character'];
const SHORT: Rule = [
  (s) => Buffer.byteLength(s, 'utf8') <= 63,
  'must be at most 63 bytes long (PostgreSQL would cut it short)',
];

export const PgName = text('PgName', [NOT_EMPTY, NO_NUL, SHORT]);

export const POSTGRES_OPTIONS = {
  connection: {
    codec: ConnectionUrl,
    required: true,
    description:
      'postgres://USER@HOST:PORT/DB; a password only through {"env": NAME} (or PGPASSWORD), never literally',
  },
  schema: {
    codec: PgName,
    required: false,
    description: 'the schema of the tables; created if missing',
    default: 'public',
  },
  table: {
    codec: PgName,
    required: true,
    description: 'the records table; created if missing, never altered',
  },
  groupsTable: {
    codec: PgName,
    required: false,
    description: 'the (record_key, group_name) table of lists/tags; created if missing',
    default: '<table>_groups',
  },
} as const satisfies OptionDeclarations;

export const postgresChecks: DestinationChecks = {
  options: optionCodecs(POSTGRES_OPTIONS),
  literal: { connection: LiteralConnection },
  // One table cannot be both: its columns would have to be a record's and a group row's.
  between: ({ table, groupsTable }) =>
    typeof table === 'string' && typeof groupsTable === 'string' && table === groupsTable
      ? [{ option: 'groupsTable', problem: 'must not name the same table as options.table' }]
      : [],
  field: text('ColumnName', [NOT_EMPTY, NO_NUL, SHORT]),
};

export const postgresOptionDescriptions = describeOptions(POSTGRES_OPTIONS);
