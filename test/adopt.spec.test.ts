// adoption(), pure: which record a verdict matched, what of it the ledger takes as written, and when
// the ledger already says all of that (then nothing is recorded).
import { describe, expect, it } from 'vitest';
import { adoption } from '../domain/adopt.js';
import { reportErrors } from '../domain/codec.js';
import { SyncEvent } from '../domain/syncEvents.js';
import { decide } from '../domain/decide.js';
import type { DecisionInput, LedgerEntry, ObservedRecord } from '../domain/decision.js';
import type { Properties } from '../domain/values.js';
import { destination, inGroup, record, wrote } from './support/given.js';

const crm = destination({ mode: 'sync', collection: inGroup('vip') });
const ann = { email: 'ann@x.io', firstName: 'Ann', lifetimeValue: 100 };

/** The input decide gets for ann (a VIP and newsletter member), with these records and ledger entry. */
const input = (
  observed: ObservedRecord[],
  ledger: LedgerEntry | null = null,
  properties: Properties = ann,
  groups = ['vip', 'newsletter'],
): DecisionInput => ({
  destination: crm,
  mode: 'sync',
  profileId: 'p1',
  profile: { properties, groups },
  observed,
  ledger,
  claims: {},
});

const adopted = (i: DecisionInput) => adoption(i, decide(i));

const asWanted = record('ann@x.io', { email: 'ann@x.io', first_name: 'Ann', ltv: 100 }, [
  'Newsletter',
  'VIP',
]);

describe('what a matched record gives the ledger', () => {
  it('given ann’s record as she wants it and no entry, then her key, every mapped field and every managed group she has, sorted', () => {
    expect(adopted(input([asWanted]))).toStrictEqual({
      profileId: 'p1',
      key: 'ann@x.io',
      fields: ['email', 'first_name', 'ltv'],
      groups: ['Newsletter', 'VIP'],
    });
  });

  it('given a record with a stale field, an unmanaged group and a managed one she left, then the update adopts only what it held as wanted', () => {
    const stale = record('ann@x.io', { email: 'ann@x.io', first_name: 'Annie', ltv: 100 }, [
      'Customers',
      'VIP',
    ]);
    const i = input([stale], null, ann, ['vip']);
    expect(decide(i)).toMatchObject({ operation: 'update', fields: { set: { first_name: 'Ann' } } });
    expect(adopted(i)).toStrictEqual({
      profileId: 'p1',
      key: 'ann@x.io',
      fields: ['email', 'ltv'],
      groups: ['VIP'],
    });
  });

  it('given a record that does not echo its key field, then the key field counts as held through the record’s key', () => {
    const bare = record('ann@x.io', { first_name: 'Ann', ltv: 100 }, ['Newsletter', 'VIP']);
    expect(adopted(input([bare]))?.fields).toStrictEqual(['email', 'first_name', 'ltv']);
  });

  it('given a key field held as a number where the profile has it as text, then it is held: keys compare as text', () => {
    const numbered = destination({
      mode: 'sync',
      keyField: 'id',
      mapping: { id: 'customerId', first_name: 'firstName' },
    });
    const i: DecisionInput = {
      ...input(
        [record('100', { id: 100, first_name: 'Ann' })],
        null,
        { customerId: '100', firstName: 'Ann' },
        [],
      ),
      destination: numbered,
    };
    expect(adopted(i)).toStrictEqual({
      profileId: 'p1',
      key: '100',
      fields: ['first_name', 'id'],
      groups: [],
    });
  });

  it('given an entry under an old key and the record found under the new one, then the record’s key replaces it and the entry’s fields are kept beside the held ones', () => {
    const entry = wrote('p1', 'old@x.io', { zeta: null, email: null });
    expect(adopted(input([asWanted], entry))).toStrictEqual({
      profileId: 'p1',
      key: 'ann@x.io',
      fields: ['email', 'first_name', 'ltv', 'zeta'],
      groups: ['Newsletter', 'VIP'],
    });
  });

  it('given a rename (the record still under the entry’s old key), then the update adopts the record under its old key', () => {
    const entry = wrote('p1', 'old@x.io', { email: null });
    const old = record('old@x.io', { email: 'old@x.io', first_name: 'Ann', ltv: 100 }, ['Newsletter', 'VIP']);
    const i = input([old], entry);
    expect(decide(i)).toMatchObject({ operation: 'update', key: 'old@x.io' });
    expect(adopted(i)).toStrictEqual({
      profileId: 'p1',
      key: 'old@x.io',
      fields: ['email', 'first_name', 'ltv'],
      groups: ['Newsletter', 'VIP'],
    });
  });
});

describe('which record, and which of its fields, are the matched ones', () => {
  it('given records under other keys before hers, then hers is the one adopted', () => {
    const other = record('old@x.io', { email: 'old@x.io' }, ['VIP']);
    expect(adopted(input([other, asWanted]))?.key).toBe('ann@x.io');
  });

  it('given a field holding "100" where she has 100, then it differs (only keys compare as text) and is not adopted', () => {
    const text = record('ann@x.io', { email: 'ann@x.io', first_name: 'Ann', ltv: '100' }, [
      'Newsletter',
      'VIP',
    ]);
    expect(decide(input([text]))).toMatchObject({ operation: 'update', fields: { set: { ltv: 100 } } });
    expect(adopted(input([text]))?.fields).toStrictEqual(['email', 'first_name']);
  });

  it('given the record under her key but its key field holding another value, then the key field is not adopted', () => {
    const odd = record('ann@x.io', { email: 'ANN@x.io', first_name: 'Ann', ltv: 100 }, ['Newsletter', 'VIP']);
    expect(decide(input([odd]))).toMatchObject({
      operation: 'update',
      fields: { set: { email: 'ann@x.io' } },
    });
    expect(adopted(input([odd]))?.fields).toStrictEqual(['first_name', 'ltv']);
  });

  it('given an entry holding every field and group but under an old key, then the record under the new key is adopted', () => {
    const entry = wrote('p1', 'old@x.io', { email: null, first_name: null, ltv: null }, [
      'Newsletter',
      'VIP',
    ]);
    expect(adopted(input([asWanted], entry))?.key).toBe('ann@x.io');
  });

  it('given another in-scope profile with a smaller id claiming her key, then she is skipped and its record is not adopted for her', () => {
    const claimed: DecisionInput = { ...input([asWanted]), profileId: 'p2', claims: { 'ann@x.io': 'p1' } };
    expect(decide(claimed)).toMatchObject({ operation: 'skip', level: 'error' });
    expect(adopted(claimed)).toBeUndefined();
  });
});

describe('when nothing is adopted', () => {
  it('given an entry that already holds the key, the fields and the groups, then nothing', () => {
    const entry = wrote('p1', 'ann@x.io', { email: null, first_name: null, ltv: null }, [
      'Newsletter',
      'VIP',
    ]);
    expect(adopted(input([asWanted], entry))).toBeUndefined();
  });

  it('given an entry that lacks one field or one group the record holds as wanted, then the record is adopted again', () => {
    const noLtv = wrote('p1', 'ann@x.io', { email: null, first_name: null }, ['Newsletter', 'VIP']);
    const noVip = wrote('p1', 'ann@x.io', { email: null, first_name: null, ltv: null }, ['Newsletter']);
    expect(adopted(input([asWanted], noLtv))?.fields).toStrictEqual(['email', 'first_name', 'ltv']);
    expect(adopted(input([asWanted], noVip))?.groups).toStrictEqual(['Newsletter', 'VIP']);
  });

  it('given no record (a create), a profile out of scope, or a skip, then nothing', () => {
    expect(adopted(input([]))).toBeUndefined();
    const leaver = input([asWanted], wrote('p1', 'ann@x.io', { email: null }), ann, ['newsletter']);
    expect(decide(leaver).operation).toBe('delete');
    expect(adopted(leaver)).toBeUndefined();
    const keyless = input([asWanted], null, { firstName: 'Ann' });
    expect(decide(keyless).operation).toBe('skip');
    expect(adopted(keyless)).toBeUndefined();
  });

  it('given an additive destination and a leaver, then the group removal adopts nothing', () => {
    const additive = destination({ mode: 'additive', collection: inGroup('vip') });
    const i: DecisionInput = {
      ...input([asWanted], wrote('p1', 'ann@x.io', { email: null }), ann, ['newsletter']),
      destination: additive,
      mode: 'additive',
    };
    expect(decide(i)).toMatchObject({ operation: 'update', groups: { remove: ['Newsletter', 'VIP'] } });
    expect(adopted(i)).toBeUndefined();
  });

  it('given a verdict of nothing for another reason than in sync, then nothing', () => {
    const never = input([asWanted], null, ann, ['newsletter']);
    expect(decide(never)).toMatchObject({ operation: 'nothing', reason: 'never-written' });
    expect(adopted(never)).toBeUndefined();
  });
});

describe('an adoption as a batch records it', () => {
  it('given a recorded BatchDecided whose adoption lacks its key, when decoded, then the error names the adoption’s field', () => {
    const batch = {
      type: 'BatchDecided',
      data: {
        runId: 'r',
        position: 1,
        profileIds: ['p1'],
        keys: [],
        observed: [],
        decisions: [],
        decidedAt: '2026-01-01T00:00:00Z',
        adopted: [{ profileId: 'p1', fields: [], groups: [] }],
      },
    };
    const decoded = SyncEvent.decode(batch);
    expect(decoded._tag).toBe('Left');
    expect(decoded._tag === 'Left' && reportErrors(decoded.left)).toStrictEqual([
      'data.adopted[0].key: is required',
    ]);
  });
});
