// Snapshots in the SQLite store: kept in the same file as the events they were folded from, written
// in short transactions and made visible in one, in place of the older ones; read a page at a time.
import { randomInt } from 'node:crypto';
import type BetterSqlite3 from 'better-sqlite3';
import * as E from 'fp-ts/lib/Either.js';
import type { TaskEither } from 'fp-ts/lib/TaskEither.js';
import type { Snapshots, StoreError } from '../../../engine/ports.js';
import { BUSY } from './writeLock.js';

/** Parts read per query: parts are about a megabyte each (see engine/state/snapshot.ts). */
const PARTS_PER_PAGE = 8;

/**
 * Parts written per transaction, by size: a snapshot of a million profiles is about 270 MB, and
 * writing it in one transaction held the store's write lock for seconds, longer than another
 * process's sync waits for it (busy_timeout) before giving up.
 */
const BYTES_PER_TRANSACTION = 32 * 1024 * 1024;

type SnapshotRow = { id: number; format: number; position: number; event_id: string; taken_at: string };

/**
 * `guarded` runs the work as the store runs its own writes (closed store and environmental failures
 * as values); `written` is told how many bytes went in, for the store's background checkpoints.
 */
export const sqliteSnapshots = (
  db: BetterSqlite3.Database,
  guarded: <A>(work: () => E.Either<StoreError, A>) => TaskEither<StoreError, A>,
  written: (bytes: number) => void,
  /** runs a transaction once the write lock is free, or answers BUSY when it gives up waiting */
  locked: <A>(transaction: () => A) => A | typeof BUSY,
): Snapshots => {
  // Ids are random (see keep), so the newest is found by position, then by the time it was taken.
  const newest = db.prepare(
    `SELECT id, format, position, event_id, taken_at FROM snapshots WHERE format = ?
     ORDER BY position DESC, taken_at DESC LIMIT 1`,
  );
  const partsFrom = db
    .prepare('SELECT seq, body FROM snapshot_parts WHERE snapshot = ? AND seq >= ? ORDER BY seq LIMIT ?')
    .raw();
  const insertPart = db.prepare('INSERT INTO snapshot_parts (snapshot, seq, body) VALUES (?, ?, ?)');
  const partsWritten = db.prepare('SELECT count(*) FROM snapshot_parts WHERE snapshot = ?').pluck();
  const older = db.prepare('DELETE FROM snapshots WHERE format = ?');
  // Parts of no snapshot: of a replaced one, of a keep that died half-way, or of one being written
  // by another process right now (which then finds its parts missing and gives up).
  const orphans = db.prepare('DELETE FROM snapshot_parts WHERE snapshot NOT IN (SELECT id FROM snapshots)');
  const insert = db.prepare(
    'INSERT INTO snapshots (id, format, position, event_id, taken_at) VALUES (?, ?, ?, ?, ?)',
  );

  /*
   * The page is read in a statement of its own and handed on afterwards, so the connection is free
   * between pages. A snapshot being replaced meanwhile (another process keeping a newer one) ends the
   * parts early; the reader finds the snapshot incomplete by its own count and folds from the start.
   * A page SQLite fails to read (a damaged file, a closed store) ends them with the failure.
   */
  async function* partsOf(id: number): AsyncIterable<E.Either<StoreError, string>> {
    for (let seq = 0; ;) {
      // Awaited as the events' pages are (see paged): the reader lets other work in between pages.
      const page = await guarded(() =>
        E.right(partsFrom.all(id, seq, PARTS_PER_PAGE) as [number, string][]),
      )();
      if (E.isLeft(page)) {
        yield page;
        return;
      }
      for (const [at, body] of page.right) {
        if (at !== seq) return;
        seq++;
        yield E.right(body);
      }
      if (page.right.length < PARTS_PER_PAGE) return;
    }
  }

  return {
    latest: (format) =>
      guarded(() => {
        const row = newest.get(format) as SnapshotRow | undefined;
        if (row === undefined) return E.right(null);
        return E.right({
          format: row.format,
          position: row.position,
          eventId: row.event_id,
          takenAt: row.taken_at,
          parts: () => partsOf(row.id),
        });
      }),
    /*
     * The parts go in first, a few dozen megabytes per transaction, under an id no snapshot has yet;
     * then one short transaction checks they are all there, drops the older snapshots of the format
     * and the parts left without a snapshot, and adds the snapshot's row, which makes it visible.
     */
    keep: ({ format, position, eventId, parts }) =>
      guarded(() => {
        const id = randomInt(1, 2 ** 48);
        let seq = 0;
        let bytes = 0;
        let batch: string[] = [];
        let batchBytes = 0;
        const write = db.transaction((from: number, bodies: readonly string[]) => {
          for (let i = 0; i < bodies.length; i++) insertPart.run(id, from + i, bodies[i]);
        });
        // Parts written before the store got busy are left to the next keep, which sweeps them.
        const flush = (): boolean => {
          if (locked(() => write.immediate(seq, batch)) === BUSY) return false;
          seq += batch.length;
          bytes += batchBytes;
          batch = [];
          batchBytes = 0;
          return true;
        };
        for (const body of parts) {
          batch.push(body);
          batchBytes += body.length;
          if (batchBytes >= BYTES_PER_TRANSACTION && !flush()) return E.right(false);
        }
        if (!flush()) return E.right(false);
        const shown = locked(() =>
          db
            .transaction((): boolean => {
              if (partsWritten.get(id) !== seq) return false;
              older.run(format);
              insert.run(id, format, position, eventId, new Date().toISOString());
              orphans.run();
              return true;
            })
            .immediate(),
        );
        if (shown === BUSY) return E.right(false);
        written(bytes);
        // Not shown: another process kept one meanwhile and swept these parts away; its snapshot stands.
        return E.right(shown);
      }),
  };
};
