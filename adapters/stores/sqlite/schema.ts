// The SQLite store's on-disk layout, its versioning and the statements over it: creates the schema
// in a fresh file and refuses a file written by a newer syncline instead of guessing at its layout.
import * as E from 'fp-ts/lib/Either.js';
import type BetterSqlite3 from 'better-sqlite3';
import type { StoreError } from '../../../engine/ports.js';
import { switchToWal } from '../../walMode.js';
import { durabilityOf, synchronousFor, type Durability } from './durability.js';

/** Bumped whenever the layout changes; stored in PRAGMA user_version. */
export const SCHEMA_VERSION = 3;

export type SchemaRefusal = { readonly _tag: 'StoreUnavailable'; readonly message: string };

/*
 * position is the rowid: without AUTOINCREMENT SQLite assigns max(rowid) + 1, which only grows
 * because events are never deleted. The (stream, revision) index serves readStream and stream heads
 * (a stream's head is one index seek, so no separate heads table has to be kept in step); the
 * `streams` view exists for people inspecting a store with the sqlite3 shell.
 */
const SCHEMA_V1 = `
  CREATE TABLE events (
    position    INTEGER PRIMARY KEY,
    stream      TEXT    NOT NULL,
    revision    INTEGER NOT NULL,
    id          TEXT    NOT NULL UNIQUE,
    type        TEXT    NOT NULL,
    data        TEXT    NOT NULL,
    occurred_at TEXT    NOT NULL,
    recorded_at TEXT    NOT NULL
  );
  CREATE UNIQUE INDEX events_by_stream ON events (stream, revision);
  CREATE VIEW streams AS
    SELECT stream, max(revision) AS revision, count(*) AS events FROM events GROUP BY stream;
  CREATE TABLE event_tags (
    tag      TEXT    NOT NULL,
    position INTEGER NOT NULL,
    PRIMARY KEY (tag, position)
  ) WITHOUT ROWID;
  CREATE TABLE checkpoints (
    name  TEXT    PRIMARY KEY,
    value INTEGER NOT NULL
  ) WITHOUT ROWID;
`;

/*
 * Version 2 held snapshots of the projections in two tables; version 3 keeps the engine's state in a
 * file of its own beside the store (adapters/state/), and drops them from a store that has them.
 */
const DROP_SNAPSHOTS = `
  DROP TABLE IF EXISTS snapshot_parts;
  DROP TABLE IF EXISTS snapshots;
`;

const tooNew = (path: string, version: number): SchemaRefusal => ({
  _tag: 'StoreUnavailable',
  message:
    `the SQLite store at ${path} has schema version ${version}, but this syncline understands ` +
    `versions up to ${SCHEMA_VERSION}; it was written by a newer syncline — upgrade syncline to use it`,
});

const versionOf = (db: BetterSqlite3.Database): number =>
  db.pragma('user_version', { simple: true }) as number;

const refusal = (message: string): SchemaRefusal => ({ _tag: 'StoreUnavailable', message });

/**
 * Brings `db` to SCHEMA_VERSION. The version is checked before anything is written (switching to
 * WAL already changes the file), and again inside the write lock because another process may be
 * creating the schema at the same moment. A file without the schema is a store only if it holds
 * nothing and `create` says a store may be created (apply and ingest): a command that only reads
 * never turns a file into a store, and no command writes its tables into another program's database.
 */
export const prepareSchema = (
  db: BetterSqlite3.Database,
  path: string,
  create: boolean,
  /** runs a transaction once the write lock is free, or gives up (see writeLock.ts) */
  locked: <A>(transaction: () => A) => E.Either<StoreError, A>,
  durability: Durability = durabilityOf(process.env),
): E.Either<SchemaRefusal, void> => {
  // One statement, so one read of the file: another process creating the schema between two reads
  // would make a store it just created look like another program's database.
  const [found, objects] = db
    .prepare('SELECT (SELECT user_version FROM pragma_user_version), (SELECT count(*) FROM sqlite_master)')
    .raw()
    .get() as [number, number];
  if (found > SCHEMA_VERSION) return E.left(tooNew(path, found));
  if (found === 0 && objects > 0)
    return E.left(
      refusal(
        `${path} is a SQLite database, but not a syncline store (it holds tables of its own); ` +
          'point --store at a syncline store, or at a new file',
      ),
    );
  if (found === 0 && !create)
    return E.left(
      refusal(
        `${path} is empty, not a syncline store: record a configuration with \`syncline apply\` and ` +
          'events with `syncline ingest` to make it one, or point --store at an existing store',
      ),
    );
  // An existing store is already in WAL mode: asking again would wait for a writer's lock, and a
  // reader (status, log) must open while an ingest or a sync holds it.
  if (found === 0) {
    // Set while the file is empty (it cannot change afterwards in WAL mode): a sync records each
    // batch's decisions as one event of a few hundred KiB, and 16 KiB pages store such an event in a
    // quarter of the overflow pages, a third faster to append than SQLite's default 4 KiB.
    db.pragma('page_size = 16384');
    switchToWal(db);
  }
  db.pragma(`synchronous = ${synchronousFor(durability)}`);
  // Only a new or older file needs the write lock, to create or extend the schema exactly once.
  if (found === SCHEMA_VERSION) return E.right(undefined);
  const prepared = locked(() =>
    db
      .transaction((): E.Either<SchemaRefusal, void> => {
        const version = versionOf(db);
        if (version > SCHEMA_VERSION) return E.left(tooNew(path, version));
        if (version === 0) db.exec(SCHEMA_V1);
        else if (version < 3) db.exec(DROP_SNAPSHOTS);
        if (version < SCHEMA_VERSION) db.pragma(`user_version = ${SCHEMA_VERSION}`);
        return E.right(undefined);
      })
      .immediate(),
  );
  if (E.isRight(prepared)) return prepared.right;
  return E.left(refusal('message' in prepared.left ? prepared.left.message : prepared.left._tag));
};

/**
 * The columns every read returns, in EventRow's order (../eventRows.ts): the reads are raw, so each
 * row is an array. better-sqlite3 builds a row object property by property, and reading 190,000
 * events as objects takes 1.1 s where the same rows as arrays take 0.6 s (building the event from the
 * array in JavaScript costs little): every command in a new process starts by reading the whole store.
 */
const COLUMNS = 'position, stream, revision, id, type, data, occurred_at, recorded_at';

/** Most pieces one insert takes (see jsonPieces.ts); an event cut in more is joined before binding. */
export const MAX_PIECES = 128;

/**
 * The insert, with the event's data bound as `pieces` parameters that SQLite joins (`? || ? || …`),
 * prepared once per number of pieces.
 */
export const insertsInPieces = (
  db: BetterSqlite3.Database,
): ((pieces: number) => BetterSqlite3.Statement) => {
  const prepared = new Map<number, BetterSqlite3.Statement>();
  return (pieces) => {
    let statement = prepared.get(pieces);
    if (statement === undefined) {
      const data = Array.from({ length: pieces }, () => '?').join(' || ');
      statement = db.prepare(
        `INSERT INTO events (stream, revision, id, type, data, occurred_at, recorded_at)
         VALUES (?, ?, ?, ?, ${data}, ?, ?) ON CONFLICT (id) DO NOTHING`,
      );
      prepared.set(pieces, statement);
    }
    return statement;
  };
};

/** Prepared once per connection: preparing per call would dominate the cost of small appends and reads. */
type StatementName =
  | 'begin'
  | 'commit'
  | 'rollback'
  | 'insert'
  | 'tag'
  | 'tags'
  | 'readTagged'
  | 'streamRevision'
  | 'streamRevisions'
  | 'head'
  | 'readAll'
  | 'readAllLeavingOut'
  | 'readStream'
  | 'knownIds'
  | 'readByIds'
  | 'checkpoint'
  | 'createCheckpoint'
  | 'moveCheckpoint';

export const statementsOn = (
  db: BetterSqlite3.Database,
): Readonly<Record<StatementName, BetterSqlite3.Statement>> => ({
  begin: db.prepare('BEGIN IMMEDIATE'),
  commit: db.prepare('COMMIT'),
  rollback: db.prepare('ROLLBACK'),
  insert: db.prepare(
    `INSERT INTO events (stream, revision, id, type, data, occurred_at, recorded_at)
     VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
  ),
  tag: db.prepare('INSERT OR IGNORE INTO event_tags (tag, position) VALUES (?, ?)'),
  tags: db.prepare('INSERT OR IGNORE INTO event_tags (tag, position) SELECT value, ? FROM json_each(?)'),
  readTagged: db
    .prepare(
      `SELECT ${COLUMNS.split(', ')
        .map((c) => `e.${c}`)
        .join(', ')} FROM event_tags t JOIN events e ON e.position = t.position
     WHERE t.tag = ? AND t.position > ? ORDER BY t.position LIMIT ?`,
    )
    .raw(),
  streamRevision: db
    .prepare('SELECT revision FROM events WHERE stream = ? ORDER BY revision DESC LIMIT 1')
    .pluck(),
  streamRevisions: db.prepare(
    `SELECT value AS stream,
            (SELECT revision FROM events WHERE stream = value ORDER BY revision DESC LIMIT 1) AS revision
     FROM json_each(?)`,
  ),
  head: db.prepare('SELECT coalesce(max(position), 0) FROM events').pluck(),
  readAll: db.prepare(`SELECT ${COLUMNS} FROM events WHERE position > ? ORDER BY position LIMIT ?`).raw(),
  // The prefix is compared as it is (substr, not LIKE, which ignores case and treats _ and % apart).
  readAllLeavingOut: db
    .prepare(
      `SELECT ${COLUMNS} FROM events WHERE position > ? AND substr(stream, 1, length(?)) <> ? ORDER BY position LIMIT ?`,
    )
    .raw(),
  readStream: db
    .prepare(`SELECT ${COLUMNS} FROM events WHERE stream = ? AND revision >= ? ORDER BY revision LIMIT ?`)
    .raw(),
  knownIds: db.prepare('SELECT id FROM events WHERE id IN (SELECT value FROM json_each(?))').pluck(),
  readByIds: db
    .prepare(`SELECT ${COLUMNS} FROM events WHERE id IN (SELECT value FROM json_each(?)) ORDER BY position`)
    .raw(),
  checkpoint: db.prepare('SELECT value FROM checkpoints WHERE name = ?').pluck(),
  createCheckpoint: db.prepare(
    'INSERT INTO checkpoints (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING',
  ),
  moveCheckpoint: db.prepare('UPDATE checkpoints SET value = ? WHERE name = ? AND value = ?'),
});
