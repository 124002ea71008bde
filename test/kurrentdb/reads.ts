// What a read selects from the in-memory log: a stream slice by revision, an $all slice by position,
// and KurrentDB's server-side filters (stream-name / event-type, by prefixes or by regular expression).
import type { StoredEvent } from './log.js';

export type Direction = 'forwards' | 'backwards';
export type RevisionFrom = { kind: 'start' } | { kind: 'end' } | { kind: 'revision'; revision: number };
export type PositionFrom =
  { kind: 'start' } | { kind: 'end' } | { kind: 'position'; commit: number; prepare: number };

/** A server-side filter over stored events. */
export type EventFilter = (event: StoredEvent) => boolean;

/**
 * Docs: https://docs.kurrent.io/clients/node/v1.2/reading-events.html ("Read from a stream"):
 * forwards from a revision yields that revision and later ones, backwards yields it and earlier ones,
 * `START`/`END` are the two ends; at most `maxCount` events.
 */
export function sliceStream(
  events: readonly StoredEvent[],
  from: RevisionFrom,
  direction: Direction,
  maxCount: number,
): StoredEvent[] {
  if (direction === 'forwards') {
    const start = from.kind === 'start' ? 0 : from.kind === 'end' ? Infinity : from.revision;
    return events.filter((e) => e.revision >= start).slice(0, maxCount);
  }
  const start = from.kind === 'end' ? Infinity : from.kind === 'start' ? 0 : from.revision;
  return events
    .filter((e) => e.revision <= start)
    .reverse()
    .slice(0, maxCount);
}

/**
 * Docs: https://docs.kurrent.io/clients/node/v1.2/reading-events.html ("Read from $all"): events in
 * commit order. Forwards from a position includes the event at that position (the server's
 * AllReader compares `TFPos(prepare, prepare) >= pos`); backwards from a position yields only events
 * before it (`RecordPostPosition <= pos`).
 */
export function sliceAll(
  all: readonly StoredEvent[],
  from: PositionFrom,
  direction: Direction,
  maxCount: number,
  filter: EventFilter,
): StoredEvent[] {
  const out: StoredEvent[] = [];
  if (direction === 'forwards') {
    const start = from.kind === 'start' ? 0 : from.kind === 'end' ? Infinity : from.commit;
    for (const e of all) {
      if (out.length >= maxCount) break;
      if (e.position >= start && filter(e)) out.push(e);
    }
    return out;
  }
  const before = from.kind === 'end' ? Infinity : from.kind === 'start' ? 0 : from.commit;
  for (let i = all.length - 1; i >= 0 && out.length < maxCount; i--) {
    const e = all[i]!;
    if (e.position < before && filter(e)) out.push(e);
  }
  return out;
}

/** Streams the server hides from every filtered $all read (its DefaultAllFilterStrategy). */
const hiddenFromFilters = (e: StoredEvent) =>
  e.stream !== '$epoch-information' &&
  !(e.stream.startsWith('$persistentsubscription-$all::') && /-(checkpoint|parked)$/.test(e.stream));

/**
 * Docs: https://docs.kurrent.io/clients/node/v1.2/subscriptions.html ("Server-side filtering"): filter
 * by stream name or by event type, with a list of prefixes (any may match) or a regular expression
 * (matched anywhere in the name, like .NET's Regex.IsMatch, which the server uses; an exclusion is
 * written as a negative look-ahead, e.g. `excludeSystemEvents()` sends `^[^$].*`).
 */
export function makeFilter(
  on: 'stream' | 'eventType',
  expression: { regex: string; prefixes: readonly string[] },
): EventFilter {
  const field = (e: StoredEvent) => (on === 'stream' ? e.stream : e.type);
  if (expression.regex !== '') {
    const regex = new RegExp(expression.regex);
    return (e) => hiddenFromFilters(e) && regex.test(field(e));
  }
  return (e) => hiddenFromFilters(e) && expression.prefixes.some((p) => field(e).startsWith(p));
}

export const noFilter: EventFilter = () => true;
