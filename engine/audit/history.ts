// Reading the past: one profile's story at a destination through stream and tag indexes (never a
// store scan), many profiles' inputs in one pass, and which inputs changed a profile.
import * as E from 'fp-ts/lib/Either.js';
import { groupLifecycleTag, type InputEvent } from '../../domain/events.js';
import { SYNC_PREFIX, appliedTag, profileTag } from '../../domain/syncEvents.js';
import { compareStrings } from '../../domain/values.js';
import { foldWorld, initialWorld, touchedProfiles } from '../../projections/world.js';
import type { EventStore, StoredEvent } from '../ports.js';
import { collectChecked, eachChecked, type InvalidStoredEvent } from '../state/storedEvents.js';

/** One profile's story at one destination, as stored, each list in position order. */
export type ProfileHistory = {
  readonly destinationId: string;
  readonly profileId: string;
  /** its own events, its memberships, and the lifecycle of the groups it joined */
  readonly inputs: readonly StoredEvent[];
  /** the destination's DestinationConfigured/DestinationRemoved events */
  readonly configs: readonly StoredEvent[];
  /** the batches that looked at the profile and the outcomes of its commands */
  readonly sync: readonly StoredEvent[];
};

export type HistoryError =
  { readonly _tag: 'UnknownDestination'; readonly destinationId: string } | InvalidStoredEvent;

type Read<A> = Promise<E.Either<InvalidStoredEvent, A>>;

const byPosition = (a: StoredEvent, b: StoredEvent): number => a.position - b.position;

export const merged = (...lists: readonly (readonly StoredEvent[])[]): StoredEvent[] => {
  const seen = new Map<number, StoredEvent>();
  for (const list of lists) for (const e of list) seen.set(e.position, e);
  return [...seen.values()].sort(byPosition);
};

const isLifecycle = (e: StoredEvent): boolean => e.type === 'GroupCreated' || e.type === 'GroupDeleted';
const groupOf = (e: StoredEvent): string => (e.data as { groupId: string }).groupId;

/**
 * A group's creations and deletions through its lifecycle tag. Stores ingested before that tag
 * existed have none, and then the group's stream is read instead: slower, but still not a scan.
 */
const readLifecycle = async (store: EventStore, groupId: string): Read<StoredEvent[]> => {
  const tagged = await collectChecked(store.readTagged(groupLifecycleTag(groupId)));
  if (E.isLeft(tagged) || tagged.right.some((e) => e.type === 'GroupCreated')) return tagged;
  return E.map((events: StoredEvent[]) => events.filter(isLifecycle))(
    await collectChecked(store.readStream(`group-${groupId}`)),
  );
};

/** A profile's own stream, its memberships (tagged with it) and the lifecycle of those groups. */
export const readProfileInputs = async (store: EventStore, profileId: string): Read<StoredEvent[]> => {
  const own = await collectChecked(store.readStream(`profile-${profileId}`));
  if (E.isLeft(own)) return own;
  const memberships = await collectChecked(store.readTagged(`profile-${profileId}`));
  if (E.isLeft(memberships)) return memberships;
  const groups = [...new Set(memberships.right.map(groupOf))].sort(compareStrings);
  const lifecycles: StoredEvent[][] = [];
  for (const g of groups) {
    const lifecycle = await readLifecycle(store, g);
    if (E.isLeft(lifecycle)) return lifecycle;
    lifecycles.push(lifecycle.right);
  }
  return E.right(merged(own.right, memberships.right, ...lifecycles));
};

export const readConfigs = (store: EventStore, destinationId: string): Read<StoredEvent[]> =>
  collectChecked(store.readStream(`destination-${destinationId}`));

/** Everything explain and `log --profile` need, read through stream and tag indexes only. */
export const readProfileHistory = async (
  store: EventStore,
  destinationId: string,
  profileId: string,
): Promise<E.Either<HistoryError, ProfileHistory>> => {
  const configs = await readConfigs(store, destinationId);
  if (E.isLeft(configs)) return configs;
  if (configs.right.length === 0) return E.left({ _tag: 'UnknownDestination', destinationId });
  const inputs = await readProfileInputs(store, profileId);
  if (E.isLeft(inputs)) return inputs;
  const decided = await collectChecked(store.readTagged(profileTag(destinationId, profileId)));
  if (E.isLeft(decided)) return decided;
  const outcomes: StoredEvent[][] = [];
  for (const e of decided.right)
    if (e.type === 'BatchDecided' && commandsFor(e, profileId)) {
      const applied = await collectChecked(store.readTagged(appliedTag(destinationId, e.position)));
      if (E.isLeft(applied)) return applied;
      outcomes.push(applied.right);
    }
  return E.right({
    destinationId,
    profileId,
    inputs: inputs.right,
    configs: configs.right,
    sync: merged(decided.right, ...outcomes),
  });
};

/** Whether a recorded batch decided a command (not a skip) for the profile, whose outcome follows. */
const commandsFor = (e: StoredEvent, profileId: string): boolean =>
  (e.data as { decisions: readonly { decision: { profileId: string; operation: string } }[] }).decisions.some(
    (r) => r.decision.profileId === profileId && r.decision.operation !== 'skip',
  );

/**
 * Above this many profiles, `log` gathers causes in one pass over the store: a few index reads per
 * profile cost more than reading everything once when the log covers most of the store.
 */
export const INDEX_READS_UP_TO = 2000;

/** The inputs of many profiles in one pass: own streams, memberships, and every group's lifecycle. */
const scanInputs = async (
  store: EventStore,
  wanted: ReadonlySet<string>,
): Read<Map<string, StoredEvent[]>> => {
  const own = new Map<string, StoredEvent[]>();
  const lifecycle = new Map<string, StoredEvent[]>();
  const push = (m: Map<string, StoredEvent[]>, k: string, e: StoredEvent) => {
    const list = m.get(k);
    if (list) list.push(e);
    else m.set(k, [e]);
  };
  // The destinations' records of decisions are most of a synced store, and none of them is an input.
  const invalid = await eachChecked(store.readAll(0, undefined, SYNC_PREFIX), (e) => {
    if (e.stream.startsWith('profile-')) {
      const id = e.stream.slice('profile-'.length);
      if (wanted.has(id)) push(own, id, e);
    } else if (e.stream.startsWith('group-')) {
      if (isLifecycle(e)) push(lifecycle, groupOf(e), e);
      else if (wanted.has((e.data as { profileId: string }).profileId))
        push(own, (e.data as { profileId: string }).profileId, e);
    }
  });
  if (invalid !== undefined) return E.left(invalid);
  const out = new Map<string, StoredEvent[]>();
  for (const id of wanted) {
    const mine = own.get(id) ?? [];
    const groups = new Set(mine.filter((e) => e.stream.startsWith('group-')).map(groupOf));
    out.set(id, merged(mine, ...[...groups].map((g) => lifecycle.get(g) ?? [])));
  }
  return E.right(out);
};

export const inputsOf = async (
  store: EventStore,
  profileIds: ReadonlySet<string>,
  indexReadsUpTo = INDEX_READS_UP_TO,
): Read<Map<string, StoredEvent[]>> => {
  if (profileIds.size > indexReadsUpTo) return scanInputs(store, profileIds);
  const out = new Map<string, StoredEvent[]>();
  for (const id of profileIds) {
    const inputs = await readProfileInputs(store, id);
    if (E.isLeft(inputs)) return inputs;
    out.set(id, inputs.right);
  }
  return E.right(out);
};

/**
 * The inputs that changed the profile as the engine counts changes (it looks at a profile again
 * after exactly these): its own events and memberships, and deletions of groups it was in.
 * Creating a group changes no one, so it is not a cause.
 */
export const changesOf = (inputs: readonly StoredEvent[], profileId: string): StoredEvent[] => {
  const w = initialWorld();
  const out: StoredEvent[] = [];
  for (const e of inputs) {
    const event = { type: e.type, data: e.data } as InputEvent;
    if (touchedProfiles(w, event).includes(profileId)) out.push(e);
    foldWorld(w, event);
  }
  return out;
};
