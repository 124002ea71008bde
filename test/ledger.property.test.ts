// The ledger fold settles a command exactly as applyToEntry says syncline wrote it, keeping only
// names: checked over random entries and updates (fast-check), since the fold works updates out alone.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Decision } from '../domain/decision.js';
import type { SyncEvent } from '../domain/syncEvents.js';
import { foldLedger, initialLedger, pendingOf, type PendingCommand } from '../projections/ledger.js';
import { pendingCommands } from '../projections/pending.js';
import { applyToEntry } from '../projections/settling.js';

const FIELDS = ['email', 'name', 'ltv', 'tier', 'plan'];
const GROUPS = ['A', 'B', 'C', 'D'];
const KEYS = ['a@x.io', 'b@x.io'];

const names = (pool: readonly string[]) => fc.subarray([...pool]);
const values = (fields: readonly string[]) => Object.fromEntries(fields.map((f, i) => [f, `v${i}`]));

const decided = (position: number, commandId: string, decision: Decision, keyAfter?: string): SyncEvent => ({
  type: 'BatchDecided',
  data: {
    runId: 'r1',
    position,
    profileIds: [decision.profileId],
    keys: [],
    observed: [],
    decisions: [{ commandId, decision, ...(keyAfter === undefined ? {} : { keyAfter }) }],
    decidedAt: '2026-11-29T00:00:00.000Z',
    unchanged: 0,
  },
});

const applied = (commandId: string): SyncEvent => ({
  type: 'BatchApplied',
  data: { runId: 'r1', results: [], ok: { at: '2026-11-29T00:00:01.000Z', commandIds: [commandId] } },
});

const pending = (commandId: string, decision: Decision, keyAfter: string): PendingCommand => ({
  runId: 'r1',
  commandId,
  decision,
  keyAfter,
});

describe('the ledger fold of an update', () => {
  it('given an entry written by a create, when an update is applied, then the entry holds the field and group names, and the key, applyToEntry gives, and the record stays owned by the profile', () => {
    fc.assert(
      fc.property(
        names(FIELDS),
        names(GROUPS),
        names(FIELDS),
        names(FIELDS),
        names(GROUPS),
        names(GROUPS),
        fc.constantFrom(...KEYS),
        fc.constantFrom(...KEYS),
        (before, groupsBefore, set, unset, add, remove, key, keyAfter) => {
          const create: Decision = {
            profileId: 'p1',
            operation: 'create',
            key,
            fields: { set: values(before), unset: [] },
            groups: { add: groupsBefore, remove: [] },
          };
          const update: Decision = {
            profileId: 'p1',
            operation: 'update',
            key,
            fields: { set: values(set), unset },
            groups: { add, remove },
          };
          const l = initialLedger();
          foldLedger(l, {
            type: 'RunStarted',
            data: {
              runId: 'r1',
              destinationId: 'crm',
              position: 1,
              mode: 'sync',
              config: {} as never,
              owner: { host: 'h', pid: 1 },
              startedAt: '2026-11-29T00:00:00.000Z',
              reason: 'first-run',
            },
          });
          for (const e of [
            decided(2, 'c1', create),
            applied('c1'),
            decided(4, 'c2', update, keyAfter),
            applied('c2'),
          ])
            foldLedger(l, e);

          const expected = applyToEntry(
            applyToEntry(undefined, pending('c1', create, key)),
            pending('c2', update, keyAfter),
          );
          const entry = l.entries.get('p1');
          expect(entry?.key).toBe(expected?.key);
          expect(Object.keys(entry?.fields ?? {}).sort()).toStrictEqual(
            Object.keys(expected?.fields ?? {}).sort(),
          );
          expect(entry?.groups).toStrictEqual(expected?.groups);
          expect([...l.owners]).toStrictEqual([[keyAfter, 'p1']]);
          expect(l.pending.size).toBe(0);
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe("the ledger's pending commands", () => {
  const create = (profileId: string): Decision => ({
    profileId,
    operation: 'create',
    key: `${profileId}@x.io`,
    fields: { set: { email: `${profileId}@x.io` }, unset: [] },
    groups: { add: [], remove: [] },
  });

  it('given two profiles decided and one outcome folded, then pendingOf and pendingCommands give the command still without an outcome, and nothing once both are in', () => {
    const l = initialLedger();
    foldLedger(l, decided(2, 'c1', create('p1')));
    foldLedger(l, decided(3, 'c2', create('p2')));
    foldLedger(l, applied('c2'));
    expect(pendingOf(l, 'p1').map((c) => c.commandId)).toStrictEqual(['c1']);
    expect(pendingOf(l, 'p2')).toStrictEqual([]);
    expect([...pendingCommands(l.pending)].map((c) => c.commandId)).toStrictEqual(['c1']);
    expect(l.entries.get('p2')?.key).toBe('p2@x.io');

    foldLedger(l, applied('c1'));
    expect(pendingOf(l, 'p1')).toStrictEqual([]);
    expect(l.pending.size).toBe(0);
    expect(l.entries.get('p1')?.key).toBe('p1@x.io');
  });
});
