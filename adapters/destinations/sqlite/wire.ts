// Commands as the SQLite destination's writer receives them, and its answer: field names once per
// shape, values in arrays, no ids (failures come back by position). Cheaper on both sides of a thread.
//
// A first sync sends a command per profile, and JSON of full Command objects cost the deciding
// thread ~0.1 s per 100k commands to write and the writer thread more to read; most of it was field
// names and ids repeated in every command. This form is internal to the adapter: the port still
// takes Commands and answers CommandOutcomes (see outcomesOf).
import type { Command, CommandOutcome } from '../../../domain/command.js';
import type { Value } from '../../../domain/values.js';

/** create, update, delete */
export type WireOperation = 'c' | 'u' | 'd';

/** [operation, key, shape (index into Wire.shapes), values in the shape's order, unset, add, remove] */
export type WireCommand = readonly [
  WireOperation,
  string,
  number,
  readonly Value[],
  readonly string[],
  readonly string[],
  readonly string[],
];

export type Wire = {
  /** the field names a command sets, in the order of its values; most batches hold one or two */
  readonly shapes: readonly (readonly string[])[];
  readonly commands: readonly WireCommand[];
};

/** A command that failed: its position in the batch, the message, whether retrying may help. */
export type WireFailure = readonly [number, string, boolean];

const OPERATION = { create: 'c', update: 'u', delete: 'd' } as const;

export const toWire = (commands: readonly Command[]): Wire => {
  const shapes: string[][] = [];
  const shapeIds = new Map<string, number>();
  // Consecutive commands usually set the same fields in the same order: compare with the last
  // shape before building its id.
  let last: string[] | null = null;
  let lastId = -1;
  const out: WireCommand[] = [];
  for (const c of commands) {
    const set = c.fields.set;
    const names = Object.keys(set);
    let id = lastId;
    if (last === null || !sameNames(names, last)) {
      const signature = names.join('\u0000');
      id = shapeIds.get(signature) ?? -1;
      if (id < 0) {
        id = shapes.push(names) - 1;
        shapeIds.set(signature, id);
      }
      last = shapes[id] as string[];
      lastId = id;
    }
    const values: Value[] = new Array<Value>(names.length);
    for (let i = 0; i < names.length; i++) values[i] = set[names[i] as string] as Value;
    out.push([OPERATION[c.operation], c.key, id, values, c.fields.unset, c.groups.add, c.groups.remove]);
  }
  return { shapes, commands: out };
};

const sameNames = (a: readonly string[], b: readonly string[]): boolean => {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
};

/** The port's answer: ok for every command, except those the writer reported failed. */
export const outcomesOf = (
  commands: readonly Command[],
  failures: readonly WireFailure[],
): CommandOutcome[] => {
  const out: CommandOutcome[] = commands.map((c) => ({ commandId: c.commandId, status: 'ok' }));
  for (const [i, message, retryable] of failures) {
    const c = commands[i];
    if (c === undefined)
      throw new Error(`the SQLite writer reported a failure at ${i} of ${commands.length}`);
    out[i] = { commandId: c.commandId, status: 'error', retryable, message };
  }
  return out;
};
