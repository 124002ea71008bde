// A model destination and ledger for property tests: applies decisions as a destination and a
// successful sync would, so a second decide() on the result can be checked for convergence.
import type { Decision, LedgerEntry, ObservedRecord } from '../../domain/decision.js';
import type { DestinationConfig } from '../../domain/destination.js';
import { compareStrings, keyOf, type Properties } from '../../domain/values.js';

export type ModelRecord = { fields: Properties; groups: string[] };
export type Model = { records: Map<string, ModelRecord>; ledger: Map<string, LedgerEntry> };

export const modelOf = (observed: readonly ObservedRecord[], ledger: readonly LedgerEntry[]): Model => ({
  records: new Map(observed.map((r) => [r.key, { fields: { ...r.fields }, groups: [...r.groups] }])),
  ledger: new Map(ledger.map((l) => [l.profileId, { ...l, fields: { ...l.fields }, groups: [...l.groups] }])),
});

export const observedOf = (m: Model): ObservedRecord[] =>
  [...m.records].map(([key, r]) => ({ key, fields: r.fields, groups: r.groups }));

export const ledgerOf = (m: Model): LedgerEntry[] => [...m.ledger.values()];

const sortedSet = (xs: Iterable<string>): string[] => [...new Set(xs)].sort(compareStrings);

const withFields = (fields: Properties, set: Properties, unset: readonly string[]): Properties => {
  const out = { ...fields, ...set };
  for (const f of unset) delete out[f];
  return out;
};

const withGroups = (groups: readonly string[], add: readonly string[], remove: readonly string[]): string[] =>
  sortedSet([...groups, ...add].filter((g) => !remove.includes(g)));

/**
 * Applies one decision. A command the destination would refuse (update of a missing record, create
 * over an existing key, rename onto a taken key) fails: neither the records nor the ledger change.
 * Deleting a missing record succeeds (deletes are idempotent) and ends the ledger entry.
 */
const applyOne = (d: DestinationConfig, m: Model, decision: Decision): void => {
  const { profileId, key } = decision;
  if (decision.operation === 'skip' || key === undefined) return;
  const { set, unset } = decision.fields;
  const { add, remove } = decision.groups;
  switch (decision.operation) {
    case 'create': {
      if (m.records.has(key)) return;
      m.records.set(key, { fields: { ...set }, groups: sortedSet(add) });
      m.ledger.set(profileId, { profileId, key, fields: { ...set }, groups: sortedSet(add) });
      return;
    }
    case 'update': {
      const current = m.records.get(key);
      if (current === undefined) return;
      // A rename: setting the key field moves the record to its new key, with all its tags.
      const newKey = Object.hasOwn(set, d.keyField) ? (keyOf(set[d.keyField]) ?? key) : key;
      if (newKey !== key && m.records.has(newKey)) return;
      m.records.delete(key);
      m.records.set(newKey, {
        fields: withFields(current.fields, set, unset),
        groups: withGroups(current.groups, add, remove),
      });
      const before = m.ledger.get(profileId) ?? { profileId, key, fields: {}, groups: [] };
      m.ledger.set(profileId, {
        profileId,
        key: newKey,
        fields: withFields(before.fields, set, unset),
        groups: withGroups(before.groups, add, remove),
      });
      return;
    }
    case 'delete': {
      m.records.delete(key);
      m.ledger.delete(profileId);
      return;
    }
  }
};

/** Applies the decisions in the order given (simulate's order: by profile id); returns a new model. */
export const applyDecisions = (d: DestinationConfig, m: Model, decisions: readonly Decision[]): Model => {
  const next = modelOf(observedOf(m), ledgerOf(m));
  for (const decision of decisions) applyOne(d, next, decision);
  return next;
};
