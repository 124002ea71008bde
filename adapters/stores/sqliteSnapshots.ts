// Snapshots in the SQLite store: kept in the same file as the events they were folded from, written
// in one transaction in place of the older ones, and read back a page of parts at a time.
import type BetterSqlite3 from 'better-sqlite3';
import * as E from 'fp-ts/lib/Either.js';
import type { TaskEither } from 'fp-ts/lib/TaskEither.js';
import type { Snapshots, StoreError } from '../../engine/ports.js';

/** Parts read per query: parts are about a megabyte each (see engine/snapshot.ts). */
const PARTS_PER_PAGE = 8;

type SnapshotRow = { id: number; format: number; position: number; event_id: string; taken_at: string };

/**
 * `guarded` runs the work as the store runs its own writes (closed store and environmental failures
 * as values); `written` is told how many bytes went in, for the store's background checkpoints.
 */
export const sqliteSnapshots = (
  db: BetterSqlite3.Database,
  guarded: <A>(work: () => E.Either<StoreError, A>) => TaskEither<StoreError, A>,
  written: (bytes: number) => void,
): Snapshots => {
  const newest = db.prepare(
    'SELECT id, format, position, event_id, taken_at FROM snapshots WHERE format = ? ORDER BY id DESC LIMIT 1',
  );
  const partsFrom = db
    .prepare('SELECT seq, body FROM snapshot_parts WHERE snapshot = ? AND seq >= ? ORDER BY seq LIMIT ?')
    .raw();
  const olderParts = db.prepare(
    'DELETE FROM snapshot_parts WHERE snapshot IN (SELECT id FROM snapshots WHERE format = ?)',
  );
  const older = db.prepare('DELETE FROM snapshots WHERE format = ?');
  const insert = db.prepare(
    'INSERT INTO snapshots (format, position, event_id, taken_at) VALUES (?, ?, ?, ?)',
  );
  const insertPart = db.prepare('INSERT INTO snapshot_parts (snapshot, seq, body) VALUES (?, ?, ?)');

  /*
   * The page is read in a statement of its own and handed on afterwards, so the connection is free
   * between pages. A snapshot being replaced meanwhile (another process keeping a newer one) ends the
   * parts early; the reader finds the snapshot incomplete by its own count and folds from the start.
   */
  async function* partsOf(id: number): AsyncIterable<string> {
    for (let seq = 0; ;) {
      if (!db.open) return;
      // Awaited as the events' pages are (see paged): the reader lets other work in between pages.
      const page = await Promise.resolve(partsFrom.all(id, seq, PARTS_PER_PAGE) as [number, string][]);
      for (const [at, body] of page) {
        if (at !== seq) return;
        seq++;
        yield body;
      }
      if (page.length < PARTS_PER_PAGE) return;
    }
  }

  return {
    latest: (format) =>
      Promise.resolve().then(() => {
        if (!db.open) return null;
        const row = newest.get(format) as SnapshotRow | undefined;
        if (row === undefined) return null;
        return {
          format: row.format,
          position: row.position,
          eventId: row.event_id,
          takenAt: row.taken_at,
          parts: () => partsOf(row.id),
        };
      }),
    keep: ({ format, position, eventId, parts }) =>
      guarded(() => {
        let bytes = 0;
        db.transaction(() => {
          olderParts.run(format);
          older.run(format);
          const id = insert.run(format, position, eventId, new Date().toISOString()).lastInsertRowid;
          let seq = 0;
          for (const body of parts) {
            insertPart.run(id, seq++, body);
            bytes += body.length;
          }
        }).immediate();
        written(bytes);
        return E.right(undefined);
      }),
  };
};
