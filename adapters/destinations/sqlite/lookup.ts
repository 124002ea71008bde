// How the SQLite destination looks records up: the rows under some keys and their group rows, read
// back as the values apply wrote. The reader thread (and, in-thread, destination.ts) use it.
import type Database from 'better-sqlite3';
import * as E from 'fp-ts/lib/Either.js';
import type { ObservedRecord } from '../../../domain/decision.js';
import { compareStrings, putNamed, type Properties } from '../../../domain/values.js';
import type { DestinationError } from '../../../engine/ports.js';
import { guarded, tablesOn } from './apply.js';
import type { Place } from './errors.js';
import { decodeValue, keyFromCell, type Cell, type Prepared, type TableNames } from './tables.js';

export type Lookup = (keys: readonly string[]) => E.Either<DestinationError, readonly ObservedRecord[]>;
export type Count = (atMost?: number) => E.Either<DestinationError, number | null>;

/** The rows of the records table on `db`, or null when the table does not exist (never created here). */
export const countOn = (db: Database.Database, names: TableNames, place: Place): Count => {
  const tables = tablesOn(db, names);
  return (atMost) =>
    guarded(
      () =>
        E.map((p: Prepared | null) => (p === null ? null : Number(p.countRows.get(atMost ?? -1))))(
          tables(false),
        ),
      place,
    );
};

/** Looks up on `db`, which never creates the tables: a dry run (plan) writes nothing. */
export const lookupOn = (db: Database.Database, names: TableNames, place: Place): Lookup => {
  const tables = tablesOn(db, names);
  const columns = [names.keyField, ...names.fields.filter((f) => f !== names.keyField)];
  const lookup = (keys: readonly string[]): E.Either<DestinationError, readonly ObservedRecord[]> => {
    if (keys.length === 0) return E.right([]);
    return E.map((p: Prepared | null): readonly ObservedRecord[] => {
      if (p === null) return [];
      const rows = p.lookupRows.all(JSON.stringify([...new Set(keys)])) as Cell[][];
      // Group rows matter only for records that exist, and a first sync finds none: ask only for those.
      const found = rows.map((row) => keyFromCell(row[0]));
      const groups = new Map<string, Set<string>>();
      if (found.length > 0)
        for (const [k, name] of (p.lookupGroups?.all(JSON.stringify(found)) ?? []) as [Cell, string][]) {
          const key = keyFromCell(k);
          const set = groups.get(key) ?? new Set<string>();
          groups.set(key, set.add(name));
        }
      return rows.map((row, r) => {
        const key = found[r] as string;
        const fields: Properties = {};
        columns.forEach((f, i) => putNamed(fields, f, decodeValue(row[i])));
        return { key, fields, groups: [...(groups.get(key) ?? [])].sort(compareStrings) };
      });
    })(tables(false));
  };
  return (keys) => guarded(() => lookup(keys), place);
};
