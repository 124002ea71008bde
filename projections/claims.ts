// The key index of one destination, kept up to date in place: which in-scope profiles claim which key,
// so decide() can settle two profiles wanting one record and keep a rename from taking another's key.
import { claimedKeyOf } from '../domain/decide.js';
import type { DestinationConfig } from '../domain/destination.js';
import { compareStrings, putNamed } from '../domain/values.js';
import { hold, holdersOf, letGo, type Holders } from './holders.js';
import { profileOf, type World } from './world.js';

export type Claims = {
  readonly destination: DestinationConfig;
  /**
   * key → its claimant, or a Set when several claim it (rare; a Set per key would cost too much).
   * No profile → key map is kept: a profile's key is recomputed from the world when needed, which
   * saves a map entry per profile per destination.
   */
  readonly byKey: Holders;
};

export const emptyClaims = (destination: DestinationConfig, byKey: Holders = new Map()): Claims => ({
  destination,
  byKey,
});

/** The key a profile claims in the world as it is: its desired key while in scope, else none. */
export const claimedKey = (c: Claims, w: World, profileId: string): string | undefined =>
  claimedKeyOf(c.destination, profileOf(w, profileId));

const release = (c: Claims, profileId: string, key: string): void => letGo(c.byKey, key, profileId);
const take = (c: Claims, profileId: string, key: string): void => hold(c.byKey, key, profileId);

/**
 * Moves a profile's claim from `before` (its key before the event was folded: take it with
 * claimedKey first) to the key it claims now. O(1); returns the key it claims now.
 */
export const updateClaim = (
  c: Claims,
  w: World,
  profileId: string,
  before: string | undefined,
): string | undefined => {
  const after = claimedKey(c, w, profileId);
  if (before === after) return after;
  if (before !== undefined) release(c, profileId, before);
  if (after !== undefined) take(c, profileId, after);
  return after;
};

/**
 * Every profile's claim: used after a configuration change, and by simulate. Kept in `byKey`, emptied
 * first, when given (the engine's state keeps each destination's claims in a table of its own).
 */
export const buildClaims = (destination: DestinationConfig, w: World, byKey: Holders = new Map()): Claims => {
  byKey.clear();
  const c = emptyClaims(destination, byKey);
  for (const id of w.profiles.keys()) {
    const key = claimedKey(c, w, id);
    if (key !== undefined) take(c, id, key);
  }
  return c;
};

/** Every in-scope profile that claims `key`. */
export const claimantsOf = (c: Claims, key: string): Iterable<string> => holdersOf(c.byKey, key);

/** The smallest in-scope profile id other than `profileId` that claims `key`. */
export const otherClaimant = (c: Claims, key: string, profileId: string): string | undefined => {
  const holders = c.byKey.get(key);
  // The common cases without iterating: asked once per key of every profile in every batch.
  if (holders === undefined || holders === profileId) return undefined;
  if (typeof holders === 'string') return holders;
  let best: string | undefined;
  for (const id of holders) {
    if (id !== profileId && (best === undefined || compareStrings(id, best) < 0)) best = id;
  }
  return best;
};

/** No rival claimant for any key: shared, frozen. */
export const NO_CLAIMS: Readonly<Record<string, string>> = Object.freeze({});

/** The claims decide() needs for these keys, as a plain record that can be stored with a decision. */
export const claimsFor = (
  c: Claims,
  keys: readonly (string | undefined)[],
  profileId: string,
): Readonly<Record<string, string>> => {
  let out: Record<string, string> | undefined;
  for (const key of keys) {
    if (key === undefined) continue;
    const other = otherClaimant(c, key, profileId);
    if (other !== undefined) putNamed((out ??= {}), key, other);
  }
  // Almost every profile has no rival claimant: they share one empty record instead of one each.
  return out ?? NO_CLAIMS;
};
