// Who holds each key, without a Set per key: a lone holder is kept as a plain string and a Set only
// while several hold the key. Key claims and pending commands both use it, where one is the rule.
import type { Table } from './tables.js';

export type Holders = Table<string | Set<string>>;

/** Adds `holder` to the key's holders (in the order they came); holding twice is holding once. */
export const hold = (m: Holders, key: string, holder: string): void => {
  const held = m.get(key);
  if (held === undefined) m.set(key, holder);
  else if (typeof held === 'string') {
    if (held !== holder) m.set(key, new Set([held, holder]));
  } else if (!held.has(holder)) {
    held.add(holder);
    m.set(key, held);
  }
};

/** Removes `holder` from the key's holders; a key nobody holds is forgotten. */
export const letGo = (m: Holders, key: string, holder: string): void => {
  const held = m.get(key);
  if (held === holder) m.delete(key);
  else if (typeof held === 'object' && held.delete(holder)) {
    if (held.size === 1) m.set(key, held.values().next().value as string);
    else if (held.size === 0) m.delete(key);
    else m.set(key, held);
  }
};

/** The key's holders, in the order they came. */
export const holdersOf = (m: Holders, key: string): Iterable<string> => {
  const held = m.get(key);
  return held === undefined ? [] : typeof held === 'string' ? [held] : held;
};
