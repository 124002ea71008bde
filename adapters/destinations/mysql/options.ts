// The MySQL destination's options and names as codecs, declared once: what `validate` checks in a
// config, what `open` checks once variables are read, and what `describe` lists.
import type { DestinationChecks } from '../../../engine/ports.js';
import { describeOptions, optionCodecs, type OptionDeclarations } from '../options.js';
import { groupsTableOption, separateGroupsTable } from '../tableOptions.js';
import { NOT_EMPTY, NO_NUL, ruledText, type Rule } from '../textRules.js';
import { parseMysqlUrl } from './url.js';

// MySQL and MariaDB refuse names longer than 64 characters, and names ending with a space.
const SHORT: Rule = [(s) => [...s].length <= 64, 'must be at most 64 characters (a MySQL name)'];
const NO_TRAILING_SPACE: Rule = [
  (s) => !s.endsWith(' '),
  'must not end with a space (MySQL refuses such names)',
];

/** `mysql://USER[:PASSWORD]@HOST[:PORT]/DATABASE`: the database the tables live in comes from the URL. */
export const ConnectionUrl = ruledText('ConnectionUrl', [
  NOT_EMPTY,
  [(s) => parseMysqlUrl(s)._tag === 'Right', 'must be a URL mysql://USER[:PASSWORD]@HOST[:PORT]/DATABASE'],
]);

/**
 * Checked on a literal only: a password written into the config would be recorded with it in the
 * store by `apply`. A URL read from a variable may hold one; it is never recorded.
 */
export const LiteralConnection = ruledText('LiteralConnection', [
  [
    (s) => parseMysqlUrl(s)._tag === 'Left' || !/^[^/]*\/\/[^/@]*:[^/@]*@/.test(s),
    'must not hold a password: give the URL as {"env": "NAME"}, so that the password never enters the config or the store',
  ],
]);

export const TableName = ruledText('TableName', [NOT_EMPTY, NO_NUL, SHORT, NO_TRAILING_SPACE]);

/** A column's name: a destination field of the mapping. */
export const ColumnName = ruledText('ColumnName', [NOT_EMPTY, NO_NUL, SHORT, NO_TRAILING_SPACE]);

export const MYSQL_OPTIONS = {
  connection: {
    codec: ConnectionUrl,
    required: true,
    description:
      'mysql://USER[:PASSWORD]@HOST[:PORT]/DATABASE (MySQL 8 or MariaDB 10.11); a URL with a password only as {"env": NAME}',
  },
  table: {
    codec: TableName,
    required: true,
    description: 'the records table in that database; created if missing, never altered',
  },
  groupsTable: groupsTableOption(TableName),
} as const satisfies OptionDeclarations;

export const mysqlChecks: DestinationChecks = {
  options: optionCodecs(MYSQL_OPTIONS),
  literal: { connection: LiteralConnection },
  // Table names are case-sensitive on some servers and not on others (lower_case_table_names).
  between: separateGroupsTable((a, b) => a.toLowerCase() === b.toLowerCase()),
  field: ColumnName,
};

export const mysqlOptionDescriptions = describeOptions(MYSQL_OPTIONS);
