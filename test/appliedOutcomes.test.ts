// How a BatchApplied records outcomes: first-attempt successes as ids alone, everything else in full,
// and how readers (the ledger fold, log and explain through resultsOf) get every outcome back.
import fc from 'fast-check';
import * as E from 'fp-ts/lib/Either.js';
import { describe, expect, it } from 'vitest';
import type { Decision } from '../domain/decision.js';
import { appliedData, BatchApplied, resultsOf, type CommandResult } from '../domain/syncEvents.js';
import { foldLedger, initialLedger } from '../projections/ledger.js';

const AT = '2026-11-29T06:00:00.000Z';
const LATER = '2026-11-29T06:00:01.000Z';
const ok = (commandId: string, at = AT, attempts = 1): CommandResult => ({
  commandId,
  status: 'ok',
  attempts,
  at,
});

describe('recording outcomes', () => {
  it('given every command succeeded at its first attempt, then they are recorded as ids at one time', () => {
    expect(appliedData('r1', [ok('c1'), ok('c2'), ok('c3')])).toStrictEqual({
      runId: 'r1',
      results: [],
      ok: { at: AT, commandIds: ['c1', 'c2', 'c3'] },
    });
  });

  it('given failures, retried successes and a success at another time, then those are recorded in full', () => {
    const failed: CommandResult = {
      commandId: 'c2',
      status: 'error',
      attempts: 5,
      at: AT,
      retryable: true,
      message: 'locked',
    };
    const data = appliedData('r1', [ok('c1'), failed, ok('c3', AT, 2), ok('c4', LATER), ok('c5')]);
    expect(data).toStrictEqual({
      runId: 'r1',
      results: [failed, ok('c3', AT, 2), ok('c4', LATER)],
      ok: { at: AT, commandIds: ['c1', 'c5'] },
    });
    expect(E.isRight(BatchApplied.decode({ type: 'BatchApplied', data }))).toBe(true);
  });

  it('given no success at all, then there is no ok list', () => {
    expect(appliedData('r1', [])).toStrictEqual({ runId: 'r1', results: [] });
  });

  it('given any outcomes, then resultsOf gives every one of them back, each once', () => {
    const result = fc.record({
      status: fc.constantFrom('ok' as const, 'error' as const),
      attempts: fc.integer({ min: 1, max: 5 }),
      at: fc.constantFrom(AT, LATER),
    });
    fc.assert(
      fc.property(fc.array(result, { maxLength: 20 }), (rs) => {
        const results: CommandResult[] = rs.map((r, i) => ({
          commandId: `c${i}`,
          ...r,
          ...(r.status === 'error' ? { retryable: false, message: 'refused' } : {}),
        }));
        const back = resultsOf(appliedData('r1', results));
        const byId = (a: CommandResult, b: CommandResult) => a.commandId.localeCompare(b.commandId);
        expect([...back].sort(byId)).toStrictEqual([...results].sort(byId));
      }),
    );
  });

  it('given a store written before ok lists existed, then its outcomes still read as recorded', () => {
    expect(resultsOf({ runId: 'r1', results: [ok('c1')] })).toStrictEqual([ok('c1')]);
  });
});

describe('the ledger fold of outcomes', () => {
  const decision: Decision = {
    profileId: 'p1',
    operation: 'create',
    key: 'ada@example.com',
    fields: { set: { email: 'ada@example.com' }, unset: [] },
    groups: { add: ['vip'], remove: [] },
  };
  const decided = {
    type: 'BatchDecided' as const,
    data: {
      runId: 'r1',
      position: 7,
      profileIds: ['p1'],
      keys: ['ada@example.com'],
      observed: [],
      decisions: [{ commandId: 'c1', decision }],
      decidedAt: AT,
    },
  };

  it.each([
    ['as an ok list', appliedData('r1', [ok('c1')])],
    ['as full results (older stores)', { runId: 'r1', results: [ok('c1')] }],
  ])(
    'given a command applied, recorded %s, then the ledger holds what it wrote and nothing pending',
    (_, data) => {
      const l = foldLedger(foldLedger(initialLedger(), decided), { type: 'BatchApplied', data });
      expect(l.pending.size).toBe(0);
      expect(l.entries.get('p1')).toMatchObject({ key: 'ada@example.com', groups: ['vip'] });
      expect(l.owners.get('ada@example.com')).toBe('p1');
    },
  );

  it('given another profile’s command writing a record a profile had written, when applied, then that profile’s entry is dropped and counted as taken', () => {
    const ok1 = foldLedger(foldLedger(initialLedger(), decided), {
      type: 'BatchApplied',
      data: appliedData('r1', [ok('c1')]),
    });
    expect(ok1.taken).toBe(0);
    const byP2 = {
      ...decided,
      data: {
        ...decided.data,
        profileIds: ['p2'],
        decisions: [
          { commandId: 'c2', decision: { ...decision, profileId: 'p2', operation: 'update' as const } },
        ],
      },
    };
    const l = foldLedger(foldLedger(ok1, byP2), {
      type: 'BatchApplied',
      data: appliedData('r1', [ok('c2')]),
    });
    expect(l.entries.has('p1')).toBe(false);
    expect(l.owners.get('ada@example.com')).toBe('p2');
    expect(l.taken).toBe(1);
  });
});
