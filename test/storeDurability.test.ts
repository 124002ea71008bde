// The SQLite store's durability: by default every acknowledged commit is synced to disk (a power cut
// loses nothing recorded); the faster setting that skips those syncs is opt-in only.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { prepareSchema, synchronousOf } from '../adapters/stores/sqliteSchema.js';

/** SQLite's numbers for PRAGMA synchronous. */
const FULL = 2;
const NORMAL = 1;

describe('how the SQLite store commits', () => {
  const dirs: string[] = [];
  const saved = process.env.SYNCLINE_SQLITE_SYNCHRONOUS;
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
    if (saved === undefined) delete process.env.SYNCLINE_SQLITE_SYNCHRONOUS;
    else process.env.SYNCLINE_SQLITE_SYNCHRONOUS = saved;
  });
  const opened = (): Database.Database => {
    const dir = mkdtempSync(join(tmpdir(), 'syncline-durability-'));
    dirs.push(dir);
    const path = join(dir, 'events.db');
    const db = new Database(path);
    expect(prepareSchema(db, path)._tag).toBe('Right');
    return db;
  };
  const synchronous = (db: Database.Database): number => db.pragma('synchronous', { simple: true }) as number;

  it('given no setting, when a store is opened, then its commits are synced to disk before they are acknowledged (FULL)', () => {
    delete process.env.SYNCLINE_SQLITE_SYNCHRONOUS;
    const db = opened();
    expect(synchronous(db)).toBe(FULL);
    db.close();
  });

  it('given SYNCLINE_SQLITE_SYNCHRONOUS=NORMAL, when a store is opened, then it skips the syncs, as asked', () => {
    process.env.SYNCLINE_SQLITE_SYNCHRONOUS = 'normal';
    const db = opened();
    expect(synchronous(db)).toBe(NORMAL);
    db.close();
  });

  it('given any other value, then the store stays durable: only NORMAL opts out', () => {
    expect(['FULL', 'OFF', '', 'yes'].map((v) => synchronousOf({ SYNCLINE_SQLITE_SYNCHRONOUS: v }))).toEqual([
      'FULL',
      'FULL',
      'FULL',
      'FULL',
    ]);
    expect(synchronousOf({})).toBe('FULL');
  });
});
