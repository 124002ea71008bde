// Laws of decide() over random destinations, worlds, records and ledgers (fast-check): convergence,
// what each mode may do, managed groups only, never touching unwritten records, order, replay.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Decision, LedgerEntry, ObservedRecord } from '../domain/decision.js';
import type { DestinationConfig } from '../domain/destination.js';
import type { InputEvent } from '../domain/events.js';
import type { SyncModeName } from '../domain/modes.js';
import type { Scenario } from '../domain/scenario.js';
import { compareStrings, type Properties, type Value } from '../domain/values.js';
import { claimedKeyOf, desiredFields, desiredKey, inScope } from '../domain/decide.js';
import { simulate } from '../engine/audit/simulate.js';
import {
  changed,
  created,
  deleted,
  destination,
  groupCreated,
  groupDeleted,
  joined,
  left,
} from './support/given.js';
import { applyDecisions, ledgerOf, modelOf, observedOf } from './support/modelDestination.js';

const NUM_RUNS = 500;

// Small pools, so that keys collide, ledgers point at records, and groups overlap.
const PROFILES = ['p1', 'p2', 'p3', 'p4'];
const GROUP_IDS = ['g1', 'g2', 'g3'];
const KEYS = ['a@x.io', 'b@x.io', 'c@x.io', '100'];
const MANAGED_NAMES = ['A', 'B', 'C'];
const UNMANAGED_TAGS = ['Customer', 'Legacy'];
const PROPERTIES = ['email', 'altEmail', 'name', 'ltv', 'tier'];

const value: fc.Arbitrary<Value> = fc.oneof(
  fc.constantFrom('x', 'y', '100', 'true', ''),
  fc.constantFrom(100, 0, 1.5),
  fc.boolean(),
  fc.constant(null),
  fc.constantFrom<Value>(['x'], ['x', 'y'], [100]),
);

/** Key properties come mostly from the key pool, sometimes unusable or of another type. */
const keyValue: fc.Arbitrary<Value> = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...KEYS) },
  { weight: 1, arbitrary: fc.constantFrom<Value>(null, '', 100, 'd@x.io') },
);

const propertiesArb: fc.Arbitrary<Properties> = fc.record(
  { email: keyValue, altEmail: keyValue, name: value, ltv: value, tier: value },
  { requiredKeys: [] },
);

const fieldsArb: fc.Arbitrary<Properties> = fc.record(
  { email: keyValue, name: value, ltv: value, tier: value, score: value },
  { requiredKeys: [] },
);

const destinationArb: fc.Arbitrary<DestinationConfig> = fc
  .record({
    mode: fc.constantFrom<SyncModeName>('sync', 'additive', 'enrich'),
    collection: fc.oneof(
      { weight: 2, arbitrary: fc.constant<DestinationConfig['collection']>({ kind: 'all' }) },
      {
        weight: 2,
        arbitrary: fc
          .constantFrom(...GROUP_IDS)
          .map((groupId): DestinationConfig['collection'] => ({ kind: 'group', groupId })),
      },
      { weight: 1, arbitrary: fc.constant<DestinationConfig['collection']>({ kind: 'none' }) },
    ),
    keyProperty: fc.constantFrom('email', 'altEmail'),
    otherFields: fc.subarray(['name', 'ltv', 'tier', 'score']),
    managed: fc.subarray(GROUP_IDS),
    names: fc.array(fc.constantFrom(...MANAGED_NAMES), { minLength: 3, maxLength: 3 }),
  })
  .map(({ mode, collection, keyProperty, otherFields, managed, names }) => {
    // score reads the same property as ltv: two fields may map one property.
    const mapping: Record<string, string> = { email: keyProperty };
    for (const f of otherFields) mapping[f] = f === 'score' ? 'ltv' : f;
    const groupMapping: Record<string, string> = {};
    managed.forEach((g, i) => (groupMapping[g] = names[i] as string));
    return destination({ mode, collection, mapping, groupMapping });
  });

/** One profile's own events, in its own order; joins and leaves are this profile's only. */
const profileBlock = (profileId: string): fc.Arbitrary<InputEvent[]> =>
  fc
    .tuple(
      // Mostly created first; sometimes only events for a profile that does not exist (yet).
      fc.oneof({ weight: 4, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
      propertiesArb,
      fc.array(
        fc.oneof(
          {
            weight: 2,
            arbitrary: fc
              .record({ set: propertiesArb, unset: fc.subarray(PROPERTIES) })
              .map(({ set, unset }) => changed(profileId, set, unset)),
          },
          { weight: 4, arbitrary: fc.constantFrom(...GROUP_IDS).map((g) => joined(profileId, g)) },
          { weight: 1, arbitrary: fc.constantFrom(...GROUP_IDS).map((g) => left(profileId, g)) },
          { weight: 1, arbitrary: fc.constant(deleted(profileId)) },
          { weight: 1, arbitrary: propertiesArb.map((p) => created(profileId, p)) },
        ),
        { maxLength: 5 },
      ),
    )
    .map(([exists, properties, rest]) =>
      exists || rest.length === 0 ? [created(profileId, properties), ...rest] : rest,
    );

/** A world in three parts: groups created, independent profile blocks, groups deleted at the end. */
type World = { before: InputEvent[]; blocks: InputEvent[][]; after: InputEvent[] };

const worldArb: fc.Arbitrary<World> = fc
  .record({
    groups: fc.oneof(
      { weight: 3, arbitrary: fc.constant<string[]>(GROUP_IDS) },
      { weight: 1, arbitrary: fc.subarray(GROUP_IDS) },
    ),
    profiles: fc.subarray(PROFILES, { minLength: 1 }),
    deletedGroups: fc.oneof(
      { weight: 3, arbitrary: fc.constant<string[]>([]) },
      { weight: 1, arbitrary: fc.subarray(GROUP_IDS) },
    ),
  })
  .chain(({ groups, profiles, deletedGroups }) =>
    fc.tuple(...profiles.map(profileBlock)).map((blocks) => ({
      before: groups.map((g) => groupCreated(g)),
      blocks,
      after: deletedGroups.map((g) => groupDeleted(g)),
    })),
  );

const eventsOf = (w: World): InputEvent[] => [...w.before, ...w.blocks.flat(), ...w.after];

const groupsArb = fc.subarray([...MANAGED_NAMES, ...UNMANAGED_TAGS]);

const observedArb: fc.Arbitrary<ObservedRecord[]> = fc.uniqueArray(
  fc.record({ key: fc.constantFrom(...KEYS), fields: fieldsArb, groups: groupsArb }),
  { selector: (r) => r.key, maxLength: 4 },
);

/**
 * What syncline last wrote, at most one entry per key. Two entries under one key (reachable when an
 * in-scope profile takes over an out-of-scope profile's record, then renames it) let one profile's
 * rename and the other's delete (or group removal) address the same record in one batch, and
 * convergence then takes two syncs: the decision table (docs/architecture.md, "The decision") does not say
 * which decision owns that record.
 */
const ledgerArb: fc.Arbitrary<LedgerEntry[]> = fc
  .uniqueArray(
    fc.record({
      profileId: fc.constantFrom(...PROFILES),
      key: fc.constantFrom(...KEYS),
      fields: fieldsArb,
      groups: fc.subarray(MANAGED_NAMES),
    }),
    { selector: (l) => l.profileId, maxLength: 4 },
  )
  .map((entries) => entries.filter((l, i) => entries.findIndex((m) => m.key === l.key) === i));

type Case = {
  scenario: Scenario;
  world: World;
  mode: SyncModeName;
  observed: ObservedRecord[];
  ledger: LedgerEntry[];
};

const caseArb: fc.Arbitrary<Case> = fc
  .record({ destination: destinationArb, world: worldArb, observed: observedArb, ledger: ledgerArb })
  .map(({ destination: d, world, observed, ledger }) => ({
    scenario: { destination: d, events: eventsOf(world), observed, ledger },
    world,
    mode: d.syncMode ?? 'sync',
    observed,
    ledger,
  }));

const decide = (c: Case): Decision[] => simulate(c.scenario, c.mode);

const isWrite = (d: Decision): boolean => d.operation !== 'skip';

const isSorted = (xs: readonly string[]): boolean =>
  xs.every((x, i) => i === 0 || compareStrings(xs[i - 1] as string, x) < 0);

/**
 * Who is in scope, folded independently of projections/world.ts from the rules of "Input events"
 * (docs/architecture.md): live profiles, live groups, and memberships that end when either side is
 * deleted.
 */
const inScopeByReference = (d: DestinationConfig, events: readonly InputEvent[]): Set<string> => {
  const profiles = new Set<string>();
  const groups = new Set<string>();
  const members = new Set<string>();
  const member = (p: string, g: string) => `${p}\u0000${g}`;
  for (const e of events) {
    switch (e.type) {
      case 'ProfileCreated':
        profiles.add(e.data.profileId);
        break;
      case 'ProfileDeleted':
        profiles.delete(e.data.profileId);
        for (const g of GROUP_IDS) members.delete(member(e.data.profileId, g));
        break;
      case 'GroupCreated':
        groups.add(e.data.groupId);
        break;
      case 'GroupDeleted':
        groups.delete(e.data.groupId);
        for (const p of PROFILES) members.delete(member(p, e.data.groupId));
        break;
      case 'ProfileJoinedGroup':
        if (profiles.has(e.data.profileId) && groups.has(e.data.groupId))
          members.add(member(e.data.profileId, e.data.groupId));
        break;
      case 'ProfileLeftGroup':
        members.delete(member(e.data.profileId, e.data.groupId));
        break;
      default:
        break;
    }
  }
  const c = d.collection;
  return new Set(
    [...profiles].filter(
      (p) => c.kind === 'all' || (c.kind === 'group' && members.has(member(p, c.groupId))),
    ),
  );
};

describe('laws of decide() over random destinations, worlds, records and ledgers', () => {
  it('(a) given the decisions were applied to the destination and the ledger, when deciding again, then nothing is left to write', () => {
    fc.assert(
      fc.property(caseArb, (c) => {
        const first = decide(c);
        const { scenario } = c;
        const model = applyDecisions(scenario.destination, modelOf(c.observed, c.ledger), first);
        const second = simulate(
          { ...scenario, observed: observedOf(model), ledger: ledgerOf(model) },
          c.mode,
        );
        expect(second.filter(isWrite)).toStrictEqual([]);
        expect(second).toStrictEqual(first.filter((d) => !isWrite(d)));
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('(b) given any input, when deciding, then no mode yields an operation it forbids', () => {
    const allowed: Record<SyncModeName, readonly string[]> = {
      sync: ['create', 'update', 'delete', 'skip'],
      additive: ['create', 'update', 'skip'],
      enrich: ['update', 'skip'],
    };
    fc.assert(
      fc.property(caseArb, (c) => {
        for (const d of decide(c)) expect(allowed[c.mode]).toContain(d.operation);
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('(c) given any input, when deciding, then only managed group names are ever added or removed', () => {
    fc.assert(
      fc.property(caseArb, (c) => {
        const managed = Object.values(c.scenario.destination.groupMapping ?? {});
        for (const d of decide(c)) {
          for (const g of [...d.groups.add, ...d.groups.remove]) expect(managed).toContain(g);
        }
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('(d) given a profile out of scope with no ledger entry, when deciding, then there is no decision for it at all', () => {
    fc.assert(
      fc.property(caseArb, (c) => {
        const inScope = inScopeByReference(c.scenario.destination, c.scenario.events);
        const written = new Set(c.ledger.map((l) => l.profileId));
        for (const d of decide(c)) {
          if (!inScope.has(d.profileId)) {
            expect(written.has(d.profileId), `${d.profileId} is out of scope and was never written`).toBe(
              true,
            );
            expect(['delete', 'update']).toContain(d.operation);
            expect(d.fields).toStrictEqual({ set: {}, unset: [] });
            expect(d.groups.add).toStrictEqual([]);
          }
          // Whatever the scope: only what syncline wrote is ever deleted or unset.
          if (d.operation === 'delete' || d.fields.unset.length > 0)
            expect(written.has(d.profileId)).toBe(true);
        }
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('(e) given the profiles’ event sequences in another order, when deciding, then the decisions are identical', () => {
    const shuffled = caseArb.chain((c) =>
      fc
        .shuffledSubarray(c.world.blocks, {
          minLength: c.world.blocks.length,
          maxLength: c.world.blocks.length,
        })
        .map((blocks) => ({ c, other: { ...c.world, blocks } })),
    );
    fc.assert(
      fc.property(shuffled, ({ c, other }) => {
        const reordered: Case = { ...c, scenario: { ...c.scenario, events: eventsOf(other) }, world: other };
        expect(decide(reordered)).toStrictEqual(decide(c));
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('(f) given the same input, when deciding twice, then the results are equal, with sorted arrays and set keys', () => {
    fc.assert(
      fc.property(caseArb, (c) => {
        const first = decide(c);
        expect(decide(c)).toStrictEqual(first);
        expect(isSorted(first.map((d) => d.profileId))).toBe(true);
        for (const d of first) {
          expect(isSorted(Object.keys(d.fields.set))).toBe(true);
          expect(isSorted(d.fields.unset)).toBe(true);
          expect(isSorted(d.groups.add)).toBe(true);
          expect(isSorted(d.groups.remove)).toBe(true);
          if (d.operation === 'skip') {
            expect(d.fields).toStrictEqual({ set: {}, unset: [] });
            expect(d.groups).toStrictEqual({ add: [], remove: [] });
          }
        }
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('(g) given any destination and profile, the key it claims is the desired key of its desired record while in scope, and none outside', () => {
    fc.assert(
      fc.property(
        destinationArb,
        propertiesArb,
        fc.subarray(GROUP_IDS),
        fc.boolean(),
        (d, properties, groups, live) => {
          const profile = live ? { properties, groups } : null;
          expect(claimedKeyOf(d, profile)).toBe(
            inScope(d, profile) ? desiredKey(d, desiredFields(d, profile)) : undefined,
          );
        },
      ),
      { numRuns: NUM_RUNS },
    );
  });
});
