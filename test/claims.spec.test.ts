// The key index specified by example: which in-scope profiles claim which key as profiles come, change
// key, leave the collection and go, and which rival claimant decide() is told about.
import { describe, expect, it } from 'vitest';
import type { InputEvent } from '../domain/events.js';
import {
  NO_CLAIMS,
  buildClaims,
  claimantsOf,
  claimedKey,
  claimsFor,
  emptyClaims,
  otherClaimant,
  updateClaim,
  type Claims,
} from '../projections/claims.js';
import { foldWorld, initialWorld, type World } from '../projections/world.js';
import {
  changed,
  created,
  deleted,
  destination,
  groupCreated,
  inGroup,
  joined,
  left,
} from './support/given.js';

const crm = destination({ mode: 'sync', collection: inGroup('vip') });

/** The world and claims after the events, each folded as the engine does: key before, fold, update. */
const after = (...events: InputEvent[]): { world: World; claims: Claims } => {
  const world = initialWorld();
  const claims = emptyClaims(crm);
  for (const e of events) {
    const pid = 'profileId' in e.data ? e.data.profileId : undefined;
    const before = pid === undefined ? undefined : claimedKey(claims, world, pid);
    foldWorld(world, e);
    if (pid !== undefined) updateClaim(claims, world, pid, before);
  }
  return { world, claims };
};

const vip = (id: string, email: string): InputEvent[] => [created(id, { email }), joined(id, 'vip')];

/** Every key with its claimants, in the order they came. */
const index = (c: Claims) => Object.fromEntries([...c.byKey.keys()].map((k) => [k, [...claimantsOf(c, k)]]));

describe('a three-way key clash, created in unsorted order', () => {
  const clash = [groupCreated('vip'), ...vip('p3', 'a@x.io'), ...vip('p1', 'a@x.io'), ...vip('p2', 'a@x.io')];

  it('given p3, p1 and p2 claiming one key, then all three claim it, in the order they came', () => {
    expect(index(after(...clash).claims)).toStrictEqual({ 'a@x.io': ['p3', 'p1', 'p2'] });
  });

  it('then each is told of the smallest other claimant: p1 of p2, p2 and p3 of p1', () => {
    const { claims } = after(...clash);
    expect(['p1', 'p2', 'p3'].map((p) => otherClaimant(claims, 'a@x.io', p))).toStrictEqual([
      'p2',
      'p1',
      'p1',
    ]);
    expect(claimsFor(claims, ['a@x.io', undefined, 'b@x.io'], 'p3')).toStrictEqual({ 'a@x.io': 'p1' });
  });

  it('when p1 changes key, then p2 and p3 are left to settle it between them and p1 claims its new key alone', () => {
    const { claims } = after(...clash, changed('p1', { email: 'b@x.io' }));
    expect(index(claims)).toStrictEqual({ 'a@x.io': ['p3', 'p2'], 'b@x.io': ['p1'] });
    expect(otherClaimant(claims, 'a@x.io', 'p3')).toBe('p2');
    expect(claimsFor(claims, ['b@x.io'], 'p1')).toBe(NO_CLAIMS);
  });

  it('when p1 leaves the collection and p3 is deleted, then p2 claims the key alone and is told of no rival', () => {
    const { claims } = after(...clash, left('p1', 'vip'), deleted('p3'));
    expect(index(claims)).toStrictEqual({ 'a@x.io': ['p2'] });
    expect(otherClaimant(claims, 'a@x.io', 'p2')).toBeUndefined();
    expect(otherClaimant(claims, 'a@x.io', 'p9')).toBe('p2');
    expect(claimsFor(claims, ['a@x.io'], 'p2')).toBe(NO_CLAIMS);
  });

  it('when p3 changes something other than its key, then its claim stays where it was among the three', () => {
    const { claims } = after(...clash, changed('p3', { firstName: 'Cy' }));
    expect(index(claims)).toStrictEqual({ 'a@x.io': ['p3', 'p1', 'p2'] });
  });

  it('when all three go, then the key is forgotten', () => {
    const { claims } = after(...clash, deleted('p2'), deleted('p1'), left('p3', 'vip'));
    expect(index(claims)).toStrictEqual({});
  });

  it('given the same world, then building the claims at once gives the same claimants', () => {
    const { world, claims } = after(...clash);
    const built = buildClaims(crm, world);
    expect(index(built)).toStrictEqual(index(claims));
    expect(otherClaimant(built, 'a@x.io', 'p3')).toBe('p1');
  });
});

describe('one profile’s claim', () => {
  it('given a profile out of scope or without a key, then it claims nothing', () => {
    const { world, claims } = after(
      groupCreated('vip'),
      created('p1', { email: 'a@x.io' }),
      ...vip('p2', ''),
    );
    expect(claimedKey(claims, world, 'p1')).toBeUndefined();
    expect(claimedKey(claims, world, 'p2')).toBeUndefined();
    expect(claimedKey(claims, world, 'p9')).toBeUndefined();
    expect(index(claims)).toStrictEqual({});
    expect(index(buildClaims(crm, world))).toStrictEqual({});
  });

  it('given a claim, when an event leaves the key as it was, then updateClaim keeps it and returns the key', () => {
    const { world, claims } = after(groupCreated('vip'), ...vip('p1', 'a@x.io'));
    foldWorld(world, changed('p1', { firstName: 'Ann' }));
    expect(updateClaim(claims, world, 'p1', 'a@x.io')).toBe('a@x.io');
    expect(index(claims)).toStrictEqual({ 'a@x.io': ['p1'] });
  });

  it('given a claim, when the profile leaves the collection, then updateClaim releases it and returns no key', () => {
    const { world, claims } = after(groupCreated('vip'), ...vip('p1', 'a@x.io'));
    foldWorld(world, left('p1', 'vip'));
    expect(updateClaim(claims, world, 'p1', 'a@x.io')).toBeUndefined();
    expect(index(claims)).toStrictEqual({});
  });

  it('given a key nobody claims, then no rival is named and the empty claims are shared', () => {
    const c = emptyClaims(crm);
    expect(otherClaimant(c, 'a@x.io', 'p1')).toBeUndefined();
    expect(claimsFor(c, ['a@x.io'], 'p1')).toBe(NO_CLAIMS);
    expect(NO_CLAIMS).toStrictEqual({});
    expect(Object.isFrozen(NO_CLAIMS)).toBe(true);
  });

  it('given two keys with rivals, then claimsFor names the rival of each', () => {
    const { claims } = after(
      groupCreated('vip'),
      ...vip('p1', 'a@x.io'),
      ...vip('p2', 'a@x.io'),
      ...vip('p3', 'c@x.io'),
      ...vip('p4', 'c@x.io'),
    );
    expect(claimsFor(claims, ['a@x.io', 'c@x.io'], 'p1')).toStrictEqual({ 'a@x.io': 'p2', 'c@x.io': 'p3' });
  });
});
