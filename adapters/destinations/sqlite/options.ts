// The SQLite destination's options and names as codecs, declared once: what `validate` checks in a
// config, what `open` checks once variables are read, and what `describe` lists.
import { sep } from 'node:path';
import type { DestinationChecks } from '../../../engine/ports.js';
import { describeOptions, optionCodecs, type OptionDeclarations } from '../options.js';
import { groupsTableOption, separateGroupsTable } from '../tableOptions.js';
import { NOT_EMPTY, NO_NUL, ruledText } from '../textRules.js';

/** The file a destination writes: created, with its directory, if missing. */
export const FilePath = ruledText('FilePath', [
  NOT_EMPTY,
  NO_NUL,
  [
    (s) => !s.endsWith('/') && !s.endsWith(sep),
    'must name a file, not a directory (it ends with a separator)',
  ],
]);

/** A table's name: SQLite refuses to create one starting with sqlite_, and such names are its own tables. */
export const TableName = ruledText('TableName', [
  NOT_EMPTY,
  NO_NUL,
  [(s) => !/^sqlite_/i.test(s), 'must not start with sqlite_ (SQLite keeps those names for its own tables)'],
]);

/** A column's name: a destination field of the mapping. */
export const ColumnName = ruledText('ColumnName', [NOT_EMPTY, NO_NUL]);

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
  groupsTable: groupsTableOption(TableName),
} as const satisfies OptionDeclarations;

/** SQLite compares names without regard to ASCII case. */
const sameName = (a: string, b: string): boolean =>
  a.replace(/[A-Z]/g, (c) => c.toLowerCase()) === b.replace(/[A-Z]/g, (c) => c.toLowerCase());

export const sqliteChecks: DestinationChecks = {
  options: optionCodecs(SQLITE_OPTIONS),
  between: separateGroupsTable(sameName),
  field: ColumnName,
};

export const sqliteOptionDescriptions = describeOptions(SQLITE_OPTIONS);
