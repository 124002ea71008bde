// The input events as they appear in JSON, `{type, data, id?, occurredAt?}` (docs/architecture.md, "Input
// events"), each naming its stream and the tags it is found by, so stores, ingest and log agree.
import * as t from 'io-ts';
import { struct, taggedUnion } from './codec.js';
import { DestinationConfig } from './destination.js';
import { Id, IsoTime, Properties, Uuid } from './values.js';

const event = <T extends string, D extends t.Mixed>(type: T, data: D) =>
  struct(type, { type: t.literal(type), data }, { id: Uuid, occurredAt: IsoTime });

export const ProfileCreated = event(
  'ProfileCreated',
  struct('data', { profileId: Id, properties: Properties }),
);
export const ProfilePropertiesChanged = event(
  'ProfilePropertiesChanged',
  struct('data', { profileId: Id }, { set: Properties, unset: t.array(t.string) }),
);
export const ProfileDeleted = event('ProfileDeleted', struct('data', { profileId: Id }));
export const GroupCreated = event('GroupCreated', struct('data', { groupId: Id, name: t.string }));
export const GroupDeleted = event('GroupDeleted', struct('data', { groupId: Id }));
export const ProfileJoinedGroup = event('ProfileJoinedGroup', struct('data', { groupId: Id, profileId: Id }));
export const ProfileLeftGroup = event('ProfileLeftGroup', struct('data', { groupId: Id, profileId: Id }));
export const DestinationConfigured = event('DestinationConfigured', DestinationConfig);
export const DestinationRemoved = event('DestinationRemoved', struct('data', { destinationId: Id }));

const members = {
  ProfileCreated,
  ProfilePropertiesChanged,
  ProfileDeleted,
  GroupCreated,
  GroupDeleted,
  ProfileJoinedGroup,
  ProfileLeftGroup,
  DestinationConfigured,
  DestinationRemoved,
};

export const InputEvent = taggedUnion(
  'InputEvent',
  'type',
  t.union([
    ProfileCreated,
    ProfilePropertiesChanged,
    ProfileDeleted,
    GroupCreated,
    GroupDeleted,
    ProfileJoinedGroup,
    ProfileLeftGroup,
    DestinationConfigured,
    DestinationRemoved,
  ]),
  members,
);
export type InputEvent = t.TypeOf<typeof InputEvent>;
export type InputEventType = InputEvent['type'];

/** The stream an input event belongs to: one per profile, group and destination. */
export const streamOf = (e: InputEvent): string => {
  switch (e.type) {
    case 'ProfileCreated':
    case 'ProfilePropertiesChanged':
    case 'ProfileDeleted':
      return `profile-${e.data.profileId}`;
    case 'GroupCreated':
    case 'GroupDeleted':
    case 'ProfileJoinedGroup':
    case 'ProfileLeftGroup':
      return `group-${e.data.groupId}`;
    case 'DestinationConfigured':
    case 'DestinationRemoved':
      return `destination-${e.data.destinationId}`;
  }
};

/** The tag of a group's GroupCreated/GroupDeleted events: its lifecycle without its memberships. */
export const groupLifecycleTag = (groupId: string): string => `group-${groupId}/lifecycle`;

/**
 * Secondary keys of an input event, so log and explain find one profile's story without a scan:
 * memberships live in group streams but carry their profile's tag, and a group's lifecycle is
 * readable apart from its (possibly millions of) memberships.
 */
export const inputTags = (e: InputEvent): readonly string[] => {
  switch (e.type) {
    case 'ProfileJoinedGroup':
    case 'ProfileLeftGroup':
      return [`profile-${e.data.profileId}`];
    case 'GroupCreated':
    case 'GroupDeleted':
      return [groupLifecycleTag(e.data.groupId)];
    default:
      return [];
  }
};
