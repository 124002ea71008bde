// The profiles and groups folded from input events (docs/architecture.md, "Input events"): properties,
// memberships, deletions. The fold updates the state it is given in place and returns it.
import type { Profile } from '../domain/decision.js';
import type { InputEvent } from '../domain/events.js';
import { putAllNamed, type Properties } from '../domain/values.js';
import { MemoryRelation, type Relation, type Table } from './tables.js';

/** `groups` is a small array, not a Set: a Set per profile costs more memory than a million profiles can spare. */
export type ProfileState = { properties: Properties; groups: string[]; deleted: boolean };
export type GroupState = { name: string; deleted: boolean };
/**
 * Profiles and groups by id, and each live group's members. Tables rather than Maps (a Map is one)
 * so that the engine can keep the world on disk: see tables.ts for the one rule that adds.
 */
export type World = {
  readonly profiles: Table<ProfileState>;
  readonly groups: Table<GroupState>;
  /** group → its members */
  readonly members: Relation;
};

export const initialWorld = (): World => ({
  profiles: new Map(),
  groups: new Map(),
  members: new MemoryRelation(),
});

const liveProfile = (w: World, id: string): ProfileState | undefined => {
  const p = w.profiles.get(id);
  return p === undefined || p.deleted ? undefined : p;
};

/** Takes the group out of the profile's memberships, and sets the profile again if that changed it. */
const leave = (w: World, profileId: string, p: ProfileState, groupId: string): void => {
  const i = p.groups.indexOf(groupId);
  if (i < 0) return;
  p.groups.splice(i, 1);
  w.profiles.set(profileId, p);
};

const liveGroup = (w: World, id: string): GroupState | undefined => {
  const g = w.groups.get(id);
  return g === undefined || g.deleted ? undefined : g;
};

/**
 * Folds one input event. Events about a profile or group that does not exist change nothing, so the
 * fold is total; ingest is where such events are rejected. Each event costs O(1), except deleting
 * a profile or group, which costs O(its memberships) because those memberships end with it.
 * State is updated in place (copying maps per event would make catch-up quadratic): treat the
 * state as owned by the fold, as Array.reduce and rxjs scan do.
 */
export const foldWorld = (w: World, e: InputEvent): World => {
  switch (e.type) {
    case 'ProfileCreated': {
      if (liveProfile(w, e.data.profileId)) return w;
      w.profiles.set(e.data.profileId, {
        properties: { ...e.data.properties },
        groups: [],
        deleted: false,
      });
      return w;
    }
    case 'ProfilePropertiesChanged': {
      const p = liveProfile(w, e.data.profileId);
      if (!p) return w;
      if (e.data.set) putAllNamed(p.properties, e.data.set);
      // `unset` is applied after `set`, so naming a property in both removes it.
      for (const name of e.data.unset ?? []) delete p.properties[name];
      w.profiles.set(e.data.profileId, p);
      return w;
    }
    case 'ProfileDeleted': {
      const p = liveProfile(w, e.data.profileId);
      if (!p) return w;
      for (const g of p.groups) w.members.delete(g, e.data.profileId);
      w.profiles.set(e.data.profileId, { properties: {}, groups: [], deleted: true });
      return w;
    }
    case 'GroupCreated': {
      if (liveGroup(w, e.data.groupId)) return w;
      w.groups.set(e.data.groupId, { name: e.data.name, deleted: false });
      return w;
    }
    case 'GroupDeleted': {
      const g = liveGroup(w, e.data.groupId);
      if (!g) return w;
      for (const m of w.members.of(e.data.groupId)) {
        const p = w.profiles.get(m);
        if (p) leave(w, m, p, e.data.groupId);
        w.members.delete(e.data.groupId, m);
      }
      w.groups.set(e.data.groupId, { name: g.name, deleted: true });
      return w;
    }
    case 'ProfileJoinedGroup': {
      const p = liveProfile(w, e.data.profileId);
      const g = liveGroup(w, e.data.groupId);
      if (!p || !g) return w;
      if (!p.groups.includes(e.data.groupId)) {
        p.groups.push(e.data.groupId);
        w.profiles.set(e.data.profileId, p);
      }
      w.members.add(e.data.groupId, e.data.profileId);
      return w;
    }
    case 'ProfileLeftGroup': {
      const p = liveProfile(w, e.data.profileId);
      const g = liveGroup(w, e.data.groupId);
      if (!p || !g) return w;
      leave(w, e.data.profileId, p, e.data.groupId);
      w.members.delete(e.data.groupId, e.data.profileId);
      return w;
    }
    case 'DestinationConfigured':
    case 'DestinationRemoved':
      return w;
  }
};

/** The profiles an event can change the desired state of (before it is folded). */
export const touchedProfiles = (w: World, e: InputEvent): readonly string[] => {
  switch (e.type) {
    case 'ProfileCreated':
    case 'ProfilePropertiesChanged':
    case 'ProfileDeleted':
    case 'ProfileJoinedGroup':
    case 'ProfileLeftGroup':
      return [e.data.profileId];
    case 'GroupDeleted':
      return liveGroup(w, e.data.groupId) ? w.members.of(e.data.groupId) : [];
    case 'GroupCreated':
    case 'DestinationConfigured':
    case 'DestinationRemoved':
      return [];
  }
};

/** A live profile as decide() sees it (memberships are live groups only), or null. */
export const profileOf = (w: World, profileId: string): Profile | null => {
  const p = liveProfile(w, profileId);
  return p ? { properties: p.properties, groups: p.groups } : null;
};

export const isLiveProfile = (w: World, id: string): boolean => liveProfile(w, id) !== undefined;
export const isLiveGroup = (w: World, id: string): boolean => liveGroup(w, id) !== undefined;
