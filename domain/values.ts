// Property values and ids as they appear in events, scenarios and destination records, with the
// type-aware equality that decides whether a destination field already holds what we want.
import * as t from 'io-ts';
import { NonEmptyString, dictionary } from './codec.js';

type Scalar = string | number | boolean | null;
type ValueShape = Scalar | Scalar[];

const isScalar = (u: unknown): u is Scalar =>
  u === null ||
  typeof u === 'string' ||
  typeof u === 'boolean' ||
  (typeof u === 'number' && Number.isFinite(u));

const isValue = (u: unknown): u is ValueShape => isScalar(u) || (Array.isArray(u) && u.every(isScalar));

/** A property value: a JSON scalar, or an array of scalars (checked without t.union's per-member cost). */
export const Value = new t.Type<ValueShape, ValueShape, unknown>(
  'Value',
  isValue,
  (u, c) =>
    isValue(u)
      ? t.success(u)
      : t.failure(u, c, 'must be a string, number, boolean, null, or an array of those'),
  t.identity,
);
export type Value = t.TypeOf<typeof Value>;

/** Named values: a profile's properties, or a destination record's fields. */
export const Properties = dictionary(t.string, Value, 'Properties');
export type Properties = t.TypeOf<typeof Properties>;

export const Id = NonEmptyString;
export type Id = t.TypeOf<typeof Id>;

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const Uuid = new t.Type<string, string, unknown>(
  'Uuid',
  (u): u is string => typeof u === 'string' && UUID_RE.test(u),
  (u, c) =>
    typeof u === 'string' && UUID_RE.test(u)
      ? t.success(u)
      : t.failure(u, c, `${JSON.stringify(u)} is not a UUID`),
  t.identity,
);

const ISO_RE = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

/** An ISO-8601 date or date-time, kept as written. */
export const IsoTime = new t.Type<string, string, unknown>(
  'IsoTime',
  (u): u is string => typeof u === 'string' && ISO_RE.test(u) && !Number.isNaN(Date.parse(u)),
  (u, c) =>
    typeof u === 'string' && ISO_RE.test(u) && !Number.isNaN(Date.parse(u))
      ? t.success(u)
      : t.failure(u, c, `${JSON.stringify(u)} is not an ISO-8601 time`),
  t.identity,
);

/**
 * Strict equality of values: `100` and `"100"` differ, `null` equals only `null`, arrays are equal
 * element by element. A destination that returns what it was given therefore compares equal.
 */
export const valueEquals = (a: Value | undefined, b: Value | undefined): boolean => {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
    return true;
  }
  return false;
};

/**
 * The key a value gives a record: strings as they are, numbers and booleans as written, arrays as
 * their JSON. Missing, null, empty strings and empty arrays give no key.
 */
export const keyOf = (v: Value | undefined): string | undefined => {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string') return v === '' ? undefined : v;
  if (Array.isArray(v)) return v.length === 0 ? undefined : JSON.stringify(v);
  return String(v);
};

/**
 * Sets a named value where the names are user data (properties, fields): a name such as
 * `__proto__` must be a field like any other, where plain assignment would set the object's
 * prototype and drop the value. One comparison per name, so hot loops can afford it.
 */
export const putNamed = <V>(o: Record<string, V>, name: string, value: V): void => {
  if (name === '__proto__')
    Object.defineProperty(o, name, { value, enumerable: true, writable: true, configurable: true });
  else o[name] = value;
};

/** Every named value of `from` set on `to`, as putNamed sets one (Object.assign would not). */
export const putAllNamed = <V>(to: Record<string, V>, from: Readonly<Record<string, V>>): void => {
  for (const name of Object.keys(from)) putNamed(to, name, from[name] as V);
};

/** Code-unit order, the same on every machine and locale: used for every sorted array we emit. */
export const compareStrings = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** JSON with sorted keys: two configs (or parts of one) are the same when this is. */
export const canonicalJson = (u: unknown): string =>
  JSON.stringify(u, (_k, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>).sort(([a], [b]) => compareStrings(a, b)),
        )
      : v,
  );
