// Adoption: when a decision matches a record to an in-scope profile, the ledger takes that record as
// the profile's, so a record syncline matched is owned alike whether or not a field had to change.
import * as t from 'io-ts';
import { NonEmptyString, struct } from './codec.js';
import { desiredFields, desiredGroups, desiredKey, inScope } from './decide.js';
import type { DecisionInput, ObservedRecord, Verdict } from './decision.js';
import { Id, compareStrings, keyOf, valueEquals, type Value } from './values.js';

/**
 * What a batch records of a record it matched: the record's key and the names of the mapped fields
 * and managed groups it held as the profile wants them, joined to what the ledger already said.
 * The ledger fold makes this the profile's entry (see projections/ledger.ts).
 */
export const Adoption = struct('Adoption', {
  profileId: Id,
  key: NonEmptyString,
  fields: t.array(t.string),
  groups: t.array(t.string),
});
export type Adoption = t.TypeOf<typeof Adoption>;

const findIn = (observed: readonly ObservedRecord[], key: string): ObservedRecord | undefined => {
  for (const r of observed) if (r.key === key) return r;
  return undefined;
};

const union = (a: readonly string[], b: readonly string[]): string[] =>
  [...new Set([...a, ...b])].sort(compareStrings);

const covers = (have: ReadonlySet<string>, want: readonly string[]): boolean =>
  want.every((x) => have.has(x));

/**
 * The adoption a verdict implies, or undefined when the ledger already says all of it.
 *
 * Why: the ledger is what lets syncline delete, rename or strip a record later. A record found
 * already as the profile wants it (after a store lost the commits that recorded its writing, or a
 * record that was there before syncline) would otherwise stay out of the ledger: the profile's
 * deletion would then leave it behind, and a change of key create a second record beside it. A decision that
 * addresses a record (nothing to do, or an update) therefore records it as matched; the fields it
 * already held with the desired values count as written, as they would had syncline written them.
 * An update's own changes are added when its outcome is recorded, as any command's are.
 *
 * `input.ledger` is the entry the verdict was decided from (after settling commands a crash left).
 */
export const adoption = (input: DecisionInput, verdict: Verdict): Adoption | undefined => {
  const { destination: d, profile, ledger, observed } = input;
  const matched =
    (verdict.operation === 'nothing' && verdict.reason === 'in-sync') || verdict.operation === 'update';
  // An update of a profile out of scope only strips groups from a record the ledger holds already.
  if (!matched || !inScope(d, profile)) return undefined;
  const fields = desiredFields(d, profile);
  const key = desiredKey(d, fields);
  if (key === undefined) return undefined;
  // The record decide addressed: an update names it; in sync, it is the one under the desired key
  // (a record found under the old key would have needed a rename, so it is never in sync).
  const record = findIn(observed, verdict.operation === 'update' ? (verdict.key ?? '') : key);
  if (record === undefined) return undefined;
  const held: string[] = [];
  for (const field of Object.keys(fields)) {
    const want = fields[field] as Value;
    const has = Object.hasOwn(record.fields, field);
    const same =
      field === d.keyField
        ? keyOf(want) === (has ? keyOf(record.fields[field]) : record.key)
        : has && valueEquals(want, record.fields[field]);
    if (same) held.push(field);
  }
  const recordGroups = new Set(record.groups);
  const heldGroups = desiredGroups(d, profile).filter((g) => recordGroups.has(g));
  if (
    ledger !== null &&
    ledger.key === record.key &&
    covers(new Set(Object.keys(ledger.fields)), held) &&
    covers(new Set(ledger.groups), heldGroups)
  )
    return undefined;
  return {
    profileId: input.profileId,
    key: record.key,
    fields: union(ledger === null ? [] : Object.keys(ledger.fields), held),
    groups: union(ledger?.groups ?? [], heldGroups),
  };
};
