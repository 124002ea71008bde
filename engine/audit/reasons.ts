// Why a verdict was reached, as one line a person can read: the scope of the profile, the mode's
// rules, and what the destination held. explain prints these beside every decision and for --at.
import type { Decision, LedgerEntry, ObservedRecord, Verdict } from '../../domain/decision.js';
import { inScope, reasonOf } from '../../domain/decide.js';
import type { DestinationConfig } from '../../domain/destination.js';
import type { SyncModeName } from '../../domain/modes.js';
import { keyOf } from '../../domain/values.js';
import { profileOf, type World } from '../../projections/world.js';

/** What a decision was made from, with the profile's world so scope can be told in words. */
export type ReasonContext = {
  readonly destination: DestinationConfig;
  readonly mode: SyncModeName;
  readonly profileId: string;
  /** the profile's own events and its groups' lifecycle, folded up to the decision */
  readonly world: World;
  /** groups the profile had joined at some point up to the decision */
  readonly everJoined: ReadonlySet<string>;
  /** the desired key, when in scope and it has one */
  readonly key: string | undefined;
  readonly ledger: LedgerEntry | null;
  readonly observed: readonly ObservedRecord[];
  readonly claims: Readonly<Record<string, string>>;
};

/** Why the profile is in the destination's collection or not, e.g. `member of vip`. */
export const scopeWords = (c: ReasonContext): string => {
  const p = c.world.profiles.get(c.profileId);
  if (p === undefined) return 'the profile does not exist';
  if (p.deleted) return 'the profile was deleted';
  const collection = c.destination.collection;
  switch (collection.kind) {
    case 'all':
      return 'every live profile is in the collection';
    case 'none':
      return 'the collection is empty (kind none)';
    case 'group': {
      const g = collection.groupId;
      if (p.groups.includes(g)) return `member of ${g}`;
      if (c.world.groups.get(g)?.deleted === true && c.everJoined.has(g)) return `group ${g} was deleted`;
      return c.everJoined.has(g)
        ? `left the collection (no longer a member of ${g})`
        : `not in the collection (not a member of ${g})`;
    }
  }
};

export const isInScope = (c: ReasonContext): boolean =>
  inScope(c.destination, profileOf(c.world, c.profileId));

const list = (xs: readonly string[]): string => xs.join(', ');

/** `set first_name, ltv; unset x; added to VIP; removed from Newsletter` (the key field left out). */
export const changeWords = (d: Decision, skipField?: string): string =>
  [
    [Object.keys(d.fields.set).filter((f) => f !== skipField), 'set'] as const,
    [d.fields.unset, 'unset'] as const,
    [d.groups.add, 'added to'] as const,
    [d.groups.remove, 'removed from'] as const,
  ]
    .filter(([xs]) => xs.length > 0)
    .map(([xs, verb]) => `${verb} ${list(xs)}`)
    .join('; ');

const claimant = (c: ReasonContext, key: string): string =>
  Object.hasOwn(c.claims, key) ? (c.claims[key] as string) : 'another in-scope profile';

const nothingReason = (c: ReasonContext, v: Extract<Verdict, { operation: 'nothing' }>): string => {
  const out = scopeWords(c);
  const held = c.ledger?.key ?? '';
  switch (v.reason) {
    case 'in-sync':
      return `in sync: record ${c.key ?? held} already holds every mapped field and managed group`;
    case 'never-written':
      return `nothing to do: ${out}, and syncline never wrote this profile here`;
    case 'claimed-by-other':
      return `nothing to do: ${out}, and key ${held} now belongs to ${claimant(c, held)}`;
    case 'record-gone':
      return `nothing to do: ${out}, and the record ${held} syncline wrote is no longer there`;
    case 'no-managed-groups':
      return `nothing to do: ${out}; ${c.mode} mode never deletes and record ${held} has no managed groups left`;
  }
};

const skipReason = (c: ReasonContext, d: Decision): string => {
  const why = reasonOf(d, c);
  switch (why?._tag) {
    case 'NoKey':
      return `skipped: no value for key field ${why.keyField}`;
    case 'CreateNotAllowed':
      return `not created: ${c.mode} mode does not create, and no record with key ${why.key} exists`;
    case 'UpdateNotAllowed':
      return `not updated: ${c.mode} mode does not update, and record ${why.key} differs from the profile`;
    case 'KeyClaimed':
      return `skipped: key ${why.key} is also claimed by ${why.by}`;
    case 'DeleteNotAllowed':
    case undefined:
      return `skipped: ${d.message ?? 'no reason recorded'}`;
  }
};

const updateReason = (c: ReasonContext, d: Decision): string => {
  const key = d.key ?? '';
  if (reasonOf(d, c)?._tag === 'DeleteNotAllowed' || !isInScope(c))
    return (
      `removed from groups ${list(d.groups.remove)}: ${scopeWords(c)}, and ${c.mode} mode never deletes; ` +
      'the record is left in place'
    );
  const keyField = c.destination.keyField;
  const newKey = Object.hasOwn(d.fields.set, keyField) ? keyOf(d.fields.set[keyField]) : undefined;
  if (newKey !== undefined && newKey !== key) {
    const also = changeWords(d, keyField);
    return `renamed ${key} → ${newKey}${also === '' ? '' : ` (and ${also})`}`;
  }
  return `updated ${key}: ${changeWords(d)}`;
};

/** The one-line reason for a verdict made in context `c`. */
export const reasonFor = (c: ReasonContext, v: Verdict): string => {
  switch (v.operation) {
    case 'nothing':
      return nothingReason(c, v);
    case 'create':
      return `created: in scope (${scopeWords(c)}) and no record with key ${v.key ?? ''} existed`;
    case 'delete':
      return `deleted: ${scopeWords(c)} and ${c.mode} mode removes profiles`;
    case 'update':
      return updateReason(c, v);
    case 'skip':
      return skipReason(c, v);
  }
};
