// Link events ("$>" records whose data is "<revision>@<stream>", as projections and clients write them)
// and their resolution on reads that ask resolve_links: the target event, sent with the link alongside.
import type { EventLog, StoredEvent } from './log.js';
import type { Resolved } from './wire.js';

/** SystemEventTypes.LinkTo */
export const LINK_TYPE = '$>';

/** What a read sends for a record: itself, or, when links are resolved, see resolveLink. */
export const resolver =
  (log: EventLog, resolveLinks: boolean, live = false) =>
  (record: StoredEvent): Resolved =>
    resolveLinks ? resolveLink(log, record, live) : { event: record };

/** .NET long.TryParse with NumberStyles.Integer: optional surrounding white space and sign. */
function parseLong(text: string): bigint | undefined {
  if (!/^\s*[+-]?\d+\s*$/.test(text)) return undefined;
  const value = BigInt(text.trim());
  return value >= -(2n ** 63n) && value < 2n ** 63n ? value : undefined;
}

/**
 * Docs: https://docs.kurrent.io/clients/node/v1.2/reading-events.html ("resolveLinkTos": projections
 * can create events that are pointers to existing events; true tells KurrentDB to return the event as
 * well as the event linking to it). The link format is the server's: SystemEventTypes.LinkTo "$>"
 * (SystemNames.cs), data "<eventNumber>@<stream>" (Projections.V1 EmittedLinkTo.cs).
 * The wire behaviour follows the server's StorageReaderWorker.ResolveLinkToEvent (the same rule in
 * SubscriptionsService for live subscriptions), v26.1.0:
 * - a record that is not of type "$>" is sent as itself (event set, link unset);
 * - the data, UTF-8, is split at the first "@"; a part before it that is not a 64-bit integer makes
 *   the record count as an ordinary event (sent as itself, event set, link unset);
 * - otherwise the target is read like IndexReader.ReadEvent: -1 means the stream's last event, the
 *   stream's $maxCount hides older events; found: event = the target (its own stream, revision,
 *   positions, data, metadata) and link = the "$>" record; not found (no stream, revision out of
 *   range, no "@", a revision below -1): a failed resolution, link set and event unset.
 * Live subscription events (SubscriptionsService.ResolveLinkToEvent) parse with long.Parse, which
 * throws instead: there a "$>" record whose revision is not an integer is a failed resolution too.
 * ReadEvent.commit_position is the link's (the original record's) position either way.
 */
export function resolveLink(log: EventLog, record: StoredEvent, live = false): Resolved {
  if (record.type !== LINK_TYPE) return { event: record };
  const payload = Buffer.from(record.data).toString('utf8');
  const at = payload.indexOf('@');
  const revision = parseLong(at < 0 ? payload : payload.slice(0, at));
  if (revision === undefined) return live ? { link: record } : { event: record };
  if (at < 0 || revision < -1n) return { link: record };
  const events = log.readable(payload.slice(at + 1));
  if (events === undefined || events.length === 0) return { link: record };
  const wanted = revision === -1n ? events[events.length - 1]!.revision : Number(revision);
  const target = events.find((e) => e.revision === wanted);
  return target === undefined ? { link: record } : { event: target, link: record };
}
