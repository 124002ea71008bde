// The PostgreSQL destination's options as codecs, declared once: what `validate` checks in a config,
// what `open` checks once variables are read, and what `describe` lists.
import type { DestinationChecks } from '../../../engine/ports.js';
import { describeOptions, optionCodecs, type OptionDeclarations } from '../options.js';
import { groupsTableOption, separateGroupsTable } from '../tableOptions.js';
import { NOT_EMPTY, NO_NUL, ruledText, type Rule } from '../textRules.js';

const parsed = (s: string): URL | undefined => {
  try {
    return new URL(s);
  } catch {
    return undefined;
  }
};

const FORM = 'postgres://USER@HOST:PORT/DB';

/** A `postgres://` (or `postgresql://`) URL naming a database. */
export const ConnectionUrl = ruledText('ConnectionUrl', [
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
export const LiteralConnection = ruledText('LiteralConnection', [
  [
    (s) => (parsed(s)?.password ?? '') === '',
    'holds a password: give the URL as {"env": "NAME"} (or the password in PGPASSWORD), so that it stays out of the config and the store',
  ],
]);

// PostgreSQL truncates names past 63 bytes (another table than configured).
const SHORT: Rule = [
  (s) => Buffer.byteLength(s, 'utf8') <= 63,
  'must be at most 63 bytes long (PostgreSQL would cut it short)',
];

export const PgName = ruledText('PgName', [NOT_EMPTY, NO_NUL, SHORT]);

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
  groupsTable: groupsTableOption(
    PgName,
    'the (record_key, group_name) table of lists/tags; created if missing',
  ),
} as const satisfies OptionDeclarations;

export const postgresChecks: DestinationChecks = {
  options: optionCodecs(POSTGRES_OPTIONS),
  literal: { connection: LiteralConnection },
  // Names are quoted in every statement, so PostgreSQL tells them apart by case as well.
  between: separateGroupsTable((a, b) => a === b),
  field: ruledText('ColumnName', [NOT_EMPTY, NO_NUL, SHORT]),
};

export const postgresOptionDescriptions = describeOptions(POSTGRES_OPTIONS);
