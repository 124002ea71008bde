// The SQLite destination's options and names as codecs, declared once: what `validate` checks in a
// config, what `open` checks once variables are read, and what `describe` lists.
import { sep } from 'node:path';
import * as t from 'io-ts';
import type { DestinationChecks } from '../../../engine/ports.js';
import { describeOptions, optionCodecs, type OptionDeclarations } from '../options.js';

type Rule = readonly [holds: (s: string) => boolean, problem: string];

/**
 * A string that keeps every rule. The messages never repeat the string: a value read from a variable
 * may be a secret (only a literal that is not a string is shown, to say what it is instead).
 */
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

const NOT_EMPTY: Rule = [(s) => s !== '', 'must not be empty'];
// SQLite ends a name at NUL, and a file path there too: a different table or file than configured.
const NO_NUL: Rule = [(s) => !s.includes('\u0000'), 'must not contain a NUL character'];

/** The file a destination writes: created, with its directory, if missing. */
export const FilePath = text('FilePath', [
  NOT_EMPTY,
  NO_NUL,
  [
    (s) => !s.endsWith('/') && !s.endsWith(sep),
    'must name a file, not a directory (it ends with a separator)',
  ],
]);

/** A table's name: SQLite refuses to create one starting with sqlite_, and such names are its own tables. */
export const TableName = text('TableName', [
  NOT_EMPTY,
  NO_NUL,
  [(s) => !/^sqlite_/i.test(s), 'must not start with sqlite_ (SQLite keeps those names for its own tables)'],
]);

/** A column's name: a destination field of the mapping. */
export const ColumnName = text('ColumnName', [NOT_EMPTY, NO_NUL]);

export const SQLITE_OPTIONS = {
  path: {
    codec: FilePath,
    required: true,
    description: 'the SQLite file; created, with its directory, if missing',
  },
  table: {
    codec: TableName,
    required: true,
    description: 'the records table; created if missing, never altered',
  },
  groupsTable: {
    codec: TableName,
    required: false,
    description: 'the (record_key, group_name) table of lists/tags',
    default: '<table>_groups',
  },
} as const satisfies OptionDeclarations;

/** SQLite compares names without regard to ASCII case. */
const sameName = (a: string, b: string): boolean =>
  a.replace(/[A-Z]/g, (c) => c.toLowerCase()) === b.replace(/[A-Z]/g, (c) => c.toLowerCase());

export const sqliteChecks: DestinationChecks = {
  options: optionCodecs(SQLITE_OPTIONS),
  // One table cannot be both: its columns would have to be a record's and a group row's.
  between: ({ table, groupsTable }) =>
    typeof table === 'string' && typeof groupsTable === 'string' && sameName(table, groupsTable)
      ? [{ option: 'groupsTable', problem: 'must not name the same table as options.table' }]
      : [],
  field: ColumnName,
};

export const sqliteOptionDescriptions = describeOptions(SQLITE_OPTIONS);
