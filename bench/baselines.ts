// The bare loops syncline is measured against: the least code that does the same I/O with
// better-sqlite3 directly, with no codecs, no decisions and no records of what was done.
import Database from 'better-sqlite3';
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

/** Reads every row in order and parses its data into a Map, as the least a catch-up must do. */
export const bareCatchUp = (dbPath: string): number => {
  const db = new Database(dbPath, { readonly: true });
  const byStream = new Map<string, unknown>();
  let n = 0;
  for (const row of db
    .prepare('SELECT stream, type, data FROM events ORDER BY position')
    .iterate() as Iterable<{
    stream: string;
    data: string;
  }>) {
    byStream.set(row.stream, JSON.parse(row.data));
    n++;
  }
  db.close();
  return n;
};

export type Row = { key: string; fields: Record<string, unknown>; groups: string[] };

/** Writes the same rows and group rows syncline writes, to the same kind of tables, in one transaction. */
export const bareWrite = (dbPath: string, columns: readonly string[], rows: readonly Row[]): number => {
  const db = new Database(dbPath);
  db.pragma('journal_mode = WAL');
  const cols = columns.map((c) => `"${c}"`).join(', ');
  // The tables exactly as the SQLite destination creates them (sqliteTables.ts): a TEXT key, and
  // the groups table WITHOUT ROWID. Until 29 November the groups table here had a rowid and an index
  // besides, which made this loop 5-10% slower than the writes it stands beside.
  db.exec(
    `CREATE TABLE customers (${columns.map((c, i) => `"${c}"${i === 0 ? ' TEXT PRIMARY KEY NOT NULL' : ''}`).join(', ')})`,
  );
  db.exec(
    'CREATE TABLE customers_groups (record_key TEXT NOT NULL, group_name TEXT NOT NULL, ' +
      'PRIMARY KEY (record_key, group_name)) WITHOUT ROWID',
  );
  const insert = db.prepare(`INSERT INTO customers (${cols}) VALUES (${columns.map(() => '?').join(', ')})`);
  const group = db.prepare('INSERT INTO customers_groups (record_key, group_name) VALUES (?, ?)');
  db.exec('BEGIN');
  for (const r of rows) {
    insert.run(...columns.map((c) => (r.fields[c] ?? null) as string | number | null));
    for (const g of r.groups) group.run(r.key, g);
  }
  db.exec('COMMIT');
  db.close();
  return rows.length;
};
