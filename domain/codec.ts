// Codec building blocks shared by every boundary type: closed records, enumerations, tagged unions,
// and the reporter that turns io-ts errors into "path: what is wrong" lines a person can act on.
import * as t from 'io-ts';
import { pipe } from 'fp-ts/lib/function.js';
import * as E from 'fp-ts/lib/Either.js';

const isRecord = (u: unknown): u is Record<string, unknown> =>
  typeof u === 'object' && u !== null && !Array.isArray(u);

const show = (u: unknown): string => {
  if (u === undefined) return 'undefined';
  let s: string;
  try {
    s = JSON.stringify(u);
  } catch {
    // Nested deeper than JSON.stringify's stack reaches (JSON.parse reads any depth): say what it is.
    return Array.isArray(u) ? 'an array nested too deeply to show' : 'an object nested too deeply to show';
  }
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
};

/** A string with at least one character: every id in syncline is one. */
export const NonEmptyString = new t.Type<string, string, unknown>(
  'NonEmptyString',
  (u): u is string => typeof u === 'string' && u.length > 0,
  (u, c) =>
    u === undefined
      ? t.failure(u, c, 'is required')
      : typeof u !== 'string'
        ? t.failure(u, c, `${show(u)} is not a string`)
        : u.length === 0
          ? t.failure(u, c, 'must not be empty')
          : t.success(u),
  t.identity,
);

/** Whether `u` nests deeper than `limit` (a scalar 0, `[]` 1), found without recursion. */
const deeperThan = (u: unknown, limit: number): boolean => {
  const stack: [unknown, number][] = [[u, 0]];
  for (let top = stack.pop(); top !== undefined; top = stack.pop()) {
    const [v, depth] = top;
    if (v === null || typeof v !== 'object') continue;
    if (depth >= limit) return true;
    for (const child of Object.values(v)) stack.push([child, depth + 1]);
  }
  return false;
};

/**
 * Any value nested at most `depth` levels, for fields whose shape is someone else's to check (a
 * destination's options). JSON.parse reads any depth, and JSON.stringify, like every walk that
 * recurses, overflows the stack on a value nested thousands deep: storing one would crash.
 */
export const nestedAtMost = (depth: number) =>
  new t.Type<unknown, unknown, unknown>(
    `NestedAtMost${depth}`,
    (u): u is unknown => !deeperThan(u, depth),
    (u, c) => (deeperThan(u, depth) ? t.failure(u, c, `nests deeper than ${depth} levels`) : t.success(u)),
    t.identity,
  );

/**
 * t.record, with a guard that accepts exactly what decoding accepts (io-ts's lets keys outside the
 * domain pass, and goes through a closure per key): every stored profile event's properties are
 * checked with it on reading (see engine/state/storedEvents.ts).
 */
export const dictionary = <D extends t.Mixed, C extends t.Mixed>(domain: D, codomain: C, name?: string) => {
  const inner = t.record(domain, codomain, name);
  type A = t.TypeOf<typeof inner>;
  return new t.Type<A, t.OutputOf<typeof inner>, unknown>(
    inner.name,
    (u): u is A => {
      if (!isRecord(u)) return false;
      const keys = Object.keys(u);
      for (let i = 0; i < keys.length; i++) {
        const k = keys[i] as string;
        if (!domain.is(k) || !codomain.is(u[k])) return false;
      }
      return true;
    },
    (u, c) => inner.validate(u, c),
    (a) => inner.encode(a),
  );
};

/** One of a fixed list of strings, with an error that lists them. */
export const oneOf = <const L extends readonly [string, ...string[]]>(name: string, values: L) => {
  const allowed = new Set<string>(values);
  return new t.Type<L[number], L[number], unknown>(
    name,
    (u): u is L[number] => typeof u === 'string' && allowed.has(u),
    (u, c) =>
      typeof u === 'string' && allowed.has(u)
        ? t.success(u)
        : t.failure(u, c, u === undefined ? 'is required' : `${show(u)} is not one of ${values.join(', ')}`),
    t.identity,
  );
};

/**
 * A closed record: required and optional properties, and any other key is an error. Typos such as
 * `sett` for `set` would otherwise be dropped silently and change what gets exported.
 */
export const struct = <R extends t.Props, O extends t.Props = Record<never, never>>(
  name: string,
  required: R,
  optional?: O,
) => {
  const opt = (optional ?? {}) as O;
  const known = [...Object.keys(required), ...Object.keys(opt)];
  const knownSet = new Set(known);
  const inner = t.intersection([t.type(required), t.partial(opt)]);
  type A = t.TypeOf<typeof inner>;
  type Out = t.OutputOf<typeof inner>;
  // The guard accepts exactly what decoding accepts, unknown fields refused too, checking each field
  // with its codec's own guard in plain loops: reading the store checks every event with it (see
  // engine/state/storedEvents.ts), and the intersection's guard costs four times as much.
  const requiredKeys = Object.keys(required);
  const requiredCodecs = requiredKeys.map((k) => (required as t.Props)[k] as t.Mixed);
  const optionalKeys = Object.keys(opt);
  const optionalCodecs = optionalKeys.map((k) => (opt as t.Props)[k] as t.Mixed);
  const is = (u: unknown): u is A => {
    if (!isRecord(u)) return false;
    let present = requiredKeys.length;
    for (let i = 0; i < requiredKeys.length; i++)
      if (!(requiredCodecs[i] as t.Mixed).is(u[requiredKeys[i] as string])) return false;
    for (let i = 0; i < optionalKeys.length; i++) {
      const v = u[optionalKeys[i] as string];
      if (v === undefined) continue;
      if (!(optionalCodecs[i] as t.Mixed).is(v)) return false;
      present++;
    }
    // No field this codec does not know. Counting is the fast way to tell; an optional field set to
    // undefined (absent, as decoding takes it) is the one other way the counts can differ.
    const keys = Object.keys(u);
    return keys.length === present || keys.every((k) => knownSet.has(k));
  };
  return new t.Type<A, Out, unknown>(
    name,
    is,
    (u, c) => {
      if (!isRecord(u))
        return t.failure(u, c, u === undefined ? 'is required' : `${show(u)} is not an object`);
      const extra = Object.keys(u).filter((k) => !knownSet.has(k));
      if (extra.length > 0) {
        return t.failures(
          extra.map((k) => ({
            value: u[k],
            context: [...c, { key: k, type: t.unknown, actual: u[k] }],
            message: `is not a known field (expected ${known.join(', ')})`,
          })),
        );
      }
      // Optional keys explicitly set to undefined are treated as absent.
      return inner.validate(u, c);
    },
    (a) => inner.encode(a),
  );
};

/**
 * A union of object codecs told apart by a string field (`type`, `kind`): an unknown tag is reported
 * once, on that field, instead of one error per member as `t.union` does.
 */
export const taggedUnion = <U extends t.Mixed>(
  name: string,
  field: string,
  union: U,
  members: { readonly [tag: string]: t.Mixed },
) => {
  const tags = Object.keys(members);
  // The member the tag names decides, as in decoding: trying every member in turn costs a guard per
  // member before the right one, on every stored event a catch-up reads.
  const is = (u: unknown): u is t.TypeOf<U> => {
    if (!isRecord(u)) return false;
    const tag = u[field];
    return typeof tag === 'string' && Object.hasOwn(members, tag) && (members[tag] as t.Mixed).is(u);
  };
  return new t.Type<t.TypeOf<U>, t.OutputOf<U>, unknown>(
    name,
    is,
    (u, c) => {
      if (!isRecord(u))
        return t.failure(u, c, u === undefined ? 'is required' : `${show(u)} is not an object`);
      const tag = u[field];
      const member = typeof tag === 'string' && Object.hasOwn(members, tag) ? members[tag] : undefined;
      if (member === undefined) {
        return t.failure(
          tag,
          [...c, { key: field, type: t.string, actual: tag }],
          tag === undefined ? 'is required' : `${show(tag)} is not one of ${tags.join(', ')}`,
        );
      }
      return member.validate(u, c) as t.Validation<t.TypeOf<U>>;
    },
    (a) => union.encode(a) as t.OutputOf<U>,
  );
};

/** Renders the path of an error as `a.b[2].c`, skipping the anonymous layers io-ts adds. */
const pathOf = (context: t.Context): string => {
  let path = '';
  for (let i = 1; i < context.length; i++) {
    const entry = context[i];
    if (entry === undefined || entry.key === '') continue;
    const parent = context[i - 1];
    // Intersections and unions hand the same value to each member under a numeric key that is not
    // part of the data; array elements are the only numeric keys worth showing.
    if (/^\d+$/.test(entry.key) && entry.actual === parent?.actual) continue;
    if (/^\d+$/.test(entry.key) && Array.isArray(parent?.actual)) path += `[${entry.key}]`;
    else path += path === '' ? entry.key : `.${entry.key}`;
  }
  return path;
};

const messageOf = (e: t.ValidationError): string => {
  if (e.message !== undefined) return e.message;
  if (e.value === undefined) return 'is required';
  const last = e.context[e.context.length - 1];
  return `${show(e.value)} is not ${describeType(last?.type.name ?? 'valid')}`;
};

const describeType = (name: string): string => {
  switch (name) {
    case 'string':
      return 'a string';
    case 'number':
      return 'a number';
    case 'boolean':
      return 'a boolean';
    case 'UnknownRecord':
    case 'Properties':
      return 'an object';
    case 'UnknownArray':
      return 'an array';
    default:
      // An array's own failure is that it is none: a bad element is reported at its index.
      if (name.startsWith('Array<')) return 'an array';
      return /^(\(|\{)/.test(name) ? `of the expected shape` : `a valid ${name}`;
  }
};

/** Every problem as `path: message`, with `prefix` as the root name (e.g. `destination`). */
export const reportErrors = (errors: t.Errors, prefix = ''): string[] => {
  const seen = new Set<string>();
  const lines: string[] = [];
  for (const e of errors) {
    const path = pathOf(e.context);
    const full = prefix === '' ? path : path === '' ? prefix : `${prefix}.${path}`;
    const line = full === '' ? messageOf(e) : `${full}: ${messageOf(e)}`;
    if (!seen.has(line)) {
      seen.add(line);
      lines.push(line);
    }
  }
  return lines;
};

/** Input a codec refused: every problem as a `path: message` line (see reportErrors). */
export type Invalid = { readonly _tag: 'Invalid'; readonly problems: readonly string[] };

/** Decodes with a codec and reports failures as readable lines. */
export const decodeWith =
  <A, O>(codec: t.Type<A, O, unknown>, prefix = '') =>
  (u: unknown): E.Either<Invalid, A> =>
    pipe(
      codec.decode(u),
      E.mapLeft((errors): Invalid => ({ _tag: 'Invalid', problems: reportErrors(errors, prefix) })),
    );
