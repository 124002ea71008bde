// Commands made ready for PostgreSQL before anything is written: each value encoded for its column (or
// the command refused, naming field and column type), and the call cut into segments that touch each
// key once, so that a segment's commands can go out together in multi-row statements.
import * as E from 'fp-ts/lib/Either.js';
import type { Command } from '../../../domain/command.js';
import { keyOf, type Value } from '../../../domain/values.js';
import { encodeFor } from './columns.js';
import type { Names, TableState } from './tables.js';

export type Planned = {
  /** the command's place in the call */
  readonly index: number;
  readonly operation: Command['operation'];
  readonly key: string;
  /** the key after the command: a rename's new key, else the key */
  readonly newKey: string;
  /** the columns set besides the key, with their values as text (null for NULL) */
  readonly set: readonly (readonly [column: string, text: string | null])[];
  /** the columns set to NULL (unset, and not set) */
  readonly unset: readonly string[];
  readonly add: readonly string[];
  readonly remove: readonly string[];
};

/** The command ready to write, or why it cannot be. */
export const planOf = (
  names: Names,
  state: TableState,
  c: Command,
  index: number,
): E.Either<string, Planned> => {
  const keyField = names.keyField;
  if (c.fields.unset.includes(keyField)) return E.left(`cannot unset the key field ${keyField}`);
  const given = c.fields.set;
  const renamed = c.operation === 'update' && Object.hasOwn(given, keyField);
  const newKey = renamed ? keyOf(given[keyField]) : c.key;
  if (newKey === undefined) return E.left(`cannot set the key field ${keyField} to no value`);
  const set: [string, string | null][] = [];
  for (const field of Object.keys(given).sort()) {
    if (field === keyField) continue;
    const column = state.columns.get(field);
    if (column === undefined) return E.left(`table ${names.shown.table} has no column ${field}`);
    const text = encodeFor(field, column, given[field] as Value);
    if (E.isLeft(text)) return text;
    set.push([field, text.right]);
  }
  const unset = c.fields.unset.filter((f) => !Object.hasOwn(given, f)).sort();
  const unknown = unset.find((f) => !state.columns.has(f));
  if (unknown !== undefined) return E.left(`table ${names.shown.table} has no column ${unknown}`);
  return E.right({
    index,
    operation: c.operation,
    key: c.key,
    newKey,
    set,
    unset,
    add: c.groups.add,
    remove: c.groups.remove,
  });
};

/**
 * The commands in order, cut wherever one touches a key (addressed or renamed to) that an earlier
 * command of the segment touched: within a segment no two commands meet, so their order is free.
 */
export const segmentsOf = (planned: readonly Planned[]): Planned[][] => {
  const segments: Planned[][] = [];
  let current: Planned[] = [];
  let keys = new Set<string>();
  for (const p of planned) {
    if (keys.has(p.key) || keys.has(p.newKey)) {
      segments.push(current);
      current = [];
      keys = new Set();
    }
    current.push(p);
    keys.add(p.key).add(p.newKey);
  }
  if (current.length > 0) segments.push(current);
  return segments;
};

/** The statements' grouping of commands that write the same columns. */
export const shapeOf = (p: Planned): string =>
  `${p.set.map(([c]) => c).join('\u0000')}\u0001${p.unset.join('\u0000')}`;
