// The options every destination that writes tables (SQLite, PostgreSQL, MySQL) takes alike: the
// groupsTable option, and the rule that it never names the records table.
import type * as t from 'io-ts';
import type { DestinationChecks } from '../../engine/ports.js';

/**
 * The groupsTable option's declaration, `codec` checking the name as the database takes it; when it
 * is not given, the groups table is named after the records table.
 */
export const groupsTableOption = <C extends t.Decoder<unknown, unknown>>(
  codec: C,
  description = 'the (record_key, group_name) table of lists/tags',
) => ({ codec, required: false, description, default: '<table>_groups' }) as const;

/**
 * The rule between options that the groups table is not the records table: one table cannot be both,
 * its columns would have to be a record's and a group row's. `sameName` is how the database compares
 * table names.
 */
export const separateGroupsTable =
  (sameName: (a: string, b: string) => boolean): NonNullable<DestinationChecks['between']> =>
  ({ table, groupsTable }) =>
    typeof table === 'string' && typeof groupsTable === 'string' && sameName(table, groupsTable)
      ? [{ option: 'groupsTable', problem: 'must not name the same table as options.table' }]
      : [];
