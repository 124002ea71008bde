// What a decision is made from (DecisionInput) and what it is (Decision, or Nothing with a reason).
// Inputs are plain data so every decision can be stored beside them and recomputed on replay.
import * as t from 'io-ts';
import { NonEmptyString, dictionary, oneOf, struct } from './codec.js';
import { DestinationConfig } from './destination.js';
import { SyncModeName } from './modes.js';
import { Id, Properties } from './values.js';

/** A record as the destination holds it, found by looking up a key. */
export const ObservedRecord = struct('ObservedRecord', {
  key: NonEmptyString,
  fields: Properties,
  groups: t.array(t.string),
});
export type ObservedRecord = t.TypeOf<typeof ObservedRecord>;

/** What syncline last successfully wrote for one profile to one destination. */
export const LedgerEntry = struct('LedgerEntry', {
  profileId: Id,
  key: NonEmptyString,
  fields: Properties,
  groups: t.array(t.string),
});
export type LedgerEntry = t.TypeOf<typeof LedgerEntry>;

/** A live profile as folded from events; `groups` are the live groups it is a member of. */
export const Profile = struct('Profile', { properties: Properties, groups: t.array(Id) });
export type Profile = t.TypeOf<typeof Profile>;

export const DecisionInput = struct('DecisionInput', {
  destination: DestinationConfig,
  /** The mode in force, resolved from the destination or its type's default. */
  mode: SyncModeName,
  profileId: Id,
  /** null when the profile never existed or was deleted */
  profile: t.union([Profile, t.null]),
  /** the records found by looking up the profile's desired key and its ledger key */
  observed: t.array(ObservedRecord),
  ledger: t.union([LedgerEntry, t.null]),
  /** key → the smallest other in-scope profile id whose desired key it is */
  claims: dictionary(t.string, Id),
});
export type DecisionInput = t.TypeOf<typeof DecisionInput>;

export const DecisionOperation = oneOf('DecisionOperation', ['create', 'update', 'delete', 'skip'] as const);
export type DecisionOperation = t.TypeOf<typeof DecisionOperation>;

export const Level = oneOf('Level', ['info', 'error'] as const);
export type Level = t.TypeOf<typeof Level>;

export const Decision = struct(
  'Decision',
  {
    profileId: Id,
    operation: DecisionOperation,
    fields: struct('fields', { set: Properties, unset: t.array(t.string) }),
    groups: struct('groups', { add: t.array(t.string), remove: t.array(t.string) }),
  },
  { key: t.string, level: Level, message: t.string },
);
export type Decision = t.TypeOf<typeof Decision>;

/** Why nothing is to be done: explain and replay show these in words. */
export const NothingReason = oneOf('NothingReason', [
  'in-sync',
  'never-written',
  'claimed-by-other',
  'record-gone',
  'no-managed-groups',
] as const);
export type NothingReason = t.TypeOf<typeof NothingReason>;

export const Nothing = struct('Nothing', {
  profileId: Id,
  operation: t.literal('nothing'),
  reason: NothingReason,
});
export type Nothing = t.TypeOf<typeof Nothing>;

export const Verdict = t.union([Decision, Nothing]);
export type Verdict = t.TypeOf<typeof Verdict>;

export const isDecision = (v: Verdict): v is Decision => v.operation !== 'nothing';

export const MESSAGES = {
  noKey: (keyField: string) => `Profile has no value for key field '${keyField}'`,
  claimed: (key: string, otherId: string) => `Key '${key}' is also claimed by profile ${otherId}`,
  noUpdate: 'Destination sync mode does not allow updating existing profiles',
  noCreate: 'Destination sync mode does not allow creating new profiles',
  removedFromGroups: 'Destination sync mode does not allow removing profiles; removed from groups instead',
} as const;

/**
 * Why a decision carries a message: the rows of the decision table that skip a profile, and the
 * update that strips a record of its managed groups because the mode may not delete it. A decision
 * stores only the words (`message`); `reasonOf` (decide.ts) gives the reason back from the decision
 * and the inputs it was made from, so nothing reads a reason out of the words.
 */
export type DecisionReason =
  | { readonly _tag: 'NoKey'; readonly keyField: string }
  | { readonly _tag: 'KeyClaimed'; readonly key: string; readonly by: string }
  | { readonly _tag: 'UpdateNotAllowed'; readonly key: string }
  | { readonly _tag: 'CreateNotAllowed'; readonly key: string }
  | { readonly _tag: 'DeleteNotAllowed'; readonly key: string };

/** The decision table's words for a reason: what a decision made for it stores as its message. */
export const reasonMessage = (r: DecisionReason): string => {
  switch (r._tag) {
    case 'NoKey':
      return MESSAGES.noKey(r.keyField);
    case 'KeyClaimed':
      return MESSAGES.claimed(r.key, r.by);
    case 'UpdateNotAllowed':
      return MESSAGES.noUpdate;
    case 'CreateNotAllowed':
      return MESSAGES.noCreate;
    case 'DeleteNotAllowed':
      return MESSAGES.removedFromGroups;
  }
};

/** A profile that cannot be written (no key, or a key another holds) is an error; what a mode forbids is not. */
export const reasonLevel = (r: DecisionReason): Level =>
  r._tag === 'NoKey' || r._tag === 'KeyClaimed' ? 'error' : 'info';
