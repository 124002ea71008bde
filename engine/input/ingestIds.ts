// Event ids in an ingested file: a line whose id is stored already, or used by an earlier line, is
// the same event again (left out: re-ingesting a file is harmless) or a different one (refused).
import { createHash } from 'node:crypto';
import type { InputEvent } from '../../domain/events.js';
import { canonicalJson } from '../../domain/values.js';
import type { StoredEvent } from '../ports.js';

/** An event as far as sameness goes; `data` is its canonical JSON, or a digest of it. */
type Content = { readonly type: string; readonly data: string; readonly occurredAt: string | undefined };

/**
 * What differs between a line's event and the event its id is already used for, or undefined when
 * it is the same event. The same event means the same type, the same data (as JSON values: the
 * order of object keys aside), and, when the line gives one, the same time it occurred, compared as
 * instants. A line without a time takes the event's: the store filled in the time of the first
 * ingest, which a file cannot know. An earlier line without a time gets the time of this ingest, so
 * a later line giving one describes another event.
 */
const difference = (line: Content, earlier: Content): string | undefined => {
  if (line.type !== earlier.type) return `its type is ${earlier.type}`;
  if (line.data !== earlier.data) return 'its data differs';
  if (line.occurredAt === undefined) return undefined;
  if (earlier.occurredAt !== undefined && Date.parse(line.occurredAt) === Date.parse(earlier.occurredAt))
    return undefined;
  return `it occurred at ${earlier.occurredAt ?? 'the time of this ingest'}`;
};

const digestOf = (text: string): string => createHash('sha256').update(text).digest('base64');

/** What becomes of a line that carries an id. */
export type IdVerdict =
  | { readonly _tag: 'New' }
  /** the same event as the one stored or on an earlier line: left out */
  | { readonly _tag: 'Again' }
  | { readonly _tag: 'Taken'; readonly problem: string };

/**
 * The ids of a file so far, each with the line that used it first and a digest of its event (a
 * digest, so that a file of millions of events with ids is not held in memory twice over).
 */
export type IdsSeen = Map<string, { readonly line: number } & Content>;

/** Judges line `n`'s event, whose id is `id`, against the store's events by id and the file so far. */
export const judgeId = (
  stored: ReadonlyMap<string, StoredEvent>,
  seen: IdsSeen,
  n: number,
  id: string,
  e: InputEvent,
): IdVerdict => {
  const data = canonicalJson(e.data);
  const content: Content = { type: e.type, data, occurredAt: e.occurredAt };
  const there = stored.get(id);
  if (there !== undefined) {
    const differs = difference(content, {
      type: there.type,
      data: canonicalJson(there.data),
      occurredAt: there.occurredAt,
    });
    return differs === undefined
      ? { _tag: 'Again' }
      : {
          _tag: 'Taken',
          problem: `id: ${id} is already stored for a different event at position ${there.position} (${differs})`,
        };
  }
  const digest = digestOf(data);
  const earlier = seen.get(id);
  if (earlier !== undefined) {
    const differs = difference({ ...content, data: digest }, earlier);
    return differs === undefined
      ? { _tag: 'Again' }
      : {
          _tag: 'Taken',
          problem: `id: ${id} is already used by line ${earlier.line} for a different event (${differs})`,
        };
  }
  seen.set(id, { line: n, type: e.type, data: digest, occurredAt: e.occurredAt });
  return { _tag: 'New' };
};
