// The form in which the SQLite destination hands commands to its writer thread, and how the writer's
// answer becomes the port's outcomes. Its effect on tables is the destination contract suite's job.
import { describe, expect, it } from 'vitest';
import type { Command } from '../domain/command.js';
import { outcomesOf, toWire } from '../adapters/destinations/sqlite/wire.js';

const command = (n: number, set: Command['fields']['set'], extra: Partial<Command> = {}): Command => ({
  commandId: `c${n}`,
  profileId: `p${n}`,
  operation: 'create',
  key: `k${n}`,
  fields: { set, unset: [] },
  groups: { add: [], remove: [] },
  ...extra,
});

describe('toWire', () => {
  it('given commands setting the same fields, in any order, then each order is one shape and values follow it', () => {
    const wire = toWire([
      command(1, { email: 'a@x', name: 'A' }),
      command(2, { name: 'B', email: 'b@x' }),
      command(3, { email: 'c@x', name: 'C' }),
      command(4, {}, { operation: 'delete' }),
      command(5, { name: 'E', email: 'e@x' }),
    ]);
    expect(wire.shapes).toStrictEqual([['email', 'name'], ['name', 'email'], []]);
    expect(wire.commands.map(([op, key, shape, values]) => [op, key, shape, values])).toStrictEqual([
      ['c', 'k1', 0, ['a@x', 'A']],
      ['c', 'k2', 1, ['B', 'b@x']],
      ['c', 'k3', 0, ['c@x', 'C']],
      ['d', 'k4', 2, []],
      ['c', 'k5', 1, ['E', 'e@x']],
    ]);
  });

  it('given an update with unset fields and group changes, then they travel as given', () => {
    const wire = toWire([
      command(
        1,
        { plan: 'pro' },
        {
          operation: 'update',
          fields: { set: { plan: 'pro' }, unset: ['ltv'] },
          groups: { add: ['vip'], remove: ['trial'] },
        },
      ),
    ]);
    expect(wire.commands).toStrictEqual([['u', 'k1', 0, ['pro'], ['ltv'], ['vip'], ['trial']]]);
  });

  it('survives JSON: values of every kind come back equal', () => {
    const set = { s: 'x', n: 1.5, i: 3, b: true, nil: null, list: ['a', 'b'] };
    const wire = toWire([command(1, set)]);
    expect(JSON.parse(JSON.stringify(wire))).toStrictEqual(wire);
  });
});

describe('outcomesOf', () => {
  const commands = [command(1, {}), command(2, {}), command(3, {})];

  it('given no failures, then every command is ok, in order', () => {
    expect(outcomesOf(commands, [])).toStrictEqual([
      { commandId: 'c1', status: 'ok' },
      { commandId: 'c2', status: 'ok' },
      { commandId: 'c3', status: 'ok' },
    ]);
  });

  it('given failures by position, then those commands carry their message and retryability', () => {
    expect(
      outcomesOf(commands, [
        [1, 'no record with key k2', false],
        [2, 'database is locked', true],
      ]),
    ).toStrictEqual([
      { commandId: 'c1', status: 'ok' },
      { commandId: 'c2', status: 'error', retryable: false, message: 'no record with key k2' },
      { commandId: 'c3', status: 'error', retryable: true, message: 'database is locked' },
    ]);
  });

  it('given a position outside the batch, then it is a bug and throws', () => {
    expect(() => outcomesOf(commands, [[3, 'x', false]])).toThrow(/failure at 3 of 3/);
  });
});
