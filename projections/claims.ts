// The key index of one destination: which in-scope profiles claim which key. decide() needs it to
// settle two profiles wanting one record, and to keep a rename from taking another profile's key.
import { desiredFields, desiredKey, inScope } from '../domain/decide.js';
import type { Destination } from '../domain/destination.js';
import { compareStrings } from '../domain/values.js';
import { profileSnapshot, type World } from './world.js';

export type Claims = {
  readonly destination: Destination;
  /** key → its claimant, or a Set when several claim it (rare; a Set per key would cost too much) */
  readonly byKey: Map<string, string | Set<string>>;
  readonly keyOf: Map<string, string>;
};

export const emptyClaims = (destination: Destination): Claims => ({
  destination,
  byKey: new Map(),
  keyOf: new Map(),
});

/** Re-reads one profile's scope and key from the world: O(1), call it for each touched profile. */
export const updateClaim = (c: Claims, w: World, profileId: string): Claims => {
  const profile = profileSnapshot(w, profileId);
  const key = inScope(c.destination, profile)
    ? desiredKey(c.destination, desiredFields(c.destination, profile))
    : undefined;
  const before = c.keyOf.get(profileId);
  if (before === key) return c;
  if (before !== undefined) {
    const holders = c.byKey.get(before);
    if (holders === profileId) c.byKey.delete(before);
    else if (holders instanceof Set) {
      holders.delete(profileId);
      if (holders.size === 1) c.byKey.set(before, holders.values().next().value as string);
    }
  }
  if (key === undefined) {
    c.keyOf.delete(profileId);
  } else {
    c.keyOf.set(profileId, key);
    const holders = c.byKey.get(key);
    if (holders === undefined) c.byKey.set(key, profileId);
    else if (holders instanceof Set) holders.add(profileId);
    else if (holders !== profileId) c.byKey.set(key, new Set([holders, profileId]));
  }
  return c;
};

/** Every profile's claim: used after a configuration change, and by simulate. */
export const buildClaims = (destination: Destination, w: World): Claims => {
  const c = emptyClaims(destination);
  for (const id of w.profiles.keys()) updateClaim(c, w, id);
  return c;
};

/** Every in-scope profile that claims `key`. */
export const claimantsOf = (c: Claims, key: string): Iterable<string> => {
  const holders = c.byKey.get(key);
  return holders === undefined ? [] : typeof holders === 'string' ? [holders] : holders;
};

/** The smallest in-scope profile id other than `profileId` that claims `key`. */
export const otherClaimant = (c: Claims, key: string, profileId: string): string | undefined => {
  let best: string | undefined;
  for (const id of claimantsOf(c, key)) {
    if (id !== profileId && (best === undefined || compareStrings(id, best) < 0)) best = id;
  }
  return best;
};

/** The claims decide() needs for these keys, as a plain record that can be stored with a decision. */
export const claimsFor = (
  c: Claims,
  keys: readonly (string | undefined)[],
  profileId: string,
): Record<string, string> => {
  const out: Record<string, string> = {};
  for (const key of keys) {
    if (key === undefined) continue;
    const other = otherClaimant(c, key, profileId);
    if (other !== undefined) out[key] = other;
  }
  return out;
};
