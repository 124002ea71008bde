// The bare loops syncline is measured against: the least code that does the same I/O with
// better-sqlite3 directly, with no codecs, no decisions and no records of what was done.
import Database from 'better-sqlite3';
import * as E from 'fp-ts/lib/Either.js';
import { checkTables, ident, type TableNames } from '../adapters/destinations/sqlite/tables.js';
import { streamOf, type InputEvent } from '../domain/events.js';
import { linesOf } from './fixtures.js';

/** Reads the JSONL file and inserts every event as a row of an events table, in one transaction. */
export const bareIngest = async (file: string, dbPath: string): Promise<number> => {
  const db = new Database(dbPath);
  db.pragma('journal_mode = WAL');
  db.exec(`CREATE TABLE events (position INTEGER PRIMARY KEY, stream TEXT NOT NULL, revision INTEGER NOT NULL,
    id TEXT NOT NULL UNIQUE, type TEXT NOT NULL, data TEXT NOT NULL, occurred_at TEXT NOT NULL, recorded_at TEXT NOT NULL,
    UNIQUE (stream, revision))`);
  const insert = db.prepare(
    'INSERT INTO events (stream, revision, id, type, data, occurred_at, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
  );
  const revisions = new Map<string, number>();
  const now = new Date().toISOString();
  let n = 0;
  db.exec('BEGIN');
  for await (const line of linesOf(file)) {
    if (line === '') continue;
    const e = JSON.parse(line) as InputEvent;
    const stream = streamOf(e);
    const revision = (revisions.get(stream) ?? -1) + 1;
    revisions.set(stream, revision);
    insert.run(stream, revision, crypto.randomUUID(), e.type, JSON.stringify(e.data), now, now);
    n++;
  }
  db.exec('COMMIT');
  db.close();
  return n;
};

/**
 * Reads every row in order and parses its data into a Map, as the least a catch-up must do. Rows
 * come as arrays, as the store reads them (13% faster here than as objects).
 */
export const bareCatchUp = (dbPath: string): number => {
  const db = new Database(dbPath, { readonly: true });
  const byStream = new Map<string, unknown>();
  let n = 0;
  for (const [stream, , data] of db
    .prepare('SELECT stream, type, data FROM events ORDER BY position')
    .raw()
    .iterate() as Iterable<[string, string, string]>) {
    byStream.set(stream, JSON.parse(data));
    n++;
  }
  db.close();
  return n;
};

export type Row = { key: string; fields: Record<string, unknown>; groups: string[] };

/**
 * Writes the same rows and group rows syncline writes, to the same tables, in one transaction. The
 * tables are created by the SQLite destination's own code (checkTables), so they cannot drift
 * apart: a copy written out here could differ (a groups table with a rowid and an index besides the
 * destination's WITHOUT ROWID one makes this loop 5-10% slower, and the ratio look worse than it is).
 */
export const bareWrite = (dbPath: string, names: TableNames, rows: readonly Row[]): number => {
  const db = new Database(dbPath);
  db.pragma('journal_mode = WAL');
  if (E.isLeft(checkTables(db, names, true))) throw new Error(`cannot create the tables in ${dbPath}`);
  const columns = [names.keyField, ...names.fields.filter((f) => f !== names.keyField)];
  const insert = db.prepare(
    `INSERT INTO ${ident(names.table)} (${columns.map(ident).join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`,
  );
  const group = db.prepare(`INSERT INTO ${ident(names.groupsTable)} (record_key, group_name) VALUES (?, ?)`);
  db.exec('BEGIN');
  for (const r of rows) {
    insert.run(...columns.map((c) => (r.fields[c] ?? null) as string | number | null));
    for (const g of r.groups) group.run(r.key, g);
  }
  db.exec('COMMIT');
  db.close();
  return rows.length;
};
