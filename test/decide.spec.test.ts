// The decision table (docs/architecture.md, "The decision") as executable specifications: every row, in
// each sync mode, plus the folding rules of "Input events" and the decision's shape, through simulate().
import { describe, expect, it } from 'vitest';
import type { Decision, NothingReason, Verdict } from '../domain/decision.js';
import type { DestinationConfig } from '../domain/destination.js';
import type { InputEvent } from '../domain/events.js';
import type { SyncModeName } from '../domain/modes.js';
import { diffRecord } from '../domain/decide.js';
import {
  changed,
  created,
  deleted,
  destination,
  everyone,
  given,
  groupCreated,
  groupDeleted,
  inGroup,
  joined,
  left,
  nobody,
  record,
  unsetProperties,
  wrote,
  type DestinationSpec,
} from './support/given.js';

const MODES: readonly SyncModeName[] = ['sync', 'additive', 'enrich'];

const ANN = 'ann@x.io';
const ANN2 = 'ann@new.io';

// The messages of the decision table, written out as the contract states them.
const NO_KEY = (field: string) => `Profile has no value for key field '${field}'`;
const CLAIMED = (key: string, other: string) => `Key '${key}' is also claimed by profile ${other}`;
const NO_CREATE = 'Destination sync mode does not allow creating new profiles';
const REMOVED_FROM_GROUPS =
  'Destination sync mode does not allow removing profiles; removed from groups instead';

const NO_FIELDS = { set: {}, unset: [] };
const NO_GROUPS = { add: [], remove: [] };

const skipped = (profileId: string, level: 'info' | 'error', message: string, key?: string): Decision => ({
  profileId,
  operation: 'skip',
  ...(key === undefined ? {} : { key }),
  fields: NO_FIELDS,
  groups: NO_GROUPS,
  level,
  message,
});

const nothing = (profileId: string, reason: NothingReason): Verdict => ({
  profileId,
  operation: 'nothing',
  reason,
});

const GROUPS = [groupCreated('vip'), groupCreated('newsletter')];

describe.each(MODES)('the decision table in %s mode', (mode) => {
  /** The expected outcome of this mode, from the mode table (docs/architecture.md, "Sync modes"). */
  const per = <T>(outcomes: Record<SyncModeName, T>): T => outcomes[mode];
  const crm = (spec: Omit<DestinationSpec, 'mode'> = {}): DestinationConfig => destination({ mode, ...spec });
  const vipOnly = crm({ collection: inGroup('vip') });

  describe('in scope, row "no key": given an in-scope profile without a usable key value', () => {
    it.each([
      ['lacks the key property', { firstName: 'Ann' }],
      ['has the key property set to null', { email: null, firstName: 'Ann' }],
      ['has the key property set to the empty string', { email: '', firstName: 'Ann' }],
    ])('when it %s, then it is skipped with an error naming the key field', (_, properties) => {
      expect(given(crm()).events(created('p1', properties)).decisions()).toStrictEqual([
        skipped('p1', 'error', NO_KEY('email')),
      ]);
    });

    it('when the key field is customer_id, then the message names customer_id, not the property', () => {
      const d = crm({ keyField: 'customer_id', mapping: { customer_id: 'customerId', email: 'email' } });
      expect(
        given(d)
          .events(created('p1', { email: ANN }))
          .decisions(),
      ).toStrictEqual([skipped('p1', 'error', NO_KEY('customer_id'))]);
    });

    it('when it lost its key after syncline wrote it, then it is skipped and its record is not touched', () => {
      const decisions = given(crm())
        .events(created('p1', { email: ANN, firstName: 'Ann' }), unsetProperties('p1', 'email'))
        .ledger(wrote('p1', ANN, { email: ANN, first_name: 'Ann' }))
        .observed(record(ANN, { email: ANN, first_name: 'Ann' }))
        .decisions();
      expect(decisions).toStrictEqual([skipped('p1', 'error', NO_KEY('email'))]);
    });
  });

  describe('in scope, row "key claimed by a smaller profileId": given in-scope profiles wanting one key', () => {
    const createAnn: Decision = {
      profileId: 'p1',
      operation: 'create',
      key: ANN,
      fields: { set: { email: ANN, first_name: 'Ann' }, unset: [] },
      groups: NO_GROUPS,
    };
    const twins = [
      created('p1', { email: ANN, firstName: 'Ann' }),
      created('p2', { email: ANN, firstName: 'Annie' }),
    ];

    it('when no record holds the key, then p2 is skipped naming p1, and p1 gets its mode’s no-record decision', () => {
      expect(
        given(crm())
          .events(...twins)
          .decisions(),
      ).toStrictEqual([
        per({ sync: createAnn, additive: createAnn, enrich: skipped('p1', 'info', NO_CREATE, ANN) }),
        skipped('p2', 'error', CLAIMED(ANN, 'p1'), ANN),
      ]);
    });

    it('when a record holds the key, then p1 updates it and p2 is skipped naming p1', () => {
      const decisions = given(crm())
        .events(...twins)
        .observed(record(ANN, { email: ANN, first_name: 'Old' }))
        .decisions();
      expect(decisions).toStrictEqual([
        {
          profileId: 'p1',
          operation: 'update',
          key: ANN,
          fields: { set: { first_name: 'Ann' }, unset: [] },
          groups: NO_GROUPS,
        },
        skipped('p2', 'error', CLAIMED(ANN, 'p1'), ANN),
      ]);
    });

    it('when the larger id was created first, then the smaller id still wins the key', () => {
      const reversed = [twins[1], twins[0]] as InputEvent[];
      expect(
        given(crm())
          .events(...reversed)
          .decisionFor('p2'),
      ).toStrictEqual(skipped('p2', 'error', CLAIMED(ANN, 'p1'), ANN));
    });

    it('when three profiles want the key, then both larger ones are skipped naming the smallest', () => {
      const decisions = given(crm())
        .events(...twins, created('p3', { email: ANN }))
        .decisions();
      expect(decisions.slice(1)).toStrictEqual([
        skipped('p2', 'error', CLAIMED(ANN, 'p1'), ANN),
        skipped('p3', 'error', CLAIMED(ANN, 'p1'), ANN),
      ]);
    });

    it('when the number 100 and the string "100" are the keys, then both claim key 100 and p2 is skipped', () => {
      const decisions = given(crm())
        .events(created('p1', { email: 100 }), created('p2', { email: '100' }))
        .decisions();
      expect(decisions[1]).toStrictEqual(skipped('p2', 'error', CLAIMED('100', 'p1'), '100'));
    });

    it('when the smaller profile is out of scope, then its claim does not count and the larger one proceeds', () => {
      const g = given(vipOnly).events(...GROUPS, ...twins, joined('p2', 'vip'));
      const createP2: Decision = {
        profileId: 'p2',
        operation: 'create',
        key: ANN,
        fields: { set: { email: ANN, first_name: 'Annie' }, unset: [] },
        groups: { add: ['VIP'], remove: [] },
      };
      expect(g.decisions()).toStrictEqual([
        per({ sync: createP2, additive: createP2, enrich: skipped('p2', 'info', NO_CREATE, ANN) }),
      ]);
      expect(g.decisionFor('p1')).toStrictEqual(nothing('p1', 'never-written'));
    });
  });

  describe('in scope, row "record found, something differs": the update sets only what differs', () => {
    const ann = created('p1', { email: ANN, firstName: 'Ann', lifetimeValue: 100 });
    const update = (set: Decision['fields']['set']): Decision => ({
      profileId: 'p1',
      operation: 'update',
      key: ANN,
      fields: { set, unset: [] },
      groups: NO_GROUPS,
    });

    it('when only first_name differs, then the update is addressed by the key and sets only first_name', () => {
      const decisions = given(crm())
        .events(ann)
        .observed(record(ANN, { email: ANN, first_name: 'Annie', ltv: 100 }))
        .decisions();
      expect(decisions).toStrictEqual([update({ first_name: 'Ann' })]);
    });

    it.each([
      [100, '100'],
      ['100', 100],
      [true, 'true'],
      [0, false],
      [null, 'null'],
      ['', null],
      [
        [1, 2],
        [2, 1],
      ],
      [['a'], 'a'],
    ])(
      'when the profile holds %j and the record holds %j, then the field is set (values compare by type)',
      (want, held) => {
        const decisions = given(crm())
          .events(created('p1', { email: ANN, lifetimeValue: want }))
          .observed(record(ANN, { email: ANN, ltv: held }))
          .decisions();
        expect(decisions).toStrictEqual([update({ ltv: want })]);
      },
    );

    it('when the profile property is null and the record lacks the field, then the update sets it to null', () => {
      const decisions = given(crm())
        .events(created('p1', { email: ANN, firstName: null }))
        .observed(record(ANN, { email: ANN }))
        .decisions();
      expect(decisions).toStrictEqual([update({ first_name: null })]);
    });

    it('when the record lacks two desired fields, then the update sets both, with sorted keys', () => {
      const decisions = given(crm())
        .events(ann)
        .observed(record(ANN, { email: ANN }))
        .decisions();
      expect(decisions).toStrictEqual([update({ first_name: 'Ann', ltv: 100 })]);
      expect(Object.keys(decisions[0]?.fields.set ?? {})).toStrictEqual(['first_name', 'ltv']);
    });
  });

  describe('in scope, update: unsetting what syncline wrote and no longer wants', () => {
    const unsetLtv: Decision = {
      profileId: 'p1',
      operation: 'update',
      key: ANN,
      fields: { set: {}, unset: ['ltv'] },
      groups: NO_GROUPS,
    };
    const lostLtv = [
      created('p1', { email: ANN, lifetimeValue: 100 }),
      unsetProperties('p1', 'lifetimeValue'),
    ];
    const wroteLtv = wrote('p1', ANN, { email: ANN, ltv: 100 });

    it('when the profile lost a property syncline wrote and the record still holds a value, then it is unset', () => {
      const decisions = given(crm())
        .events(...lostLtv)
        .ledger(wroteLtv)
        .observed(record(ANN, { email: ANN, ltv: 100 }))
        .decisions();
      expect(decisions).toStrictEqual([unsetLtv]);
    });

    it('when a field syncline wrote left the mapping and the record still holds a value, then it is unset', () => {
      const d = crm({ mapping: { email: 'email', first_name: 'firstName' } });
      const decisions = given(d)
        .events(created('p1', { email: ANN, lifetimeValue: 100 }))
        .ledger(wroteLtv)
        .observed(record(ANN, { email: ANN, ltv: 100 }))
        .decisions();
      expect(decisions).toStrictEqual([unsetLtv]);
    });

    it.each([
      ['holds null', { email: ANN, ltv: null }],
      ['lacks the field', { email: ANN }],
    ])('when the record already %s, then nothing is unset and nothing is to be done', (_, fields) => {
      const g = given(crm())
        .events(...lostLtv)
        .ledger(wroteLtv)
        .observed(record(ANN, fields));
      expect(g.decisions()).toStrictEqual([]);
      expect(g.decisionFor('p1')).toStrictEqual(nothing('p1', 'in-sync'));
    });

    it('when syncline wrote a field named like an Object member that left the mapping, and the record lacks it, then nothing is to be done', () => {
      const g = given(crm())
        .events(created('p1', { email: ANN }))
        .ledger(wrote('p1', ANN, { email: ANN, constructor: 'x' }))
        .observed(record(ANN, { email: ANN }));
      expect(g.decisions()).toStrictEqual([]);
    });

    it('when syncline never wrote the field (not in the ledger), then the record’s value is left alone', () => {
      const g = given(crm())
        .events(...lostLtv)
        .ledger(wrote('p1', ANN, { email: ANN }))
        .observed(record(ANN, { email: ANN, ltv: 100 }));
      expect(g.decisions()).toStrictEqual([]);
    });

    it('when there is no ledger entry at all, then no field of the record is unset', () => {
      const g = given(crm())
        .events(...lostLtv)
        .observed(record(ANN, { email: ANN, ltv: 100, first_name: 'Ann' }));
      expect(g.decisions()).toStrictEqual([]);
    });

    it('when the property is set to null instead of unset, then the field is set to null, not unset', () => {
      const decisions = given(crm())
        .events(created('p1', { email: ANN, lifetimeValue: 100 }), changed('p1', { lifetimeValue: null }))
        .ledger(wroteLtv)
        .observed(record(ANN, { email: ANN, ltv: 100 }))
        .decisions();
      expect(decisions).toStrictEqual([
        {
          profileId: 'p1',
          operation: 'update',
          key: ANN,
          fields: { set: { ltv: null }, unset: [] },
          groups: NO_GROUPS,
        },
      ]);
    });
  });

  describe('in scope, update: managed groups are added and removed, other tags never', () => {
    it('when the profile is in newsletter but the record has VIP, then add Newsletter, remove VIP, keep Customer', () => {
      const decisions = given(crm())
        .events(...GROUPS, created('p1', { email: ANN }), joined('p1', 'newsletter'))
        .observed(record(ANN, { email: ANN }, ['Customer', 'VIP']))
        .decisions();
      expect(decisions).toStrictEqual([
        {
          profileId: 'p1',
          operation: 'update',
          key: ANN,
          fields: NO_FIELDS,
          groups: { add: ['Newsletter'], remove: ['VIP'] },
        },
      ]);
    });

    it('when the profile is in a group the destination does not map, then no tag is added for it', () => {
      const g = given(crm())
        .events(groupCreated('beta'), created('p1', { email: ANN }), joined('p1', 'beta'))
        .observed(record(ANN, { email: ANN }, ['Customer']));
      expect(g.decisions()).toStrictEqual([]);
      expect(g.decisionFor('p1')).toStrictEqual(nothing('p1', 'in-sync'));
    });

    it('when a mapped group of the profile is deleted, then its managed name is removed from the record', () => {
      const decisions = given(crm())
        .events(
          ...GROUPS,
          created('p1', { email: ANN }),
          joined('p1', 'vip'),
          joined('p1', 'newsletter'),
          groupDeleted('newsletter'),
        )
        .observed(record(ANN, { email: ANN }, ['Newsletter', 'VIP', 'beta']))
        .decisions();
      expect(decisions).toStrictEqual([
        {
          profileId: 'p1',
          operation: 'update',
          key: ANN,
          fields: NO_FIELDS,
          groups: { add: [], remove: ['Newsletter'] },
        },
      ]);
    });
  });

  describe('in scope, update: a rename (the ledger key differs from the new desired key)', () => {
    const renamed = [created('p1', { email: ANN, firstName: 'Ann' }), changed('p1', { email: ANN2 })];
    const wroteAnn = wrote('p1', ANN, { email: ANN, first_name: 'Ann' });
    const createAnn2: Decision = {
      profileId: 'p1',
      operation: 'create',
      key: ANN2,
      fields: { set: { email: ANN2, first_name: 'Ann' }, unset: [] },
      groups: NO_GROUPS,
    };

    it('when the record is found only by the old key, then the update addresses the old key and sets email to the new one', () => {
      const decisions = given(crm())
        .events(...renamed)
        .ledger(wroteAnn)
        .observed(record(ANN, { email: ANN, first_name: 'Ann' }, ['Customer']))
        .decisions();
      expect(decisions).toStrictEqual([
        {
          profileId: 'p1',
          operation: 'update',
          key: ANN,
          fields: { set: { email: ANN2 }, unset: [] },
          groups: NO_GROUPS,
        },
      ]);
    });

    it('when records exist under both keys, then the one under the new key is updated and the old one is left', () => {
      const decisions = given(crm())
        .events(...renamed)
        .ledger(wroteAnn)
        .observed(
          record(ANN, { email: ANN, first_name: 'Ann' }),
          record(ANN2, { email: ANN2, first_name: 'Old' }),
        )
        .decisions();
      expect(decisions).toStrictEqual([
        {
          profileId: 'p1',
          operation: 'update',
          key: ANN2,
          fields: { set: { first_name: 'Ann' }, unset: [] },
          groups: NO_GROUPS,
        },
      ]);
    });

    it('when another in-scope profile (even a larger id) claims the old key, then the rename is blocked', () => {
      const decisions = given(crm())
        .events(...renamed, created('p2', { email: ANN, firstName: 'Annie' }))
        .ledger(wroteAnn)
        .observed(record(ANN, { email: ANN, first_name: 'Ann' }))
        .decisions();
      expect(decisions).toStrictEqual([
        per({ sync: createAnn2, additive: createAnn2, enrich: skipped('p1', 'info', NO_CREATE, ANN2) }),
        {
          profileId: 'p2',
          operation: 'update',
          key: ANN,
          fields: { set: { first_name: 'Annie' }, unset: [] },
          groups: NO_GROUPS,
        },
      ]);
    });

    it('when no record exists under either key, then the profile is created under the new key (or skipped)', () => {
      const decisions = given(crm())
        .events(...renamed)
        .ledger(wroteAnn)
        .decisions();
      expect(decisions).toStrictEqual([
        per({ sync: createAnn2, additive: createAnn2, enrich: skipped('p1', 'info', NO_CREATE, ANN2) }),
      ]);
    });
  });

  describe('in scope, row "record found, nothing differs": nothing', () => {
    it('when the record holds every desired field and group, plus unmapped fields and unmanaged tags, then nothing', () => {
      const g = given(crm())
        .events(
          ...GROUPS,
          created('p1', { email: ANN, firstName: 'Ann', lifetimeValue: [1, 2] }),
          joined('p1', 'vip'),
        )
        .ledger(wrote('p1', ANN, { email: ANN, first_name: 'Ann', ltv: [1, 2] }, ['VIP']))
        .observed(
          record(ANN, { email: ANN, first_name: 'Ann', ltv: [1, 2], phone: '555' }, ['Customer', 'VIP']),
        );
      expect(g.decisions()).toStrictEqual([]);
      expect(g.decisionFor('p1')).toStrictEqual(nothing('p1', 'in-sync'));
    });

    it('when the record carries its key only as its key, not among its fields, then the key field counts as equal', () => {
      const g = given(crm())
        .events(created('p1', { email: ANN }))
        .observed(record(ANN, {}));
      expect(g.decisionFor('p1')).toStrictEqual(nothing('p1', 'in-sync'));
    });
  });

  describe('in scope, rows "no record": create where the mode allows it, else skip (info)', () => {
    it('when no record holds the key, then create carries every desired field (null kept) and every desired group, sorted', () => {
      const d = crm({ mapping: { zip: 'zip', email: 'email', age: 'age', first_name: 'firstName' } });
      const decisions = given(d)
        .events(
          ...GROUPS,
          created('p1', { email: ANN, firstName: null, zip: '1000', shoeSize: 44 }),
          joined('p1', 'vip'),
          joined('p1', 'newsletter'),
        )
        .observed(record('bob@x.io', { email: 'bob@x.io' }))
        .decisions();
      const create: Decision = {
        profileId: 'p1',
        operation: 'create',
        key: ANN,
        fields: { set: { email: ANN, first_name: null, zip: '1000' }, unset: [] },
        groups: { add: ['Newsletter', 'VIP'], remove: [] },
      };
      expect(decisions).toStrictEqual([
        per({ sync: create, additive: create, enrich: skipped('p1', 'info', NO_CREATE, ANN) }),
      ]);
      if (mode !== 'enrich')
        expect(Object.keys(decisions[0]?.fields.set ?? {})).toStrictEqual(['email', 'first_name', 'zip']);
    });

    it('when the profile is in no mapped group, then create carries no groups', () => {
      const create: Decision = {
        profileId: 'p1',
        operation: 'create',
        key: ANN,
        fields: { set: { email: ANN }, unset: [] },
        groups: NO_GROUPS,
      };
      expect(
        given(crm())
          .events(created('p1', { email: ANN }))
          .decisions(),
      ).toStrictEqual([
        per({ sync: create, additive: create, enrich: skipped('p1', 'info', NO_CREATE, ANN) }),
      ]);
    });
  });

  type Cause = { why: string; d: DestinationConfig; events: InputEvent[]; claimant: InputEvent[] | null };
  const annJoinsVip = [...GROUPS, created('p1', { email: ANN, firstName: 'Ann' }), joined('p1', 'vip')];
  const p2JoinsVip = [created('p2', { email: ANN, firstName: 'Annie' }), joined('p2', 'vip')];
  const causes: Cause[] = [
    {
      why: 'it left the group',
      d: vipOnly,
      events: [...annJoinsVip, left('p1', 'vip')],
      claimant: p2JoinsVip,
    },
    {
      why: 'its group was deleted (and recreated without it)',
      d: vipOnly,
      events: [...annJoinsVip, groupDeleted('vip')],
      claimant: [groupCreated('vip'), ...p2JoinsVip],
    },
    { why: 'it was deleted', d: vipOnly, events: [...annJoinsVip, deleted('p1')], claimant: p2JoinsVip },
    {
      why: 'it was deleted (collection all)',
      d: crm(),
      events: [...annJoinsVip, deleted('p1')],
      claimant: p2JoinsVip,
    },
    { why: 'the collection is none', d: crm({ collection: nobody }), events: annJoinsVip, claimant: null },
    {
      why: 'it never joined the collection’s group',
      d: vipOnly,
      events: [...GROUPS, created('p1', { email: ANN, firstName: 'Ann' })],
      claimant: p2JoinsVip,
    },
  ];
  const wroteAnn = wrote('p1', ANN, { email: ANN, first_name: 'Ann' }, ['VIP']);

  describe.each(causes)('not in scope: given p1 is out of scope because $why', ({ d, events }) => {
    it('when syncline never wrote p1 (no ledger entry), then nothing, even though a record with its key exists', () => {
      const g = given(d)
        .events(...events)
        .observed(record(ANN, { email: ANN, first_name: 'Ann' }, ['VIP']));
      expect(g.decisions()).toStrictEqual([]);
      expect(g.decisionFor('p1')).toStrictEqual(nothing('p1', 'never-written'));
    });

    it('when its record is found by the ledger key, then sync deletes it; additive and enrich remove its managed groups', () => {
      const decisions = given(d)
        .events(...events)
        .ledger(wroteAnn)
        .observed(record(ANN, { email: ANN, first_name: 'Ann' }, ['Customer', 'Newsletter', 'VIP']))
        .decisions();
      const removeGroups: Decision = {
        profileId: 'p1',
        operation: 'update',
        key: ANN,
        fields: NO_FIELDS,
        groups: { add: [], remove: ['Newsletter', 'VIP'] },
        level: 'info',
        message: REMOVED_FROM_GROUPS,
      };
      expect(decisions).toStrictEqual([
        per({
          sync: { profileId: 'p1', operation: 'delete', key: ANN, fields: NO_FIELDS, groups: NO_GROUPS },
          additive: removeGroups,
          enrich: removeGroups,
        }),
      ]);
    });

    it('when its record has no managed groups, then sync deletes it; additive and enrich do nothing', () => {
      const g = given(d)
        .events(...events)
        .ledger(wroteAnn)
        .observed(record(ANN, { email: ANN, first_name: 'Ann' }, ['Customer']));
      expect(g.decisionFor('p1')).toStrictEqual(
        per<Verdict>({
          sync: { profileId: 'p1', operation: 'delete', key: ANN, fields: NO_FIELDS, groups: NO_GROUPS },
          additive: nothing('p1', 'no-managed-groups'),
          enrich: nothing('p1', 'no-managed-groups'),
        }),
      );
    });

    it('when no record is found by the ledger key (only one under another key), then nothing', () => {
      const g = given(d)
        .events(...events)
        .ledger(wroteAnn)
        .observed(record(ANN2, { email: ANN2 }, ['VIP']));
      expect(g.decisions()).toStrictEqual([]);
      expect(g.decisionFor('p1')).toStrictEqual(nothing('p1', 'record-gone'));
    });
  });

  describe.each(causes.filter((c) => c.claimant !== null))(
    'not in scope, row "an in-scope profile claims L.key": given p1 is out of scope because $why',
    ({ d, events, claimant }) => {
      it('when p2 (in scope) wants p1’s ledger key, then nothing for p1 and p2’s decision owns the record', () => {
        const g = given(d)
          .events(...events, ...(claimant ?? []))
          .ledger(wroteAnn)
          .observed(record(ANN, { email: ANN, first_name: 'Ann' }, ['VIP']));
        expect(g.decisionFor('p1')).toStrictEqual(nothing('p1', 'claimed-by-other'));
        expect(g.decisions()).toStrictEqual([
          {
            profileId: 'p2',
            operation: 'update',
            key: ANN,
            fields: { set: { first_name: 'Annie' }, unset: [] },
            groups: NO_GROUPS,
          },
        ]);
      });
    },
  );

  describe('not in scope: which record is addressed', () => {
    it('when p1 left the group and then changed its email, then the record under the ledger key is the one acted on', () => {
      const g = given(vipOnly)
        .events(...annJoinsVip, left('p1', 'vip'), changed('p1', { email: ANN2 }))
        .ledger(wroteAnn)
        .observed(record(ANN, { email: ANN }, ['VIP']), record(ANN2, { email: ANN2 }, ['VIP']));
      expect(g.decisions()).toStrictEqual([
        per<Decision>({
          sync: { profileId: 'p1', operation: 'delete', key: ANN, fields: NO_FIELDS, groups: NO_GROUPS },
          additive: {
            profileId: 'p1',
            operation: 'update',
            key: ANN,
            fields: NO_FIELDS,
            groups: { add: [], remove: ['VIP'] },
            level: 'info',
            message: REMOVED_FROM_GROUPS,
          },
          enrich: {
            profileId: 'p1',
            operation: 'update',
            key: ANN,
            fields: NO_FIELDS,
            groups: { add: [], remove: ['VIP'] },
            level: 'info',
            message: REMOVED_FROM_GROUPS,
          },
        }),
      ]);
    });
  });

  describe('scope: who the collection includes', () => {
    const createAnn: Decision = {
      profileId: 'p1',
      operation: 'create',
      key: ANN,
      fields: { set: { email: ANN, first_name: 'Ann' }, unset: [] },
      groups: { add: ['VIP'], remove: [] },
    };
    const createOrSkip = per({
      sync: createAnn,
      additive: createAnn,
      enrich: skipped('p1', 'info', NO_CREATE, ANN),
    });

    it('given collection all, when a live profile is in no group, then it is in scope', () => {
      const create: Decision = { ...createAnn, groups: NO_GROUPS };
      expect(
        given(crm({ collection: everyone }))
          .events(created('p1', { email: ANN, firstName: 'Ann' }))
          .decisions(),
      ).toStrictEqual([
        per({ sync: create, additive: create, enrich: skipped('p1', 'info', NO_CREATE, ANN) }),
      ]);
    });

    it('given collection group vip, when the profile left and then re-joined vip, then it is in scope again', () => {
      const decisions = given(vipOnly)
        .events(...annJoinsVip, left('p1', 'vip'), joined('p1', 'vip'))
        .decisions();
      expect(decisions).toStrictEqual([createOrSkip]);
    });

    it('given collection all, when the profile was deleted and created again, then it is in scope with only its new state', () => {
      const decisions = given(crm())
        .events(
          ...GROUPS,
          created('p1', { email: ANN, firstName: 'Ann', lifetimeValue: 5 }),
          joined('p1', 'vip'),
          deleted('p1'),
          created('p1', { email: ANN, firstName: 'Ann' }),
        )
        .ledger(wrote('p1', ANN, { email: ANN, first_name: 'Ann', ltv: 5 }, ['VIP']))
        .observed(record(ANN, { email: ANN, first_name: 'Ann', ltv: 5 }, ['VIP']))
        .decisions();
      expect(decisions).toStrictEqual([
        {
          profileId: 'p1',
          operation: 'update',
          key: ANN,
          fields: { set: {}, unset: ['ltv'] },
          groups: { add: [], remove: ['VIP'] },
        },
      ]);
    });

    it('given collection group vip, when the profile was recreated after deletion without re-joining, then it is out of scope', () => {
      const decisions = given(vipOnly)
        .events(...annJoinsVip, deleted('p1'), created('p1', { email: ANN, firstName: 'Ann' }))
        .ledger(wroteAnn)
        .observed(record(ANN, { email: ANN, first_name: 'Ann' }, ['VIP']))
        .decisions();
      expect(decisions.map((x) => x.operation)).toStrictEqual(
        per({ sync: ['delete'], additive: ['update'], enrich: ['update'] }),
      );
    });

    it('given collection group vip, when the profile was recreated after deletion and joined vip, then it is in scope', () => {
      const decisions = given(vipOnly)
        .events(
          ...annJoinsVip,
          deleted('p1'),
          created('p1', { email: ANN, firstName: 'Ann' }),
          joined('p1', 'vip'),
        )
        .decisions();
      expect(decisions).toStrictEqual([createOrSkip]);
    });

    it('given collection none, when the profile is live and in every group, then it is never created', () => {
      const g = given(crm({ collection: nobody })).events(...annJoinsVip, joined('p1', 'newsletter'));
      expect(g.decisions()).toStrictEqual([]);
      expect(g.decisionFor('p1')).toStrictEqual(nothing('p1', 'never-written'));
    });
  });
});

describe('the folding rules of input events, as seen through the decision (sync mode, collection all)', () => {
  const crm = destination({ mode: 'sync' });
  const createWith = (set: Decision['fields']['set'], add: string[] = []): Decision[] => [
    {
      profileId: 'p1',
      operation: 'create',
      key: ANN,
      fields: { set, unset: [] },
      groups: { add, remove: [] },
    },
  ];

  it('given several ProfilePropertiesChanged, when folded, then the later value overrides the earlier ones', () => {
    const decisions = given(crm)
      .events(
        created('p1', { email: ANN, firstName: 'A' }),
        changed('p1', { firstName: 'B', lifetimeValue: 1 }),
        changed('p1', { firstName: 'C' }),
      )
      .decisions();
    expect(decisions).toStrictEqual(createWith({ email: ANN, first_name: 'C', ltv: 1 }));
  });

  it('given a property was unset, when folded, then the profile no longer has it', () => {
    const decisions = given(crm)
      .events(created('p1', { email: ANN, firstName: 'A' }), unsetProperties('p1', 'firstName'))
      .decisions();
    expect(decisions).toStrictEqual(createWith({ email: ANN }));
  });

  it('given the profile joined vip twice and left it once, when folded, then it is not a member', () => {
    const decisions = given(crm)
      .events(
        ...GROUPS,
        created('p1', { email: ANN }),
        joined('p1', 'vip'),
        joined('p1', 'vip'),
        left('p1', 'vip'),
      )
      .decisions();
    expect(decisions).toStrictEqual(createWith({ email: ANN }));
  });

  it('given the profile left a group it was not in, when folded, then its memberships are unchanged', () => {
    const decisions = given(crm)
      .events(...GROUPS, created('p1', { email: ANN }), joined('p1', 'vip'), left('p1', 'newsletter'))
      .decisions();
    expect(decisions).toStrictEqual(createWith({ email: ANN }, ['VIP']));
  });

  it('given events for a profile that was never created, when folded, then there is nothing to decide', () => {
    const g = given(crm).events(...GROUPS, changed('p9', { email: ANN }), joined('p9', 'vip'));
    expect(g.decisions()).toStrictEqual([]);
    expect(g.decisionFor('p9')).toStrictEqual(nothing('p9', 'never-written'));
  });

  it('given changes and joins before the profile was created, when folded, then they are not applied afterwards', () => {
    const decisions = given(crm)
      .events(
        ...GROUPS,
        changed('p1', { firstName: 'Early' }),
        joined('p1', 'vip'),
        created('p1', { email: ANN }),
      )
      .decisions();
    expect(decisions).toStrictEqual(createWith({ email: ANN }));
  });

  it('given events for a deleted profile, when folded, then they do not bring it back', () => {
    const decisions = given(crm)
      .events(created('p1', { email: ANN }), deleted('p1'), changed('p1', { email: ANN2 }))
      .ledger(wrote('p1', ANN, { email: ANN }))
      .observed(record(ANN, { email: ANN }))
      .decisions();
    expect(decisions).toStrictEqual([
      { profileId: 'p1', operation: 'delete', key: ANN, fields: NO_FIELDS, groups: NO_GROUPS },
    ]);
  });

  it('given a join to a group that does not exist yet, when the group is created later, then the join is not applied', () => {
    const decisions = given(crm)
      .events(created('p1', { email: ANN }), joined('p1', 'vip'), groupCreated('vip'))
      .decisions();
    expect(decisions).toStrictEqual(createWith({ email: ANN }));
  });

  it('given a deleted group, when a profile joins it, then nothing changes; recreating it restores no member', () => {
    const decisions = given(crm)
      .events(
        groupCreated('vip'),
        created('p1', { email: ANN }),
        joined('p1', 'vip'),
        groupDeleted('vip'),
        joined('p1', 'vip'),
        groupCreated('vip'),
      )
      .decisions();
    expect(decisions).toStrictEqual(createWith({ email: ANN }));
  });
});

describe('the decision as a value', () => {
  const crm = destination({
    mode: 'sync',
    mapping: { email: 'email', b: 'b', a: 'a', d: 'd', c: 'c' },
    groupMapping: { g4: 'D', g3: 'C', g2: 'B', g1: 'A' },
  });
  const groups = ['g1', 'g2', 'g3', 'g4'].map((g) => groupCreated(g));

  it('given several profiles, when simulated, then decisions are sorted by profile id and "nothing" is omitted', () => {
    const decisions = given(crm)
      .events(
        created('p2', { email: 'p2@x.io' }),
        created('p10', { email: 'p10@x.io' }),
        created('p3', { email: 'p3@x.io' }),
        created('p1', { email: 'p1@x.io' }),
      )
      .observed(record('p3@x.io', { email: 'p3@x.io' }))
      .decisions();
    expect(decisions.map((d) => d.profileId)).toStrictEqual(['p1', 'p10', 'p2']);
  });

  it('given an update with several fields and groups, when decided, then unset, add, remove and set keys are sorted', () => {
    const decisions = given(crm)
      .events(
        ...groups,
        created('p1', { email: ANN, d: 4, b: 2 }),
        joined('p1', 'g4'),
        joined('p1', 'g2'),
        joined('p1', 'g3'),
      )
      .ledger(wrote('p1', ANN, { email: ANN, c: 3, a: 1 }))
      .observed(record(ANN, { email: ANN, c: 3, a: 1 }, ['A', 'Z']))
      .decisions();
    expect(decisions).toStrictEqual([
      {
        profileId: 'p1',
        operation: 'update',
        key: ANN,
        fields: { set: { b: 2, d: 4 }, unset: ['a', 'c'] },
        groups: { add: ['B', 'C', 'D'], remove: ['A'] },
      },
    ]);
    expect(Object.keys(decisions[0]?.fields.set ?? {})).toStrictEqual(['b', 'd']);
  });

  it('given the same input, when decided twice, then the decisions are equal (replay)', () => {
    const g = given(crm)
      .events(
        ...groups,
        created('p1', { email: ANN, a: 1 }),
        joined('p1', 'g1'),
        created('p2', { email: ANN }),
      )
      .observed(record(ANN, { email: ANN }, ['B']));
    const first = g.decisions();
    expect(first).toHaveLength(2);
    expect(g.decisions()).toStrictEqual(first);
  });

  it('given a scenario the codec rejects (key field not in the mapping), when run, then the helper says why', () => {
    const bad = destination({ mode: 'sync', keyField: 'id' });
    expect(() => given(bad).decisions()).toThrow(/keyField/);
  });
});

describe('keys compare as strings', () => {
  it('given a numeric key the destination reads back as text, when we decide again, then nothing differs', () => {
    const d = destination({
      mode: 'sync',
      mapping: { id: 'customerNo', first_name: 'firstName' },
      keyField: 'id',
    });
    const verdicts = given(d)
      .events(created('p1', { customerNo: 100, firstName: 'Ann' }))
      .observed(record('100', { id: '100', first_name: 'Ann' }))
      .verdicts();
    expect(verdicts).toStrictEqual([{ profileId: 'p1', operation: 'nothing', reason: 'in-sync' }]);
  });
});

describe('the change an update makes (diffRecord)', () => {
  it('given wanted fields in any order, then the fields to set are listed by name, and unset fields and groups sorted', () => {
    const d = destination({ mode: 'sync' });
    const held = record(ANN, { email: ANN, tier: 'old', code: 'x' }, ['VIP']);
    const change = diffRecord(d, { ltv: 5, first_name: 'Ann', email: ANN }, ['Newsletter'], held, {
      profileId: 'p1',
      key: ANN,
      fields: { tier: null, code: null },
      groups: [],
    });
    expect(Object.keys(change.fields.set)).toStrictEqual(['first_name', 'ltv']);
    expect(change).toStrictEqual({
      fields: { set: { first_name: 'Ann', ltv: 5 }, unset: ['code', 'tier'] },
      groups: { add: ['Newsletter'], remove: ['VIP'] },
    });
  });
});
