// Commands sent to a destination and the outcome it reports for each, plus the description a
// destination type gives of itself (modes, default, options) for `describe` and config checks.
import * as t from 'io-ts';
import { NonEmptyString, oneOf, struct } from './codec.js';
import { SyncModeName } from './modes.js';
import { Id, Properties } from './values.js';

/** A decision that changes the destination (create, update or delete), with its deterministic id. */
export const Command = struct('Command', {
  commandId: NonEmptyString,
  profileId: Id,
  operation: oneOf('CommandOperation', ['create', 'update', 'delete'] as const),
  /** the key that addresses the record; an update whose fields set the key field renames it */
  key: NonEmptyString,
  fields: struct('fields', { set: Properties, unset: t.array(t.string) }),
  groups: struct('groups', { add: t.array(t.string), remove: t.array(t.string) }),
});
export type Command = t.TypeOf<typeof Command>;

export const CommandOutcome = t.union([
  struct('Applied', { commandId: NonEmptyString, status: t.literal('ok') }),
  struct(
    'Failed',
    {
      commandId: NonEmptyString,
      status: t.literal('error'),
      /** retryable errors are retried with backoff; terminal ones wait for a change or `retry` */
      retryable: t.boolean,
      message: t.string,
    },
    { retryAfterMs: t.number },
  ),
]);
export type CommandOutcome = t.TypeOf<typeof CommandOutcome>;

export const OptionDescription = struct(
  'OptionDescription',
  { name: NonEmptyString, required: t.boolean, description: t.string },
  { default: t.unknown },
);

export const DestinationTypeDescription = struct('DestinationTypeDescription', {
  type: NonEmptyString,
  description: t.string,
  modes: t.array(SyncModeName),
  defaultMode: SyncModeName,
  options: t.array(OptionDescription),
});
export type DestinationTypeDescription = t.TypeOf<typeof DestinationTypeDescription>;
