// Values and PostgreSQL columns: which JSON values a column can hold so that they read back unchanged,
// how a value is sent (as text, cast to the column's type), and how a column is read back as a value.
//
// A column syncline creates is jsonb, which holds every value with its JSON type. A user's column
// holds what its type can hold faithfully: text types strings, boolean booleans, smallint/integer/
// bigint whole numbers in range (bigint: safe integers), numeric numbers within its precision and
// scale, real numbers a float4 keeps exactly, double precision any number, json/jsonb anything,
// arrays of those (elements may be null); null goes into any column as NULL. Other types (dates,
// uuid, enums) take strings, as PostgreSQL reads them. Anything else fails its command, naming the
// field and the column's type, rather than being converted into something a lookup reads differently.
import * as E from 'fp-ts/lib/Either.js';
import { Value } from '../../../domain/values.js';
import { ident } from '../sqlite/tables.js';

type Kind = 'json' | 'text' | 'bool' | 'int2' | 'int4' | 'int8' | 'numeric' | 'float4' | 'float8' | 'other';

export type Column = {
  readonly name: string;
  /** the type a value is cast to, without its modifier (a cast to varchar(3) would cut a value short) */
  readonly cast: string;
  /** the type as people read it: `numeric(10,2)`, `character varying(3)`, `integer[]` */
  readonly shown: string;
  readonly kind: Kind;
  readonly array: boolean;
  /** the type modifier (-1 for none): a length, or a numeric's precision and scale */
  readonly typmod: number;
};

const KINDS: Readonly<Record<string, Kind>> = {
  json: 'json',
  jsonb: 'json',
  text: 'text',
  varchar: 'text',
  bpchar: 'text',
  citext: 'text',
  name: 'text',
  bool: 'bool',
  int2: 'int2',
  int4: 'int4',
  int8: 'int8',
  numeric: 'numeric',
  float4: 'float4',
  float8: 'float8',
};

/** A column as the catalog describes it: `base` its type's name (a domain's base), `elem` an array's element's. */
export const columnOf = (row: {
  name: string;
  cast: string;
  shown: string;
  typmod: number;
  base: string;
  elem: string | null;
}): Column => ({
  name: row.name,
  cast: row.cast,
  shown: row.shown,
  kind: KINDS[row.elem ?? row.base] ?? 'other',
  array: row.elem !== null,
  typmod: row.typmod,
});

const RANGES: Partial<Record<Kind, readonly [number, number]>> = {
  int2: [-32768, 32767],
  int4: [-2147483648, 2147483647],
  int8: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
};

/** The shortest decimal a float4 prints for `v` (PostgreSQL prints the shortest that reads back). */
const float4Text = (v: number): string => {
  const f = Math.fround(v);
  for (let p = 1; p < 10; p++) {
    const s = f.toPrecision(p);
    if (Math.fround(Number(s)) === f) return String(Number(s));
  }
  return String(f);
};

type Scalar = string | number | boolean;

const shortly = (s: string): string => (s.length > 40 ? `${s.slice(0, 40)}…` : s);

/** A value as messages name it: `the string "abc"`, `the number 1.5`, `a list`. */
export const valueWords = (v: Value): string =>
  Array.isArray(v)
    ? `the list ${shortly(JSON.stringify(v))}`
    : typeof v === 'string'
      ? `the string ${shortly(JSON.stringify(v))}`
      : `the ${typeof v} ${String(v)}`;

/** Why `kind` cannot hold `v` faithfully, or its text as PostgreSQL reads it. */
const scalarText = (c: Column, v: Scalar): E.Either<string, string> => {
  const refuse = (why = ''): E.Either<string, string> => E.left(why);
  switch (c.kind) {
    case 'json':
      return E.right(JSON.stringify(v));
    case 'text': {
      if (typeof v !== 'string') return refuse();
      const max = c.typmod - 4;
      return c.typmod > 4 && [...v].length > max ? refuse(`: longer than ${max} characters`) : E.right(v);
    }
    case 'bool':
      return typeof v === 'boolean' ? E.right(String(v)) : refuse();
    case 'int2':
    case 'int4':
    case 'int8': {
      const [min, max] = RANGES[c.kind] as readonly [number, number];
      if (typeof v !== 'number') return refuse();
      if (!Number.isInteger(v)) return refuse(': not a whole number');
      return v < min || v > max ? refuse(`: out of its range ${min} to ${max}`) : E.right(String(v));
    }
    case 'numeric': {
      if (typeof v !== 'number') return refuse();
      if (c.typmod < 4) return E.right(String(v));
      const precision = ((c.typmod - 4) >> 16) & 0xffff;
      const scale = (c.typmod - 4) & 0xffff;
      if (scale <= 100 && Number(v.toFixed(scale)) !== v)
        return refuse(`: more than ${scale} decimal places`);
      if (Math.abs(v) >= 10 ** (precision - scale))
        return refuse(`: more than ${precision - scale} digits before the point`);
      return E.right(String(v));
    }
    case 'float4':
      if (typeof v !== 'number') return refuse();
      return Number(float4Text(v)) === v ? E.right(String(v)) : refuse(': a real keeps only about 7 digits');
    case 'float8':
      return typeof v === 'number' ? E.right(String(v)) : refuse();
    case 'other':
      return typeof v === 'string' ? E.right(v) : refuse();
  }
};

/** An element of a PostgreSQL array literal. */
const element = (s: string | null): string =>
  s === null ? 'NULL' : `"${s.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;

/**
 * The text that carries `v` into column `c` (null for NULL), or why the column cannot hold it, naming
 * the field and the column's type.
 */
export const encodeFor = (field: string, c: Column, v: Value): E.Either<string, string | null> => {
  const refused = (why: string) =>
    `field ${field}: a column of type ${c.shown} cannot hold ${valueWords(v)}${why}`;
  if (v === null) return E.right(null);
  if (c.kind === 'json' && !c.array) return E.right(JSON.stringify(v));
  if (Array.isArray(v) !== c.array) return E.left(refused(''));
  if (!Array.isArray(v)) return E.mapLeft(refused)(scalarText(c, v));
  const texts: (string | null)[] = [];
  for (const x of v) {
    if (x === null) {
      texts.push(null);
      continue;
    }
    const t = scalarText(c, x);
    if (E.isLeft(t)) return E.left(refused(`: its element ${valueWords(x)} does not fit${t.left}`));
    texts.push(t.right);
  }
  return E.right(`{${texts.map(element).join(',')}}`);
};

/** The expression a lookup reads a column with: exact text for bigint and numeric, else its JSON. */
export const readExpression = (c: Column, from: string): string =>
  !c.array && (c.kind === 'int8' || c.kind === 'numeric')
    ? `${from}.${ident(c.name)}::text`
    : `to_jsonb(${from}.${ident(c.name)})`;

/** A cell read by readExpression, as the value apply wrote. */
export const decodeFor = (c: Column, cell: unknown): Value => {
  if (cell === null || cell === undefined) return null;
  if (typeof cell === 'string' && !c.array && (c.kind === 'int8' || c.kind === 'numeric')) {
    const n = Number(cell);
    // A bigint past 2^53 (written by something else) has no exact number: its digits are kept.
    return c.kind === 'int8' ? (Number.isSafeInteger(n) ? n : cell) : Number.isFinite(n) ? n : cell;
  }
  // An object or a nested list (written by something else) is no property value: its JSON text is.
  return Value.is(cell) ? cell : JSON.stringify(cell);
};
