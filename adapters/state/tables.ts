// The engine's tables on disk, written behind: reads go to the rows of the state file (through a
// cache), changes stay in memory until the state file saves them, in one transaction with its position.
import type { Database, Statement } from 'better-sqlite3';
import type { KeySet, Relation, Table } from '../../projections/tables.js';

/** How a value is kept in a row, and read back (`key` is the row's, for values that hold it). */
export type RowCodec<V> = {
  readonly encode: (value: V) => string | number;
  readonly decode: (raw: string | number, key: string) => V;
};

/** Rows read from the disk per page when a table is read whole: memory stays bounded. */
const PAGE = 2_000;

/** Pages read one after another until one comes back short: `after` reads the page after a row. */
function* paged<R>(first: () => R[], after: (last: R) => R[]): Generator<R> {
  let page = first();
  for (;;) {
    yield* page;
    const last = page[page.length - 1];
    if (page.length < PAGE || last === undefined) return;
    page = after(last);
  }
}

/** The statements of one SQL table of (scope, key, value) rows; a scope is a destination, or ''. */
export class Rows {
  readonly get: Statement<[string, string], { value: string | number }>;
  readonly put: Statement<[string, string, string | number]>;
  readonly drop: Statement<[string, string]>;
  readonly clear: Statement<[string]>;
  private readonly counted: Statement<[string, string], number>;
  private readonly recount: Statement<[string, string, number]>;
  private readonly first: Statement<[string, number], { key: string; value: string | number }>;
  private readonly next: Statement<[string, string, number], { key: string; value: string | number }>;
  private readonly firstKeys: Statement<[string, number], string>;
  private readonly nextKeys: Statement<[string, string, number], string>;

  constructor(
    db: Database,
    readonly name: string,
  ) {
    this.get = db.prepare(`SELECT value FROM ${name} WHERE scope = ? AND key = ?`);
    this.put = db.prepare(
      `INSERT INTO ${name} (scope, key, value) VALUES (?, ?, ?)
       ON CONFLICT (scope, key) DO UPDATE SET value = excluded.value`,
    );
    this.drop = db.prepare(`DELETE FROM ${name} WHERE scope = ? AND key = ?`);
    this.clear = db.prepare(`DELETE FROM ${name} WHERE scope = ?`);
    this.counted = db.prepare(`SELECT n FROM counts WHERE tbl = ? AND scope = ?`).pluck() as Statement<
      [string, string],
      number
    >;
    this.recount = db.prepare(
      `INSERT INTO counts (tbl, scope, n) VALUES (?, ?, ?) ON CONFLICT (tbl, scope) DO UPDATE SET n = excluded.n`,
    );
    this.first = db.prepare(`SELECT key, value FROM ${name} WHERE scope = ? ORDER BY key LIMIT ?`);
    this.next = db.prepare(`SELECT key, value FROM ${name} WHERE scope = ? AND key > ? ORDER BY key LIMIT ?`);
    this.firstKeys = db
      .prepare(`SELECT key FROM ${name} WHERE scope = ? ORDER BY key LIMIT ?`)
      .pluck() as Statement<[string, number], string>;
    this.nextKeys = db
      .prepare(`SELECT key FROM ${name} WHERE scope = ? AND key > ? ORDER BY key LIMIT ?`)
      .pluck() as Statement<[string, string, number], string>;
  }

  /** Every key of the scope, in order, a page at a time, without reading the values. */
  allKeys(scope: string): Generator<string> {
    return paged(
      () => this.firstKeys.all(scope, PAGE),
      (last) => this.nextKeys.all(scope, last, PAGE),
    );
  }

  /** How many rows the scope holds (kept in `counts` by setCount, as every write changes it). */
  count(scope: string): number {
    return this.counted.get(this.name, scope) ?? 0;
  }

  setCount(scope: string, n: number): void {
    this.recount.run(this.name, scope, n);
  }

  /** Every row of the scope, in key order, a page at a time. */
  all(scope: string): Generator<{ key: string; value: string | number }> {
    return paged(
      () => this.first.all(scope, PAGE),
      (last) => this.next.all(scope, last.key, PAGE),
    );
  }
}

const ABSENT: unique symbol = Symbol('absent');
type Known<V> = V | typeof ABSENT;

/** What the state file asks of each table it keeps: to write its changes, and then to forget them. */
export type Saved = {
  /** whether anything changed since the last save */
  readonly changed: boolean;
  /** about how many rows the changes since the last save will write */
  readonly unsaved: number;
  /** writes the changes (inside the caller's transaction) */
  write(): void;
  /** the transaction committed: the changes are on disk */
  committed(): void;
  /** the state file went back to what the disk holds: drop every change and everything cached */
  forget(): void;
};

/** Beyond this many values cached, a save empties the cache, so that memory stays bounded. */
const CACHED = 50_000;

/** A Table over one scope of an SQL table: see the module's head. */
export class DiskTable<V> implements Table<V>, Saved {
  private readonly cache = new Map<string, Known<V>>();
  private readonly dirty = new Set<string>();
  private cleared = false;
  /** the rows of the scope on disk, once counted */
  private counted: number | undefined;
  private delta = 0;

  constructor(
    private readonly rows: Rows,
    private readonly scope: string,
    private readonly codec: RowCodec<V>,
  ) {}

  private load(key: string): Known<V> {
    let v = this.cache.get(key);
    if (v === undefined) {
      const row = this.cleared ? undefined : this.rows.get.get(this.scope, key);
      v = row === undefined ? ABSENT : this.codec.decode(row.value, key);
      this.cache.set(key, v);
      if (this.cache.size - this.dirty.size > 2 * CACHED) this.trim();
    }
    return v;
  }

  /**
   * Forgets values read and not changed, down to CACHED of them: they are on disk as they are, and
   * a long run reads far more than it should keep (a first sync reads every profile once).
   */
  private trim(): void {
    for (const key of this.cache.keys()) {
      if (this.cache.size - this.dirty.size <= CACHED) return;
      if (!this.dirty.has(key)) this.cache.delete(key);
    }
  }

  get(key: string): V | undefined {
    const v = this.load(key);
    return v === ABSENT ? undefined : v;
  }

  has(key: string): boolean {
    return this.load(key) !== ABSENT;
  }

  set(key: string, value: V): this {
    if (this.load(key) === ABSENT) this.delta++;
    this.cache.set(key, value);
    this.dirty.add(key);
    return this;
  }

  delete(key: string): boolean {
    if (this.load(key) === ABSENT) return false;
    this.delta--;
    this.cache.set(key, ABSENT);
    this.dirty.add(key);
    return true;
  }

  clear(): void {
    this.cleared = true;
    this.cache.clear();
    this.dirty.clear();
    this.counted = 0;
    this.delta = 0;
  }

  get size(): number {
    this.counted ??= this.cleared ? 0 : this.rows.count(this.scope);
    return this.counted + this.delta;
  }

  /** Every (key, value): the rows on disk in key order, then the ones changed since the last save. */
  *entries(): Generator<[string, V]> {
    if (!this.cleared)
      for (const r of this.rows.all(this.scope)) {
        if (this.dirty.has(r.key)) continue;
        const cached = this.cache.get(r.key);
        yield [r.key, cached !== undefined && cached !== ABSENT ? cached : this.codec.decode(r.value, r.key)];
      }
    for (const key of [...this.dirty]) {
      const v = this.cache.get(key);
      if (v !== undefined && v !== ABSENT) yield [key, v];
    }
  }

  *keys(): Generator<string> {
    if (!this.cleared) for (const key of this.rows.allKeys(this.scope)) if (!this.dirty.has(key)) yield key;
    for (const key of [...this.dirty]) {
      const v = this.cache.get(key);
      if (v !== undefined && v !== ABSENT) yield key;
    }
  }

  *values(): Generator<V> {
    for (const [, v] of this.entries()) yield v;
  }

  [Symbol.iterator](): Generator<[string, V]> {
    return this.entries();
  }

  get changed(): boolean {
    return this.cleared || this.dirty.size > 0;
  }

  get unsaved(): number {
    return this.dirty.size;
  }

  write(): void {
    if (this.cleared || this.delta !== 0) this.rows.setCount(this.scope, this.size);
    if (this.cleared) this.rows.clear.run(this.scope);
    for (const key of this.dirty) {
      const v = this.cache.get(key) as Known<V>;
      if (v === ABSENT) this.rows.drop.run(this.scope, key);
      else this.rows.put.run(this.scope, key, this.codec.encode(v));
    }
  }

  committed(): void {
    if (this.counted !== undefined) this.counted += this.delta;
    this.delta = 0;
    this.cleared = false;
    this.dirty.clear();
    if (this.cache.size > CACHED) this.cache.clear();
  }

  forget(): void {
    this.cache.clear();
    this.dirty.clear();
    this.cleared = false;
    this.counted = undefined;
    this.delta = 0;
  }
}

const PRESENT = { encode: (): number => 1, decode: (): 1 => 1 } satisfies RowCodec<1>;

/** A KeySet over a DiskTable whose rows only say that a key is there. */
export class DiskKeySet implements KeySet, Saved {
  private readonly table: DiskTable<1>;

  constructor(rows: Rows, scope: string) {
    this.table = new DiskTable(rows, scope, PRESENT);
  }

  add(key: string): this {
    this.table.set(key, 1);
    return this;
  }

  has(key: string): boolean {
    return this.table.has(key);
  }

  delete(key: string): boolean {
    return this.table.delete(key);
  }

  get size(): number {
    return this.table.size;
  }

  [Symbol.iterator](): Generator<string> {
    return this.table.keys();
  }

  get changed(): boolean {
    return this.table.changed;
  }

  get unsaved(): number {
    return this.table.unsaved;
  }

  write(): void {
    this.table.write();
  }

  committed(): void {
    this.table.committed();
  }

  forget(): void {
    this.table.forget();
  }
}

/** A Relation over an SQL table whose scope is `a` and key `b`; changes are kept per pair. */
export class DiskRelation implements Relation, Saved {
  /** a → b → whether the pair was added (true) or deleted (false) since the last save */
  private readonly changes = new Map<string, Map<string, boolean>>();
  /** how many pairs `changes` holds */
  unsaved = 0;

  constructor(private readonly rows: Rows) {}

  private change(a: string, b: string, related: boolean): void {
    let m = this.changes.get(a);
    if (m === undefined) this.changes.set(a, (m = new Map<string, boolean>()));
    if (!m.has(b)) this.unsaved++;
    m.set(b, related);
  }

  add(a: string, b: string): void {
    this.change(a, b, true);
  }

  delete(a: string, b: string): void {
    this.change(a, b, false);
  }

  of(a: string): readonly string[] {
    const m = this.changes.get(a);
    const out = new Set<string>();
    for (const r of this.rows.all(a)) if (m?.get(r.key) !== false) out.add(r.key);
    for (const [b, related] of m ?? []) if (related) out.add(b);
    return [...out];
  }

  get changed(): boolean {
    return this.changes.size > 0;
  }

  write(): void {
    for (const [a, m] of this.changes)
      for (const [b, related] of m) {
        if (related) this.rows.put.run(a, b, 1);
        else this.rows.drop.run(a, b);
      }
  }

  committed(): void {
    this.changes.clear();
    this.unsaved = 0;
  }

  forget(): void {
    this.changes.clear();
    this.unsaved = 0;
  }
}
