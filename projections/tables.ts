// What the folds need of the collections they keep: a table of values by key, a set of keys, and a
// relation between keys. A Map, a Set and `relation()` are ones; the engine's state on disk is another.

/**
 * A table of values by key. The folds keep one rule on top of a Map's: a value changed in place is
 * `set` again, so that a table that writes behind (the state on disk) knows it changed.
 */
export type Table<V> = {
  get(key: string): V | undefined;
  has(key: string): boolean;
  set(key: string, value: V): unknown;
  delete(key: string): boolean;
  clear(): void;
  readonly size: number;
  keys(): Iterable<string>;
  values(): Iterable<V>;
  entries(): Iterable<[string, V]>;
  [Symbol.iterator](): Iterator<[string, V]>;
};

/** A set of keys, as a Set is. */
export type KeySet = {
  add(key: string): unknown;
  has(key: string): boolean;
  delete(key: string): boolean;
  readonly size: number;
  [Symbol.iterator](): Iterator<string>;
};

/** Which `b`s each `a` is related to (a group's members), in the order they were related. */
export type Relation = {
  add(a: string, b: string): void;
  delete(a: string, b: string): void;
  /** the `b`s related to `a`: a copy, so the relation may change while it is read */
  of(a: string): readonly string[];
};

/** A relation in memory: a Set of `b`s per `a`, forgotten when empty. */
export class MemoryRelation implements Relation {
  readonly sets = new Map<string, Set<string>>();

  add(a: string, b: string): void {
    const s = this.sets.get(a);
    if (s === undefined) this.sets.set(a, new Set([b]));
    else s.add(b);
  }

  delete(a: string, b: string): void {
    const s = this.sets.get(a);
    if (s !== undefined && s.delete(b) && s.size === 0) this.sets.delete(a);
  }

  of(a: string): readonly string[] {
    return [...(this.sets.get(a) ?? [])];
  }
}
