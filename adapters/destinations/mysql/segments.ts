// Commands checked before the server sees them, and cut into segments whose commands address
// different keys, so that a segment's statements can be grouped by kind (multi-row) in any order.
import type { Command } from '../../../domain/command.js';
import { keyOf } from '../../../domain/values.js';
import { encodeFor, type SqlValue } from './columns.js';
import type { TableNames, TableState } from './tables.js';

/** A command as the writer runs it: its values encoded for their columns. */
export type Planned = {
  /** its position in the apply call */
  readonly at: number;
  readonly operation: Command['operation'];
  readonly key: string;
  /** the key it leaves the record under: a rename's new key, else `key` */
  readonly newKey: string;
  /** columns written besides the key column (set ones, then unset ones as NULL), with their values */
  readonly columns: readonly string[];
  readonly values: readonly SqlValue[];
  readonly add: readonly string[];
  readonly remove: readonly string[];
};

/** A command planned, or why it cannot be applied at all (its outcome, without asking the server). */
export const plan = (
  c: Command,
  at: number,
  names: TableNames,
  state: TableState,
): Planned | { readonly at: number; readonly refused: string } => {
  const keyField = names.keyField;
  const refuse = (refused: string) => ({ at, refused });
  if (c.fields.unset.includes(keyField)) return refuse(`cannot unset the key field ${keyField}`);
  const given = Object.hasOwn(c.fields.set, keyField) ? c.fields.set[keyField] : undefined;
  const newKey = given === undefined ? c.key : keyOf(given);
  if (newKey === undefined) return refuse(`cannot set the key field ${keyField} to no value`);
  const columns: string[] = [];
  const values: SqlValue[] = [];
  const write = (name: string, value: Parameters<typeof encodeFor>[1]): string | undefined => {
    const column = state.columns.get(name);
    if (column === undefined) return `table ${names.shown.table} has no column ${name}`;
    const encoded = encodeFor(column, value);
    if (encoded !== null && typeof encoded === 'object') return encoded.refused;
    columns.push(name);
    values.push(encoded);
    return undefined;
  };
  if (c.operation !== 'delete') {
    for (const [name, value] of Object.entries(c.fields.set)) {
      if (name === keyField || value === undefined) continue;
      const problem = write(name, value);
      if (problem !== undefined) return refuse(problem);
    }
    for (const name of c.fields.unset) {
      if (Object.hasOwn(c.fields.set, name)) continue;
      const problem = write(name, null);
      if (problem !== undefined) return refuse(problem);
    }
  }
  return {
    at,
    operation: c.operation,
    key: c.key,
    newKey,
    columns,
    values,
    add: c.operation === 'delete' ? [] : c.groups.add,
    remove: c.operation === 'delete' ? [] : c.groups.remove,
  };
};

/** Consecutive runs of commands that touch no key twice: within one, order does not matter. */
export const segments = (commands: readonly Planned[]): Planned[][] => {
  const out: Planned[][] = [];
  let current: Planned[] = [];
  let keys = new Set<string>();
  for (const c of commands) {
    if (keys.has(c.key) || keys.has(c.newKey)) {
      out.push(current);
      current = [];
      keys = new Set();
    }
    current.push(c);
    keys.add(c.key).add(c.newKey);
  }
  if (current.length > 0) out.push(current);
  return out;
};
