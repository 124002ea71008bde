// The ledger's settling rules specified by example: what a command leaves written (applyToEntry), when
// the destination shows a command a crash left without outcome applied (showsEffect), and the rest.
import { describe, expect, it } from 'vitest';
import type { Decision, LedgerEntry, ObservedRecord } from '../domain/decision.js';
import { emptyPending, addPending, pendingCommands, type PendingCommand } from '../projections/pending.js';
import {
  adoptedEntry,
  applyToEntry,
  pendingCommandOf,
  showsEffect,
  takeSettled,
} from '../projections/settling.js';
import { record, wrote } from './support/given.js';

const change = (
  set: Record<string, string | number | null> = {},
  unset: string[] = [],
  add: string[] = [],
  remove: string[] = [],
) => ({ fields: { set, unset }, groups: { add, remove } });

const command = (decision: Decision, keyAfter = decision.key ?? ''): PendingCommand => ({
  runId: 'r1',
  commandId: `c-${decision.operation}`,
  decision,
  keyAfter,
});
const create = (c = change()) => command({ profileId: 'ann', operation: 'create', key: 'ann@x.io', ...c });
const update = (c = change(), keyAfter?: string) =>
  command({ profileId: 'ann', operation: 'update', key: 'ann@x.io', ...c }, keyAfter);
const remove = () => command({ profileId: 'ann', operation: 'delete', key: 'ann@x.io', ...change() });
const skip = () => command({ profileId: 'ann', operation: 'skip', ...change() });

const shows = (cmd: PendingCommand, ...observed: ObservedRecord[]) => showsEffect(cmd, 'email', observed);

describe('showsEffect: whether a command a crash left without outcome reached the destination', () => {
  describe('a create', () => {
    const cmd = create(change({ email: 'ann@x.io', first_name: 'Ann' }, [], ['VIP']));
    it('given its record with the fields and groups it set, then it shows', () => {
      expect(shows(cmd, record('ann@x.io', { email: 'ann@x.io', first_name: 'Ann' }, ['VIP', 'Other']))).toBe(
        true,
      );
    });
    it('given its record without the key field echoed (the key is the record’s), then it shows', () => {
      expect(shows(cmd, record('ann@x.io', { first_name: 'Ann' }, ['VIP']))).toBe(true);
    });
    it('given no record under its key, then it does not show', () => {
      expect(shows(cmd, record('bob@x.io', { email: 'ann@x.io', first_name: 'Ann' }, ['VIP']))).toBe(false);
    });
    it('given its record with another value for a field it set, then it does not show', () => {
      expect(shows(cmd, record('ann@x.io', { first_name: 'Annie' }, ['VIP']))).toBe(false);
    });
    it('given its record without a field it set, then it does not show', () => {
      expect(shows(cmd, record('ann@x.io', {}, ['VIP']))).toBe(false);
    });
    it('given its record without a group it added, then it does not show', () => {
      expect(shows(cmd, record('ann@x.io', { first_name: 'Ann' }, []))).toBe(false);
    });
    it('given a set field whose value is only inherited, then it does not show', () => {
      const bare = record('ann@x.io', Object.create({ first_name: 'Ann' }) as Record<string, string>, [
        'VIP',
      ]);
      expect(shows(cmd, bare)).toBe(false);
    });
  });

  describe('an update', () => {
    const cmd = update(change({ ltv: 5 }, ['first_name'], ['VIP'], ['Newsletter']));
    const done = record('ann@x.io', { email: 'ann@x.io', ltv: 5 }, ['VIP']);
    it('given its record with the field set, the unset field gone, the group added and the removed one gone, then it shows', () => {
      expect(shows(cmd, done)).toBe(true);
    });
    it('given the unset field present but empty (null), then it shows', () => {
      expect(shows(cmd, record('ann@x.io', { ltv: 5, first_name: null }, ['VIP']))).toBe(true);
    });
    it('given the unset field still holding a value, then it does not show', () => {
      expect(shows(cmd, record('ann@x.io', { ltv: 5, first_name: 'Ann' }, ['VIP']))).toBe(false);
    });
    it('given the removed group still there, then it does not show', () => {
      expect(shows(cmd, record('ann@x.io', { ltv: 5 }, ['VIP', 'Newsletter']))).toBe(false);
    });
    it('given a rename, then the record under the new key is the witness, not the old', () => {
      const rename = update(change({ email: 'a@y.io' }), 'a@y.io');
      expect(shows(rename, record('ann@x.io', {}), record('a@y.io', {}))).toBe(true);
      expect(shows(rename, record('ann@x.io', {}))).toBe(false);
    });
  });

  describe('a delete', () => {
    it('given no record under its key, then it shows', () => {
      expect(shows(remove(), record('bob@x.io'))).toBe(true);
    });
    it('given a record under its key, then it does not show', () => {
      expect(shows(remove(), record('ann@x.io'))).toBe(false);
    });
    it('given a delete without a key, then a record under the empty key is the witness', () => {
      const keyless = command({ profileId: 'ann', operation: 'delete', ...change() });
      expect(shows(keyless, record(''))).toBe(false);
      expect(shows(keyless, record('ann@x.io'))).toBe(true);
    });
  });

  it('given a skip (never pending, changes nothing), then it shows whatever is found', () => {
    expect(shows(skip())).toBe(true);
  });

  it('given two records under its key, then the first found is the witness', () => {
    const cmd = create(change({ first_name: 'Ann' }));
    expect(shows(cmd, record('ann@x.io', { first_name: 'Ann' }), record('ann@x.io', {}))).toBe(true);
    expect(shows(cmd, record('ann@x.io', {}), record('ann@x.io', { first_name: 'Ann' }))).toBe(false);
  });
});

describe('applyToEntry: what syncline has written once a command succeeded', () => {
  const before = wrote('ann', 'ann@x.io', { email: 'ann@x.io', first_name: 'Ann', ltv: 1 }, [
    'Newsletter',
    'VIP',
  ]);

  it('given a create, then the entry is what it set, under the key it leaves', () => {
    expect(applyToEntry(before, create(change({ email: 'ann@x.io' }, [], ['VIP'])))).toStrictEqual(
      wrote('ann', 'ann@x.io', { email: 'ann@x.io' }, ['VIP']),
    );
  });

  it('given an update, then set fields take their new values, unset ones go, groups are added and removed, sorted', () => {
    const cmd = update(change({ ltv: 2, tier: 'gold' }, ['first_name'], ['Alpha'], ['Newsletter']), 'a@y.io');
    expect(applyToEntry(before, cmd)).toStrictEqual(
      wrote('ann', 'a@y.io', { email: 'ann@x.io', ltv: 2, tier: 'gold' }, ['Alpha', 'VIP']),
    );
  });

  it('given an update that adds a group the entry has, then it is held once', () => {
    expect(applyToEntry(before, update(change({}, [], ['VIP'])))?.groups).toStrictEqual([
      'Newsletter',
      'VIP',
    ]);
  });

  it('given an update and no entry, then the entry is what the update wrote', () => {
    expect(applyToEntry(undefined, update(change({ ltv: 2 }, ['tier'], ['VIP'])))).toStrictEqual(
      wrote('ann', 'ann@x.io', { ltv: 2 }, ['VIP']),
    );
  });

  it('given a delete, then there is no entry', () => {
    expect(applyToEntry(before, remove())).toBeUndefined();
  });

  it('given a skip, then the entry is as it was', () => {
    expect(applyToEntry(before, skip())).toBe(before);
  });

  it('given an update, then the entry it started from is left as it was', () => {
    const copy = structuredClone(before);
    applyToEntry(before, update(change({ ltv: 2 }, ['email'], [], ['VIP'])));
    expect(before).toStrictEqual(copy);
  });
});

describe('the other rules', () => {
  it('given a match, then the entry it gives holds the record’s values for the adopted fields, null where unknown', () => {
    const a = { profileId: 'ann', key: 'ann@x.io', fields: ['email', 'ltv'], groups: ['VIP'] };
    const found = record('ann@x.io', { email: 'ann@x.io', first_name: 'Ann' }, ['VIP', 'Other']);
    const expected: LedgerEntry = wrote('ann', 'ann@x.io', { email: 'ann@x.io', ltv: null }, ['VIP']);
    expect(adoptedEntry(a, found)).toStrictEqual(expected);
    expect(adoptedEntry(a, undefined)).toStrictEqual(
      wrote('ann', 'ann@x.io', { email: null, ltv: null }, ['VIP']),
    );
  });

  it('given adopted fields named like Object members that the record does not hold, then they are null, never inherited', () => {
    const a = { profileId: 'ann', key: 'ann@x.io', fields: ['constructor', 'toString'], groups: [] };
    expect(adoptedEntry(a, record('ann@x.io', { email: 'ann@x.io' }))).toStrictEqual(
      wrote('ann', 'ann@x.io', { constructor: null, toString: null }),
    );
  });

  it('given an update that unset a field named like an Object member, when the record does not hold it, then it shows', () => {
    const cmd = update(change({}, ['constructor']));
    expect(shows(cmd, record('ann@x.io', { email: 'ann@x.io' }))).toBe(true);
  });

  it('given recorded decisions, then a skip leaves no pending command, a rename pends under its new key, and others under their key', () => {
    const u = update(change({ email: 'a@y.io' })).decision;
    expect(pendingCommandOf('r1', { commandId: 'c1', decision: skip().decision })).toBeUndefined();
    expect(pendingCommandOf('r1', { commandId: 'c1', decision: u, keyAfter: 'a@y.io' })).toStrictEqual({
      runId: 'r1',
      commandId: 'c1',
      decision: u,
      keyAfter: 'a@y.io',
    });
    expect(pendingCommandOf('r1', { commandId: 'c1', decision: u })?.keyAfter).toBe('ann@x.io');
    expect(
      pendingCommandOf('r1', { commandId: 'c1', decision: skip().decision, keyAfter: 'x' }),
    ).toBeUndefined();
  });

  it('given settlements, then each pending one is taken, in the order recorded, with its status; unknown ones are passed over', () => {
    const p = emptyPending();
    const a = { ...create(), commandId: 'a' };
    const b = { ...update(), commandId: 'b' };
    const c = { ...remove(), commandId: 'c' };
    for (const cmd of [a, b, c]) addPending(p, cmd);
    const seen: [string, string][] = [];
    takeSettled(
      p,
      [
        { commandId: 'c', status: 'confirmed' },
        { commandId: 'x', status: 'confirmed' },
        { commandId: 'a', status: 'superseded' },
      ],
      (cmd, status) => seen.push([cmd.commandId, status]),
    );
    expect(seen).toStrictEqual([
      ['c', 'confirmed'],
      ['a', 'superseded'],
    ]);
    expect([...pendingCommands(p)]).toStrictEqual([b]);
    takeSettled(p, undefined, () => seen.push(['none', 'none']));
    expect(seen).toHaveLength(2);
  });
});
