// Stream metadata ($maxCount in a "$$stream" metadata stream) and the JSON metadata KurrentDB synthesises
// on read for events appended through the v2 protocol, whose metadata is a map of typed properties.
import type { StoredEvent } from './log.js';

/**
 * Docs: https://docs.kurrent.io/server/v25.1/features/streams.html ("Max count and Max age"): reading a
 * stream with a max count of N returns only its last N events; $all still shows every event until a
 * scavenge. The newest "$metadata" event of "$$stream" is the one in force.
 */
export function applyMaxCount(
  events: readonly StoredEvent[],
  metaStream: readonly StoredEvent[] | undefined,
): readonly StoredEvent[] {
  const latest = metaStream?.findLast((e) => e.type === '$metadata');
  if (latest === undefined) return events;
  let maxCount: unknown;
  try {
    maxCount = (JSON.parse(Buffer.from(latest.data).toString('utf8')) as { $maxCount?: unknown }).$maxCount;
  } catch {
    return events;
  }
  if (typeof maxCount !== 'number' || !Number.isInteger(maxCount) || maxCount < 1) return events;
  return events.length > maxCount ? events.slice(events.length - maxCount) : events;
}

export type PropertyValue =
  null | boolean | number | string | PropertyValue[] | { [key: string]: PropertyValue };

/**
 * What a v1 read returns as custom metadata for a v2-appended record (the server's
 * EventRecord.SynthesizeMetadataFromProperties): the record's properties as a JSON object, plus
 * "$schema.name" (the event type) and "$schema.format" ("Json" for JSON records, else the format
 * named at append time, which the append stored among the properties).
 */
export function synthesizeMetadata(
  properties: Record<string, PropertyValue>,
  type: string,
  isJson: boolean,
): Uint8Array {
  const json: Record<string, PropertyValue> = { ...properties, '$schema.name': type };
  if (isJson) json['$schema.format'] = 'Json';
  return Buffer.from(JSON.stringify(json), 'utf8');
}
