// Reading the store checks what it reads: an input event against InputEvent, an event of a sync
// stream against SyncEvent, so that a damaged event stops a command with its place named, not a fold.
import * as E from 'fp-ts/lib/Either.js';
import type * as t from 'io-ts';
import { reportErrors } from '../../domain/codec.js';
import { InputEvent } from '../../domain/events.js';
import { SYNC_PREFIX, SyncEvent } from '../../domain/syncEvents.js';
import type { StoredEvent } from '../ports.js';

/** A stored event that is not what its stream holds: written by something that bypassed the checks. */
export type InvalidStoredEvent = {
  readonly _tag: 'InvalidStoredEvent';
  readonly position: number;
  readonly stream: string;
  readonly type: string;
  /** what is wrong, as `path: message` lines */
  readonly problems: readonly string[];
};

const codecOf = (stream: string): t.Decoder<unknown, unknown> & { is: t.Is<unknown> } =>
  stream.startsWith(SYNC_PREFIX) ? SyncEvent : InputEvent;

/**
 * What is wrong with a stored event, or undefined if nothing is. The codec's guard decides: derived
 * from the codec, it accepts what decoding accepts at a fraction of its cost, on the path every
 * command starts with (a catch-up checks every event). Decoding runs only to say what is wrong. Like
 * the fold, it looks at an event's type and data: its id and times are the store's own columns.
 */
export const invalidStored = (e: StoredEvent): InvalidStoredEvent | undefined => {
  const codec = codecOf(e.stream);
  const event = { type: e.type, data: e.data };
  if (codec.is(event)) return undefined;
  const decoded = codec.decode(event);
  const problems = E.isLeft(decoded) ? reportErrors(decoded.left) : [];
  return {
    _tag: 'InvalidStoredEvent',
    position: e.position,
    stream: e.stream,
    type: e.type,
    problems: problems.length > 0 ? problems : ['does not have the shape its type requires'],
  };
};

/** `the store's event at position 42 (ProfilePropertiesChanged in profile-p1) is not valid: …` */
export const invalidStoredMessage = (e: InvalidStoredEvent): string =>
  `the store's event at position ${e.position} (${e.type} in ${e.stream}) is not valid: ` +
  e.problems.join('; ');

/** Hands every event to `each` in order, and stops at the first invalid one, which it returns. */
export const eachChecked = async (
  events: AsyncIterable<StoredEvent> | Iterable<StoredEvent>,
  each: (e: StoredEvent) => void,
): Promise<InvalidStoredEvent | undefined> => {
  for await (const e of events) {
    const invalid = invalidStored(e);
    if (invalid !== undefined) return invalid;
    each(e);
  }
  return undefined;
};

/** Every event read, or the first invalid one. */
export const collectChecked = async (
  events: AsyncIterable<StoredEvent> | Iterable<StoredEvent>,
): Promise<E.Either<InvalidStoredEvent, StoredEvent[]>> => {
  const out: StoredEvent[] = [];
  const invalid = await eachChecked(events, (e) => out.push(e));
  return invalid === undefined ? E.right(out) : E.left(invalid);
};
