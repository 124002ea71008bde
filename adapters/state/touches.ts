// Which profiles changed after a position, on disk: the last position each profile was touched at,
// indexed by position, so a run finds what changed since its last one without reading the rest.
import type { Database, Statement } from 'better-sqlite3';
import type { Touches } from '../../engine/state/engineState.js';
import type { Saved } from './tables.js';

/*
 * The log in memory keeps every (position, profile); only the last position per profile is kept
 * here, which answers `since` the same (a profile touched after p is one whose last touch is after
 * p) in a row per profile rather than per event.
 */
export class DiskTouches implements Touches, Saved {
  /** profile → its last touch since the last save: always later than the one on disk */
  private readonly changes = new Map<string, number>();
  private readonly after: Statement<[number], { key: string }>;
  private readonly countAfter: Statement<[number], number>;
  private readonly at: Statement<[string], number>;
  private readonly put: Statement<[string, number]>;

  constructor(db: Database) {
    this.after = db.prepare(`SELECT key FROM touches WHERE scope = '' AND value > ?`);
    this.countAfter = db
      .prepare(`SELECT count(*) FROM touches WHERE scope = '' AND value > ?`)
      .pluck() as Statement<[number], number>;
    this.at = db.prepare(`SELECT value FROM touches WHERE scope = '' AND key = ?`).pluck() as Statement<
      [string],
      number
    >;
    this.put = db.prepare(
      `INSERT INTO touches (scope, key, value) VALUES ('', ?, ?)
       ON CONFLICT (scope, key) DO UPDATE SET value = excluded.value`,
    );
  }

  add(position: number, profileId: string): void {
    this.changes.set(profileId, position);
  }

  since(position: number): Set<string> {
    const out = new Set<string>();
    for (const r of this.after.iterate(position)) out.add(r.key);
    for (const [profileId, at] of this.changes) if (at > position) out.add(profileId);
    return out;
  }

  /** Counted on disk, plus the profiles touched since the last save that the disk does not count. */
  countSince(position: number): number {
    let n = this.countAfter.get(position) ?? 0;
    for (const [profileId, at] of this.changes) {
      if (at <= position) continue;
      const saved = this.at.get(profileId);
      if (saved === undefined || saved <= position) n++;
    }
    return n;
  }

  get changed(): boolean {
    return this.changes.size > 0;
  }

  get unsaved(): number {
    return this.changes.size;
  }

  write(): void {
    for (const [profileId, at] of this.changes) this.put.run(profileId, at);
  }

  committed(): void {
    this.changes.clear();
  }

  forget(): void {
    this.changes.clear();
  }
}
