// The ledger's pending commands, kept as a queue with indexes built on demand, answer every question
// exactly as a plain map by id in the order decided does: checked over random histories (fast-check).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Decision } from '../domain/decision.js';
import {
  addPending,
  emptyPending,
  pendingBefore,
  pendingCommands,
  pendingMark,
  takePending,
  type PendingCommand,
} from '../projections/pending.js';

const PROFILES = ['p1', 'p2', 'p3', 'p4', 'p5'];

const command = (n: number, profileId: string): PendingCommand => ({
  runId: 'r1',
  commandId: `c${n}`,
  decision: {
    profileId,
    operation: 'create',
    key: `${profileId}@x.io`,
    fields: { set: {}, unset: [] },
    groups: { add: [], remove: [] },
  } satisfies Decision,
  keyAfter: `${profileId}@x.io`,
});

/**
 * decide: a command for a profile; settle: the oldest pending, the one decided after the last
 * settled, one picked at random (by its rank among the pending), or an id that is not pending;
 * ask: the commands of a profile, of all (mark now) or of those decided before the run's mark.
 */
const step = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({ op: fc.constant('decide' as const), profile: fc.constantFrom(...PROFILES) }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      op: fc.constant('settle' as const),
      which: fc.constantFrom('oldest', 'next', 'any', 'unknown'),
      rank: fc.nat(),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ op: fc.constant('ask' as const), profile: fc.constantFrom(...PROFILES) }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('run' as const) }) },
);

describe('the pending commands of a ledger', () => {
  it('given any history of decisions and outcomes, then the pending commands, their count and each profile’s are those of a map by id kept in the order decided', () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 400 }), fc.boolean(), (steps, bulk) => {
        const p = emptyPending();
        const model = new Map<string, PendingCommand>();
        let n = 0;
        let lastTaken = -1;
        // A run's mark, and the profiles it has decided since (each at most once, as a run does).
        let mark = pendingMark(p);
        let decidedInRun = new Set<string>();
        const decide = (profile: string): void => {
          const cmd = command(n++, profile);
          addPending(p, cmd);
          model.set(cmd.commandId, cmd);
          decidedInRun.add(profile);
        };
        for (const s of steps) {
          if (s.op === 'decide') {
            // Bulk histories decide many at once, so that the queue's front is dropped now and then.
            for (let i = 0; i < (bulk ? 300 : 1); i++) decide(s.profile);
          } else if (s.op === 'settle') {
            const ids = [...model.keys()];
            const next = ids.find((c) => Number(c.slice(1)) > lastTaken);
            const picked =
              s.which === 'oldest'
                ? ids[0]
                : s.which === 'next'
                  ? (next ?? ids[0])
                  : ids[s.rank % ids.length];
            const id = s.which === 'unknown' || picked === undefined ? `c${n + 7}` : picked;
            const taken = takePending(p, id);
            expect(taken).toBe(model.get(id));
            if (model.delete(id)) lastTaken = Number(id.slice(1));
          } else if (s.op === 'ask') {
            const ofProfile = [...model.values()].filter((c) => c.decision.profileId === s.profile);
            if (!decidedInRun.has(s.profile))
              expect(pendingBefore(p, mark, s.profile)).toStrictEqual(ofProfile);
            expect(pendingBefore(p, pendingMark(p), s.profile)).toStrictEqual(ofProfile);
          } else {
            mark = pendingMark(p);
            decidedInRun = new Set();
          }
          expect(p.size).toBe(model.size);
        }
        expect([...pendingCommands(p)]).toStrictEqual([...model.values()]);
      }),
      { numRuns: 300 },
    );
  });

  it('given outcomes in the order decided, then none of them is looked up by id, and no profile index is built', () => {
    const p = emptyPending();
    for (let i = 0; i < 5000; i++) addPending(p, command(i, `p${i}`));
    for (let i = 0; i < 4999; i++) expect(takePending(p, `c${i}`)?.commandId).toBe(`c${i}`);
    expect(p.byId).toBeNull();
    expect(p.byProfile.size).toBe(0);
    // the front of the queue was dropped as it was settled: one command left, at its absolute position
    expect(p.queue.length).toBeLessThan(2500);
    expect(takePending(p, 'c4999')?.commandId).toBe('c4999');
    expect(p.queue).toStrictEqual([]);
  });

  it('given a failure recorded after the successes decided after it, then those successes are still found by order, without the index by id', () => {
    const p = emptyPending();
    for (let i = 0; i < 100; i++) addPending(p, command(i, `p${i}`));
    // c3 failed: BatchApplied lists the first-attempt successes, then the failure
    for (let i = 0; i < 100; i++) if (i !== 3) expect(takePending(p, `c${i}`)?.commandId).toBe(`c${i}`);
    expect(p.byId).toBeNull();
    expect(takePending(p, 'c3')?.commandId).toBe('c3');
    expect(p.size).toBe(0);
  });
});
