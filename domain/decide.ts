// decide(): the decision table (docs/architecture.md, "The decision") as one pure, total function from a
// DecisionInput to a Verdict. Scope, desired state and the diff are exported for explain and replay.
import type {
  Decision,
  DecisionInput,
  DecisionReason,
  LedgerEntry,
  Nothing,
  NothingReason,
  ObservedRecord,
  Profile,
  Verdict,
} from './decision.js';
import { reasonLevel, reasonMessage } from './decision.js';
import { managedGroupNames, mappedFields, type DestinationConfig } from './destination.js';
import { allows } from './modes.js';
import { compareStrings, keyOf, putNamed, valueEquals, type Properties, type Value } from './values.js';

/** Distinct and sorted; most lists here hold one name or none, which need neither a Set nor a sort. */
const sorted = (xs: readonly string[]): string[] =>
  xs.length < 2 ? [...xs] : [...new Set(xs)].sort(compareStrings);

/** In scope: a live profile that the destination's collection includes (groups are live groups). */
export const inScope = (d: DestinationConfig, profile: Profile | null): profile is Profile => {
  if (profile === null) return false;
  switch (d.collection.kind) {
    case 'all':
      return true;
    case 'none':
      return false;
    case 'group':
      return profile.groups.includes(d.collection.groupId);
  }
};

/** Each mapped field whose property the profile has, in field order; null stays null. */
export const desiredFields = (d: DestinationConfig, profile: Profile): Properties => {
  const out: Properties = {};
  for (const field of mappedFields(d)) {
    const property = d.mapping[field] as string;
    if (Object.hasOwn(profile.properties, property))
      putNamed(out, field, profile.properties[property] as Value);
  }
  return out;
};

export const desiredKey = (d: DestinationConfig, fields: Properties): string | undefined =>
  keyOf(fields[d.keyField]);

/**
 * The key a profile claims at the destination: its desired key while in scope, else none. The same
 * as desiredKey of desiredFields, read straight from the key field's property: every catch-up and
 * every batch asks it once per profile, and building the whole desired record for one value costs.
 */
export const claimedKeyOf = (d: DestinationConfig, profile: Profile | null): string | undefined =>
  inScope(d, profile) ? keyOfProfile(d, profile) : undefined;

/** The key a profile's properties give at the destination, in scope or not. */
export const keyOfProfile = (d: DestinationConfig, profile: Profile): string | undefined => {
  const property = d.mapping[d.keyField] as string;
  return Object.hasOwn(profile.properties, property) ? keyOf(profile.properties[property]) : undefined;
};

/** The record's key once the decision is applied: a rename sets the key field, all else keeps the key. */
export const keyAfter = (keyField: string, d: Decision): string | undefined =>
  d.operation === 'update' ? (keyOf(d.fields.set[keyField]) ?? d.key) : d.key;

/** The managed names of the profile's live mapped groups, sorted. */
export const desiredGroups = (d: DestinationConfig, profile: Profile): string[] => {
  const mapping = d.groupMapping ?? {};
  const names: string[] = [];
  for (const g of profile.groups) if (Object.hasOwn(mapping, g)) names.push(mapping[g] as string);
  // The list is ours already: one name or none needs no copy.
  return names.length < 2 ? names : sorted(names);
};

type Change = Pick<Decision, 'fields' | 'groups'>;

/**
 * What an update must change on `record` so it holds `fields` and exactly the desired managed groups;
 * fields syncline wrote earlier (the ledger) and no longer wants are unset if the record still has them.
 */
export const diffRecord = (
  d: DestinationConfig,
  fields: Properties,
  groups: readonly string[],
  record: ObservedRecord,
  ledger: LedgerEntry | null,
): Change => {
  const set: Properties = {};
  for (const field of Object.keys(fields)) {
    const want = fields[field] as Value;
    const has = Object.hasOwn(record.fields, field);
    // Keys identify records as strings (a TEXT key column reads 100 back as "100"), and a
    // destination may return its key only as the record's key, not among the fields.
    const same =
      field === d.keyField
        ? keyOf(want) === (has ? keyOf(record.fields[field]) : record.key)
        : has && valueEquals(want, record.fields[field]);
    if (!same) putNamed(set, field, want);
  }
  const unset = ledger
    ? Object.keys(ledger.fields).filter((f) => {
        // Own fields only: a field named like an Object member (`constructor`) is not inherited.
        const held = Object.hasOwn(record.fields, f) ? record.fields[f] : undefined;
        return !Object.hasOwn(fields, f) && held !== undefined && held !== null;
      })
    : [];
  const managed = managedGroupNames(d);
  const want = new Set(groups);
  const has = new Set(record.groups);
  return {
    fields: { set: sortKeys(set), unset: sorted(unset) },
    groups: {
      add: sorted(groups.filter((g) => !has.has(g))),
      remove: sorted(record.groups.filter((g) => managed.has(g) && !want.has(g))),
    },
  };
};

const sortKeys = (p: Properties): Properties => {
  const out: Properties = {};
  for (const k of Object.keys(p).sort(compareStrings)) putNamed(out, k, p[k] as Value);
  return out;
};

const isEmpty = (c: Change): boolean =>
  Object.keys(c.fields.set).length === 0 &&
  c.fields.unset.length === 0 &&
  c.groups.add.length === 0 &&
  c.groups.remove.length === 0;

const NO_CHANGE: Change = { fields: { set: {}, unset: [] }, groups: { add: [], remove: [] } };

const nothing = (profileId: string, reason: NothingReason): Nothing => ({
  profileId,
  operation: 'nothing',
  reason,
});

/** A skip for `reason`, with its level and words; every skip but a missing key names the key. */
const skip = (profileId: string, reason: DecisionReason): Decision => ({
  profileId,
  operation: 'skip',
  ...(reason._tag === 'NoKey' ? {} : { key: reason.key }),
  ...NO_CHANGE,
  level: reasonLevel(reason),
  message: reasonMessage(reason),
});

const findIn = (observed: readonly ObservedRecord[], key: string): ObservedRecord | undefined => {
  for (const r of observed) if (r.key === key) return r;
  return undefined;
};

/** Whether any key has a rival claimant. Nearly every profile has none, and asking an empty record
 *  about a key costs more than it seems: a property lookup makes V8 intern the key string, a fresh
 *  one for every profile. */
const hasRivals = (claims: Readonly<Record<string, string>>): boolean => {
  for (const _ in claims) return true;
  return false;
};

/** The rival claimant of `key`, if the claims name any (null: they name none). */
const claimantIn = (rivals: Readonly<Record<string, string>> | null, key: string): string | undefined =>
  rivals !== null && Object.hasOwn(rivals, key) ? rivals[key] : undefined;

export const decide = (input: DecisionInput): Verdict => {
  const { destination: d, mode, profileId, profile, ledger, observed, claims } = input;
  // Plain calls rather than closures over the input: decide runs once per profile of every batch.
  const rivals = hasRivals(claims) ? claims : null;

  if (!inScope(d, profile)) {
    if (ledger === null) return nothing(profileId, 'never-written');
    if (claimantIn(rivals, ledger.key) !== undefined) return nothing(profileId, 'claimed-by-other');
    const record = findIn(observed, ledger.key);
    if (record === undefined) return nothing(profileId, 'record-gone');
    if (allows(mode, 'delete')) return { profileId, operation: 'delete', key: ledger.key, ...NO_CHANGE };
    const managed = managedGroupNames(d);
    const remove = sorted(record.groups.filter((g) => managed.has(g)));
    if (remove.length === 0) return nothing(profileId, 'no-managed-groups');
    const kept: DecisionReason = { _tag: 'DeleteNotAllowed', key: ledger.key };
    return {
      profileId,
      operation: 'update',
      key: ledger.key,
      fields: { set: {}, unset: [] },
      groups: { add: [], remove },
      level: reasonLevel(kept),
      message: reasonMessage(kept),
    };
  }

  const fields = desiredFields(d, profile);
  const key = desiredKey(d, fields);
  if (key === undefined) return skip(profileId, { _tag: 'NoKey', keyField: d.keyField });
  const other = claimantIn(rivals, key);
  if (other !== undefined && compareStrings(other, profileId) < 0) {
    return skip(profileId, { _tag: 'KeyClaimed', key, by: other });
  }
  const groups = desiredGroups(d, profile);
  const previousKey = ledger !== null && ledger.key !== key ? ledger.key : undefined;
  const record =
    findIn(observed, key) ??
    (previousKey !== undefined && claimantIn(rivals, previousKey) === undefined
      ? findIn(observed, previousKey)
      : undefined);

  if (record !== undefined) {
    const change = diffRecord(d, fields, groups, record, ledger);
    if (isEmpty(change)) return nothing(profileId, 'in-sync');
    if (!allows(mode, 'update')) return skip(profileId, { _tag: 'UpdateNotAllowed', key: record.key });
    return { profileId, operation: 'update', key: record.key, ...change };
  }
  if (!allows(mode, 'create')) return skip(profileId, { _tag: 'CreateNotAllowed', key });
  return {
    profileId,
    operation: 'create',
    key,
    fields: { set: fields, unset: [] },
    groups: { add: groups, remove: [] },
  };
};

/** Whether `d` strips a record of its managed groups because the mode may not delete it: the one
 *  update that carries a level (and a message). */
export const keptInPlace = (d: Decision): boolean => d.operation === 'update' && d.level !== undefined;

/**
 * Why decide() gave `d` (a decision carrying a message), from the decision and the inputs it was made
 * from, the way decide() tells the rows apart: a skip without a key had none; a skip at level error
 * lost its key to the claimant the claims name; a skip of a key the destination held was an update
 * the mode forbids, of a key it did not hold a create; an update at level info (no other update
 * carries a level) strips a record the mode may not delete. Undefined for a decision that carries
 * no message, or whose inputs do not give it (claims that do not name the key's claimant).
 */
export const reasonOf = (
  d: Decision,
  inputs: {
    readonly destination: DestinationConfig;
    readonly observed: readonly ObservedRecord[];
    readonly claims: Readonly<Record<string, string>>;
  },
): DecisionReason | undefined => {
  if (d.operation === 'update')
    return keptInPlace(d) && d.key !== undefined ? { _tag: 'DeleteNotAllowed', key: d.key } : undefined;
  if (d.operation !== 'skip') return undefined;
  const key = d.key;
  if (key === undefined) return { _tag: 'NoKey', keyField: inputs.destination.keyField };
  if (d.level === 'error') {
    const by = Object.hasOwn(inputs.claims, key) ? inputs.claims[key] : undefined;
    return by === undefined ? undefined : { _tag: 'KeyClaimed', key, by };
  }
  return findIn(inputs.observed, key) !== undefined
    ? { _tag: 'UpdateNotAllowed', key }
    : { _tag: 'CreateNotAllowed', key };
};
