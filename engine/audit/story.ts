// The pieces explain replays one profile with: a cursor folding its inputs and the destination's
// config up to a position, the desired record they give, and a model of the records it was seen with.
import type { LedgerEntry, ObservedRecord } from '../../domain/decision.js';
import { desiredFields, desiredGroups, desiredKey, inScope } from '../../domain/decide.js';
import type { DestinationConfig } from '../../domain/destination.js';
import type { InputEvent } from '../../domain/events.js';
import type { SyncModeName } from '../../domain/modes.js';
import {
  canonicalJson,
  compareStrings,
  putNamed,
  valueEquals,
  type Properties,
  type Value,
} from '../../domain/values.js';
import type { PendingCommand } from '../../projections/ledger.js';
import { foldWorld, initialWorld, profileOf, type World } from '../../projections/world.js';
import type { StoredEvent } from '../ports.js';

/** A profile's world and the destination's config as of some position, moved forward only. */
export type Cursor = {
  readonly world: World;
  readonly everJoined: Set<string>;
  config: DestinationConfig | null;
  inputs: number;
  configs: number;
};

export const cursor = (): Cursor => ({
  world: initialWorld(),
  everJoined: new Set(),
  config: null,
  inputs: 0,
  configs: 0,
});

export const foldInput = (c: Cursor, profileId: string, e: StoredEvent): void => {
  const event = { type: e.type, data: e.data } as InputEvent;
  if (event.type === 'ProfileJoinedGroup' && event.data.profileId === profileId)
    c.everJoined.add(event.data.groupId);
  foldWorld(c.world, event);
};

export const foldConfig = (c: Cursor, e: StoredEvent): void => {
  c.config = e.type === 'DestinationConfigured' ? (e.data as DestinationConfig) : null;
};

/** Folds every input and config event at or before `position` not folded yet. */
export const advance = (
  c: Cursor,
  profileId: string,
  inputs: readonly StoredEvent[],
  configs: readonly StoredEvent[],
  position: number,
): Cursor => {
  for (let e = inputs[c.inputs]; e !== undefined && e.position <= position; e = inputs[++c.inputs])
    foldInput(c, profileId, e);
  for (let e = configs[c.configs]; e !== undefined && e.position <= position; e = configs[++c.configs])
    foldConfig(c, e);
  return c;
};

/** What the destination should hold for the profile: scope, key, mapped fields and managed groups. */
export type Desired = {
  readonly inScope: boolean;
  readonly key: string | null;
  readonly fields: Properties;
  readonly groups: readonly string[];
};

export const desiredOf = (config: DestinationConfig | null, w: World, profileId: string): Desired => {
  const p = profileOf(w, profileId);
  if (config === null || p === null) return { inScope: false, key: null, fields: {}, groups: [] };
  const fields = desiredFields(config, p);
  return {
    inScope: inScope(config, p),
    key: desiredKey(config, fields) ?? null,
    fields,
    groups: desiredGroups(config, p),
  };
};

/** How an event or a config change moved the desired record; null when it did not. */
export type Effect = {
  readonly scope: 'entered' | 'left' | null;
  readonly set: Properties;
  readonly unset: readonly string[];
  readonly groupsAdded: readonly string[];
  readonly groupsRemoved: readonly string[];
};

export const effectOf = (before: Desired, after: Desired): Effect | null => {
  const set: Properties = {};
  for (const [f, v] of Object.entries(after.fields))
    if (!Object.hasOwn(before.fields, f) || !valueEquals(before.fields[f], v)) putNamed(set, f, v);
  const unset = Object.keys(before.fields).filter((f) => !Object.hasOwn(after.fields, f));
  const groupsAdded = after.groups.filter((g) => !before.groups.includes(g));
  const groupsRemoved = before.groups.filter((g) => !after.groups.includes(g));
  const scope = before.inScope === after.inScope ? null : after.inScope ? 'entered' : 'left';
  const changed =
    scope !== null || Object.keys(set).length + unset.length + groupsAdded.length + groupsRemoved.length > 0;
  return changed ? { scope, set, unset, groupsAdded, groupsRemoved } : null;
};

const show = (v: Value | undefined): string => JSON.stringify(v) ?? 'undefined';

/** `entered scope; email = "ann@x.io"; unset ltv; +VIP −Newsletter` */
export const effectWords = (e: Effect): string =>
  [
    e.scope === null ? '' : e.scope === 'entered' ? 'entered scope' : 'left scope',
    Object.entries(e.set)
      .map(([f, v]) => `${f} = ${show(v)}`)
      .join(', '),
    e.unset.length > 0 ? `unset ${e.unset.join(', ')}` : '',
    [...e.groupsAdded.map((g) => `+${g}`), ...e.groupsRemoved.map((g) => `−${g}`)].join(' '),
  ]
    .filter((s) => s !== '')
    .join('; ');

/** What an input event did, in words: `joined vip`, `changed email, firstName`. */
export const eventWords = (e: StoredEvent): string => {
  const event = { type: e.type, data: e.data } as InputEvent;
  switch (event.type) {
    case 'ProfileCreated':
      return 'profile created';
    case 'ProfilePropertiesChanged': {
      const parts = [Object.keys(event.data.set ?? {}), event.data.unset ?? []];
      return [
        parts[0]?.length ? `changed ${parts[0].join(', ')}` : '',
        parts[1]?.length ? `unset ${parts[1].join(', ')}` : '',
      ]
        .filter((s) => s !== '')
        .join('; ');
    }
    case 'ProfileDeleted':
      return 'profile deleted';
    case 'GroupCreated':
      return `group ${event.data.groupId} created`;
    case 'GroupDeleted':
      return `group ${event.data.groupId} deleted`;
    case 'ProfileJoinedGroup':
      return `joined ${event.data.groupId}`;
    case 'ProfileLeftGroup':
      return `left ${event.data.groupId}`;
    case 'DestinationConfigured':
      return 'configured';
    case 'DestinationRemoved':
      return 'destination removed';
  }
};

const collectionWords = (d: DestinationConfig): string =>
  d.collection.kind === 'all'
    ? 'every live profile'
    : d.collection.kind === 'none'
      ? 'nobody'
      : `members of ${d.collection.groupId}`;

export const modeOf = (d: DestinationConfig, defaultMode: (type: string) => SyncModeName): SyncModeName =>
  d.syncMode ?? defaultMode(d.type);

/** The same as apply judges a config unchanged: as JSON values, the order of object keys aside. */
const sameJson = (a: unknown, b: unknown): boolean => canonicalJson(a) === canonicalJson(b);

/** A config event in words: the whole destination the first time, what changed after that. */
export const configWords = (
  before: DestinationConfig | null,
  after: DestinationConfig | null,
  defaultMode: (type: string) => SyncModeName,
): string => {
  if (after === null) return 'destination removed';
  const mode = modeOf(after, defaultMode);
  if (before === null)
    return `configured: ${after.type}, ${mode} mode, collection ${collectionWords(after)}, key field ${after.keyField}`;
  const parts: string[] = [];
  const modeBefore = modeOf(before, defaultMode);
  if (modeBefore !== mode) parts.push(`mode ${modeBefore} → ${mode}`);
  if (!sameJson(before.collection, after.collection))
    parts.push(`collection ${collectionWords(before)} → ${collectionWords(after)}`);
  if (before.keyField !== after.keyField) parts.push(`key field ${before.keyField} → ${after.keyField}`);
  if (!sameJson(before.mapping, after.mapping)) parts.push('mapping changed');
  if (!sameJson(before.groupMapping ?? {}, after.groupMapping ?? {})) parts.push('group mapping changed');
  return parts.length > 0 ? `reconfigured: ${parts.join('; ')}` : 'reconfigured (nothing this profile sees)';
};

/**
 * The destination's records under the profile's keys as syncline last knew them: the latest
 * observation, with the profile's own applied commands laid over it. A key missing from the map was
 * never looked up (unknown); null means known to hold no record.
 */
export type Known = Map<string, ObservedRecord | null>;

const change = (r: ObservedRecord, cmd: PendingCommand, key: string): ObservedRecord => {
  const d = cmd.decision;
  const fields = { ...r.fields, ...d.fields.set };
  for (const f of d.fields.unset) delete fields[f];
  const groups = new Set(r.groups);
  for (const g of d.groups.add) groups.add(g);
  for (const g of d.groups.remove) groups.delete(g);
  return { key, fields, groups: [...groups].sort(compareStrings) };
};

/** What a successful command did to the records, as a destination following the port contract does. */
export const applyToKnown = (known: Known, cmd: PendingCommand): void => {
  const d = cmd.decision;
  const key = d.key ?? '';
  switch (d.operation) {
    case 'delete':
      known.set(key, null);
      return;
    case 'create':
      known.set(cmd.keyAfter, change(known.get(key) ?? { key, fields: {}, groups: [] }, cmd, cmd.keyAfter));
      return;
    case 'update': {
      const held = known.get(key) ?? known.get(cmd.keyAfter);
      if (held === undefined || held === null) return;
      if (cmd.keyAfter !== key) known.set(key, null);
      known.set(cmd.keyAfter, change(held, cmd, cmd.keyAfter));
      return;
    }
    case 'skip':
      return;
  }
};

/** The keys a run looks up for the profile: its desired key and the key syncline last wrote. */
export const keysFor = (view: Desired, ledger: LedgerEntry | null): string[] => {
  const key = view.inScope ? view.key : null;
  const keys: string[] = [];
  if (key !== null) keys.push(key);
  if (ledger !== null && ledger.key !== key) keys.push(ledger.key);
  return keys;
};
