// How syncline's store maps onto KurrentDB: its streams under the prefix, the index streams it keeps
// beside them (tags, ids, checkpoints), the filter that reads only its own, and events' ids as UUIDs.
import { v5 } from '../../../domain/ids.js';

/** syncline's own index streams sit under `<prefix>syncline.`; no stream of its events starts so. */
const INDEX = 'syncline.';

export type Names = {
  /** the KurrentDB stream of a syncline stream */
  readonly stream: (name: string) => string;
  /** the syncline stream of a KurrentDB stream (its prefix cut off) */
  readonly unprefixed: (stream: string) => string;
  /** the stream of links to every event carrying `tag` (readTagged) */
  readonly tagged: (tag: string) => string;
  /** the stream whose one link makes an event id taken (knownIds, readByIds) */
  readonly id: (id: string) => string;
  /** the stream whose last event holds a named checkpoint's value */
  readonly checkpoint: (name: string) => string;
  /** a regex for the `$all` filter: syncline's streams, not its index streams nor `leaveOut`'s */
  readonly ownStreams: (leaveOut?: string) => string;
};

const escaped = (text: string): string => text.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');

export const namesFor = (prefix: string): Names => ({
  stream: (name) => `${prefix}${name}`,
  unprefixed: (stream) => stream.slice(prefix.length),
  tagged: (tag) => `${prefix}${INDEX}tag-${tag}`,
  id: (id) => `${prefix}${INDEX}id-${id}`,
  checkpoint: (name) => `${prefix}${INDEX}checkpoint-${name}`,
  // `$` and the index prefix are looked past at the start: system streams ($stats, $$metadata…)
  // never start with the prefix once it is set, and with none they start with `$`.
  ownStreams: (leaveOut) =>
    `^${escaped(prefix)}(?!\\$|${escaped(INDEX)}${leaveOut === undefined ? '' : `|${escaped(leaveOut)}`})`,
});

/**
 * KurrentDB identifies an event by a UUID; a syncline id is any string. The UUID of an id is its
 * name-based UUID (version 5) in syncline's namespace, so the same id always makes the same UUID
 * (the `event:` keeps it apart from the command ids made in the same namespace).
 */
export const uuidOf = (id: string): string => v5(`event:${id}`);

/** The metadata syncline keeps on each event: what the port's StoredEvent holds beyond KurrentDB's own. */
export const META = { id: 'syncline-id', occurredAt: 'occurred-at', recordedAt: 'recorded-at' } as const;
