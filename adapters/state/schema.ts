// The state file's tables: one per projection, each of (scope, key, value) rows, a scope being a
// destination's id or '' for the world; and `meta`, the position the rows hold the state at.
import type { Database } from 'better-sqlite3';

/**
 * Bumped whenever a fold, or how its state is kept, changes: a state file of another format is
 * rebuilt from the event store, which always gives the right state.
 */
export const STATE_FORMAT = 3;

/** Tables of (scope, key, value): the world's, then each destination's by its id. */
export const KEYED = [
  'profiles',
  'groups',
  'members',
  'touches',
  'destinations',
  'entries',
  'owners',
  'claims',
  'failures',
  'retries',
] as const;
export type Keyed = (typeof KEYED)[number];

const keyed = (name: string): string =>
  `CREATE TABLE ${name} (scope TEXT NOT NULL, key TEXT NOT NULL, value ANY, PRIMARY KEY (scope, key)) WITHOUT ROWID, STRICT;`;

export const SCHEMA = [
  `CREATE TABLE meta (name TEXT PRIMARY KEY, value ANY) STRICT;`,
  // How many rows each table holds per scope, kept with the rows: counting a million would take long.
  `CREATE TABLE counts (tbl TEXT NOT NULL, scope TEXT NOT NULL, n INTEGER NOT NULL, PRIMARY KEY (tbl, scope)) WITHOUT ROWID, STRICT;`,
  ...KEYED.map(keyed),
  // `since`: the profiles touched after a position.
  `CREATE INDEX touches_position ON touches (scope, value);`,
  // Pending commands in the order decided (the rowid's), as the ledger settles them.
  `CREATE TABLE pending (seq INTEGER PRIMARY KEY, scope TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,
     UNIQUE (scope, key)) STRICT;`,
];

/** The format of the file's tables, or undefined when it has none (a new file). */
export const formatOf = (db: Database): number | undefined => {
  const meta = db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'meta'`).get();
  if (meta === undefined) return undefined;
  const row = db.prepare(`SELECT value FROM meta WHERE name = 'format'`).get() as
    { value: unknown } | undefined;
  return typeof row?.value === 'number' ? row.value : -1;
};

/** Drops whatever tables the file has and makes this format's, empty, at position 0. Inside a transaction. */
export const recreate = (db: Database): void => {
  const tables = db
    .prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`)
    .all() as { name: string }[];
  for (const { name } of tables) db.exec(`DROP TABLE "${name.replaceAll('"', '""')}"`);
  for (const sql of SCHEMA) db.exec(sql);
  const put = db.prepare(`INSERT INTO meta (name, value) VALUES (?, ?)`);
  put.run('format', STATE_FORMAT);
  put.run('position', 0);
  put.run('eventId', '');
  put.run('token', '');
  put.run('boot', '');
};

/** Empties every table (the rebuild of a file of this format). Inside a transaction. */
export const empty = (db: Database): void => {
  for (const name of [...KEYED, 'pending', 'counts']) db.exec(`DELETE FROM ${name}`);
  db.prepare(`UPDATE meta SET value = ? WHERE name = ?`).run(0, 'position');
  db.prepare(`UPDATE meta SET value = ? WHERE name = ?`).run('', 'eventId');
};
