// An event's JSON text as a few pieces whose concatenation is exactly JSON.stringify's, for a store
// that joins them itself (SQLite's ||) instead of receiving one large string.
//
// Why: V8 builds a large JSON.stringify result as a tree of parts, and a driver binding it to a
// statement first copies it into one flat string. For the events a run records (a batch of 500
// decisions is about 180 KiB of JSON) that copy lands in V8's large-object space, fresh memory every
// time, and cost more than the insert itself: a first sync of 100,000 profiles spent about 300 ms of
// its deciding thread binding its record, and 115 ms in pieces (the pieces cost 60 ms more to make).

/** Arrays longer than this are written a slice at a time; a slice of decisions is about 35 KiB. */
export const SLICE = 100;

const isPlainObject = (value: unknown): value is Record<string, unknown> => {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return (proto === Object.prototype || proto === null) && !('toJSON' in value);
};

/** Whether a property is left out of JSON.stringify's output. */
const omitted = (v: unknown): boolean => v === undefined || typeof v === 'function' || typeof v === 'symbol';

/**
 * The JSON of `value` in pieces: a plain object's long arrays (at its top level, where a recorded
 * batch keeps them) a slice at a time, and everything else as JSON.stringify writes it. A value
 * with nothing to slice is one piece. `JSON.stringify(value) ?? 'null'` equals `pieces.join('')`.
 */
export const jsonPieces = (value: unknown, slice: number = SLICE): string[] => {
  if (!isPlainObject(value) || !Object.values(value).some((v) => Array.isArray(v) && v.length > slice))
    return [JSON.stringify(value) ?? 'null'];
  const pieces: string[] = [];
  // What has been written since the last piece ended: small parts wait to open the next slice.
  let pending = '{';
  let first = true;
  for (const [key, v] of Object.entries(value)) {
    if (omitted(v)) continue;
    pending += `${first ? '' : ','}${JSON.stringify(key)}:`;
    first = false;
    if (!Array.isArray(v) || v.length <= slice) {
      pending += JSON.stringify(v);
      continue;
    }
    pending += '[';
    for (let start = 0; start < v.length; start += slice) {
      const part = JSON.stringify(v.slice(start, start + slice));
      // The text between slices is a piece of its own: joined to a slice here, it would be copied
      // with it into a new string (35 KiB a slice, 48 MB over a first sync of 100,000 profiles).
      pieces.push(start > 0 ? ',' : pending);
      // Without its brackets (a view of the text, not a copy): the slices are elements of one array.
      pieces.push(part.slice(1, -1));
    }
    pending = ']';
  }
  pieces.push(`${pending}}`);
  return pieces;
};
