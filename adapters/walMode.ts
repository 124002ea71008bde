// Switching a SQLite file to WAL when two processes open it for the first time at the same moment,
// which SQLite refuses one of them at once rather than making it wait.
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
