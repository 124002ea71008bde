// Why a decision was made, as a tagged value: each row of the decision table that carries a message
// gives its reason back from the decision and its inputs (reasonOf), and explain words it from the tag.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decide, reasonOf } from '../domain/decide.js';
import {
  isDecision,
  reasonLevel,
  reasonMessage,
  type DecisionInput,
  type DecisionReason,
} from '../domain/decision.js';
import type { SyncModeName } from '../domain/modes.js';
import type { Value } from '../domain/values.js';
import { reasonFor, type ReasonContext } from '../engine/audit/reasons.js';
import { foldWorld, initialWorld } from '../projections/world.js';
import { created, destination, inGroup, record, wrote } from './support/given.js';

const ANN = 'ann@x.io';

const input = (over: Partial<DecisionInput> & { mode: SyncModeName }): DecisionInput => ({
  destination: destination({ mode: over.mode }),
  profileId: 'p2',
  profile: { properties: { email: ANN }, groups: [] },
  observed: [],
  ledger: null,
  claims: {},
  ...over,
});

/** The reason decide() gave, read back from its decision and the inputs. */
const reasonFrom = (i: DecisionInput): DecisionReason | undefined => {
  const v = decide(i);
  return isDecision(v) ? reasonOf(v, i) : undefined;
};

describe('reasonOf: the reason of each row of the decision table that carries a message', () => {
  it('given a profile without a key value, then the reason is NoKey naming the key field', () => {
    const i = input({ mode: 'sync', profile: { properties: { firstName: 'Ann' }, groups: [] } });
    expect(reasonFrom(i)).toStrictEqual({ _tag: 'NoKey', keyField: 'email' });
  });

  it('given a smaller profile claims the key, then the reason is KeyClaimed naming the key and the claimant', () => {
    const i = input({ mode: 'sync', claims: { [ANN]: 'p1' } });
    expect(reasonFrom(i)).toStrictEqual({ _tag: 'KeyClaimed', key: ANN, by: 'p1' });
  });

  it('given a skip of a key the destination holds (the row of a mode without updates), then the reason is UpdateNotAllowed', () => {
    // Every mode of the mode table updates: the row's decision is built as decide() builds it.
    const i = input({ mode: 'enrich', observed: [record(ANN, { email: 'other' })] });
    expect(reasonOf(skipOf(i, 'UpdateNotAllowed'), i)).toStrictEqual({ _tag: 'UpdateNotAllowed', key: ANN });
  });

  it('given enrich mode and no record under the key, then the reason is CreateNotAllowed', () => {
    const i = input({ mode: 'enrich', observed: [record('someone@else.io')] });
    expect(reasonFrom(i)).toStrictEqual({ _tag: 'CreateNotAllowed', key: ANN });
  });

  it('given additive mode and a written profile that left the collection, then the reason is DeleteNotAllowed', () => {
    const i = input({
      mode: 'additive',
      destination: destination({ mode: 'additive', collection: inGroup('vip') }),
      profileId: 'p1',
      ledger: wrote('p1', ANN, { email: ANN }, ['VIP']),
      observed: [record(ANN, { email: ANN }, ['VIP', 'Customer'])],
    });
    expect(reasonFrom(i)).toStrictEqual({ _tag: 'DeleteNotAllowed', key: ANN });
  });

  it('given a decision without a message (a create, an update), then it has no reason', () => {
    expect(reasonFrom(input({ mode: 'sync' }))).toBeUndefined();
    const i = input({ mode: 'sync', observed: [record(ANN, { email: ANN, first_name: 'Old' })] });
    i.profile = { properties: { email: ANN, firstName: 'Ann' }, groups: [] };
    expect(decide(i)).toMatchObject({ operation: 'update' });
    expect(reasonFrom(i)).toBeUndefined();
  });

  it('given a claimed skip whose claims do not name the claimant, then no reason is made up', () => {
    const i = input({ mode: 'sync', claims: { [ANN]: 'p1' } });
    const d = decide(i);
    expect(isDecision(d) && reasonOf(d, { ...i, claims: {} })).toBeUndefined();
  });
});

/** A skip decide() would give for `tag` were the mode to forbid it: the row's shape, built by hand. */
const skipOf = (i: DecisionInput, tag: 'UpdateNotAllowed') => {
  const reason: DecisionReason = { _tag: tag, key: ANN };
  return {
    profileId: i.profileId,
    operation: 'skip' as const,
    key: ANN,
    fields: { set: {}, unset: [] },
    groups: { add: [], remove: [] },
    level: reasonLevel(reason),
    message: reasonMessage(reason),
  };
};

const KEYS = [ANN, 'bob@x.io', '100'];
const keyValue: fc.Arbitrary<Value> = fc.constantFrom<Value>(...KEYS, null, '', 100);

const inputArb: fc.Arbitrary<DecisionInput> = fc
  .record({
    mode: fc.constantFrom<SyncModeName>('sync', 'additive', 'enrich'),
    kind: fc.constantFrom('all', 'vip'),
    profile: fc.option(
      fc.record({
        email: keyValue,
        inVip: fc.boolean(),
        inNews: fc.boolean(),
        name: fc.constantFrom('a', 'b'),
      }),
    ),
    observed: fc.uniqueArray(
      fc.record({
        key: fc.constantFrom(...KEYS),
        name: fc.constantFrom('a', 'b'),
        groups: fc.subarray(['VIP', 'Newsletter', 'Customer']),
      }),
      { selector: (r) => r.key },
    ),
    ledgerKey: fc.option(fc.constantFrom(...KEYS)),
    claims: fc.dictionary(fc.constantFrom(...KEYS), fc.constantFrom('p0', 'p1', 'p3')),
  })
  .map((c) => ({
    destination: destination({
      mode: c.mode,
      collection: c.kind === 'all' ? { kind: 'all' } : inGroup('vip'),
    }),
    mode: c.mode,
    profileId: 'p2',
    profile:
      c.profile === null
        ? null
        : {
            properties: { email: c.profile.email, firstName: c.profile.name },
            groups: [...(c.profile.inVip ? ['vip'] : []), ...(c.profile.inNews ? ['newsletter'] : [])],
          },
    observed: c.observed.map((r) => record(r.key, { email: r.key, first_name: r.name }, r.groups)),
    ledger: c.ledgerKey === null ? null : wrote('p2', c.ledgerKey, { email: c.ledgerKey }, ['VIP']),
    claims: c.claims,
  }));

describe('reasonOf agrees with decide() for any input', () => {
  it('given random inputs, when decide() gives a message, then the reason read back has those words and level', () => {
    fc.assert(
      fc.property(inputArb, (i) => {
        const v = decide(i);
        if (!isDecision(v)) return;
        const why = reasonOf(v, i);
        if (v.message === undefined) {
          expect(why).toBeUndefined();
          return;
        }
        expect(why).toBeDefined();
        expect(reasonMessage(why as DecisionReason)).toBe(v.message);
        expect(reasonLevel(why as DecisionReason)).toBe(v.level);
      }),
      { numRuns: 2000 },
    );
  });
});

describe("explain's reason comes from the tag, not from the decision's words", () => {
  const world = foldWorld(initialWorld(), created('p2', { email: ANN }));
  const context = (i: DecisionInput): ReasonContext => ({
    destination: i.destination,
    mode: i.mode,
    profileId: i.profileId,
    world,
    everJoined: new Set(),
    key: ANN,
    ledger: i.ledger,
    observed: i.observed,
    claims: i.claims,
  });

  it('given a claimed skip stored with other words, then explain still names the key and the claimant', () => {
    const i = input({ mode: 'sync', claims: { [ANN]: 'p1' } });
    const d = decide(i);
    if (!isDecision(d)) throw new Error('expected a skip');
    expect(reasonFor(context(i), { ...d, message: 'worded otherwise' })).toBe(
      `skipped: key ${ANN} is also claimed by p1`,
    );
  });

  it('given a create the mode forbids, then explain says the mode does not create', () => {
    const i = input({ mode: 'enrich' });
    expect(reasonFor(context(i), decide(i))).toBe(
      `not created: enrich mode does not create, and no record with key ${ANN} exists`,
    );
  });
});
