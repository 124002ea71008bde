// Switching a SQLite file to WAL when two processes open it for the first time at the same moment,
// which SQLite refuses one of them at once rather than making it wait; and closing one in WAL mode.
import { statSync } from 'node:fs';
import Database from 'better-sqlite3';

/**
 * Sets `journal_mode = WAL`, asking again while SQLite answers SQLITE_BUSY, for up to `waitMs`.
 * Both processes read the new file's header, then both want its exclusive lock to switch it; the
 * second is refused at once, without the busy handler (waiting could deadlock). By the time it
 * asks again the first has switched the file, and the switch is a no-op. Seen in the two-syncs
 * spec: the losing `sync` failed with "cannot open warehouse.db: database is locked".
 */
export const switchToWal = (db: Database.Database, waitMs = 5000): void => {
  const deadline = Date.now() + waitMs;
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (;;) {
    try {
      db.pragma('journal_mode = WAL');
      return;
    } catch (e) {
      const busy = e instanceof Database.SqliteError && e.code.startsWith('SQLITE_BUSY');
      if (!busy || Date.now() >= deadline) throw e;
      // Opening is synchronous (better-sqlite3), so the wait is too: a few ms, rarely more than once.
      Atomics.wait(pause, 0, 0, 5);
    }
  }
};

/**
 * Closes `db` leaving its write-ahead log for the next process, when the log is under `maxBytes`.
 * SQLite checkpoints when the last connection to a file closes: it copies the log into the file and
 * waits for the disk, 5–15 ms of a short command's end per file. A read-only connection opened
 * first keeps `db` from being the last, and closing last itself cannot checkpoint. The next process
 * to open the file reads the log back (3 ms for 6 MiB, against 28 ms to checkpoint it), and pages
 * written by one command after another are copied into the file once. A larger log is checkpointed
 * as before, so the log stays bounded. Safe whenever a log is: what it holds is committed, and as
 * durable as the commits that wrote it.
 */
export const closeKeepingLog = (db: Database.Database, maxBytes: number): void => {
  const path = db.name;
  let size = 0;
  try {
    size = db.memory || !db.open ? 0 : statSync(`${path}-wal`).size;
  } catch {
    // no log: nothing to keep
  }
  if (size === 0 || size > maxBytes) {
    if (db.open) db.close();
    return;
  }
  let keeper: Database.Database | undefined;
  try {
    keeper = new Database(path, { readonly: true, fileMustExist: true });
    // A read opens the log, which is what makes this connection count.
    keeper.prepare('SELECT 1 FROM sqlite_master LIMIT 1').get();
  } catch {
    // Whatever kept the keeper from opening, closing as SQLite does is always right.
  }
  db.close();
  keeper?.close();
};

/** The log a command leaves behind at most: the next process reads it back in a few milliseconds. */
export const KEPT_LOG_BYTES = 16 * 1024 * 1024;
