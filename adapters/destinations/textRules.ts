// Option values and names that are strings checked rule by rule, as the destinations that write
// tables declare them, and the rules every name there keeps.
import * as t from 'io-ts';

/** What a string must keep, and how a message says it does not. */
export type Rule = readonly [holds: (s: string) => boolean, problem: string];

/**
 * A string that keeps every rule. The messages never repeat the string: a value read from a variable
 * may be a secret (only a literal that is not a string is shown, to say what it is instead).
 */
export const ruledText = (name: string, rules: readonly Rule[]) =>
  new t.Type<string, string, unknown>(
    name,
    (u): u is string => typeof u === 'string' && rules.every(([holds]) => holds(u)),
    (u, c) => {
      if (typeof u !== 'string')
        return t.failure(
          u,
          c,
          u === undefined ? 'is required' : `must be a string, not ${JSON.stringify(u)}`,
        );
      const broken = rules.find(([holds]) => !holds(u));
      return broken === undefined ? t.success(u) : t.failure(u, c, broken[1]);
    },
    t.identity,
  );

export const NOT_EMPTY: Rule = [(s) => s !== '', 'must not be empty'];

// SQLite ends a name (and a file path) at NUL: a different table or file than configured. PostgreSQL
// and MySQL refuse a name holding one.
export const NO_NUL: Rule = [(s) => !s.includes('\u0000'), 'must not contain a NUL character'];
