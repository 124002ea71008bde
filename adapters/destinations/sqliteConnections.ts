// The connections a shared SQLite destination thread keeps: one per open destination (a lease on
// the thread), opened with its first request and closed when the destination closes.
import type Database from 'better-sqlite3';
import { connect } from './sqliteApply.js';
import type { TableNames } from './sqliteTables.js';

/** Which destination a request is for: `id` is its lease's, unique in the process. */
export type Connection = { readonly id: number; readonly path: string; readonly names: TableNames };

export type Connections<A> = {
  /** The destination's connection and what was built on it, opened now if it is not yet. Throws
   *  what opening throws, and tries again with the next request. */
  readonly of: (c: Connection) => A;
  /** What was built on the destination's connection, if it is open. */
  readonly opened: (c: Connection) => A | undefined;
  /** Closes the destination's connection, if it was opened. */
  readonly release: (c: Connection) => void;
};

/**
 * Keyed by lease, not by path: a file opened by two destinations at once gets a connection each, as
 * it did with a thread each, and closing one leaves the other's open.
 */
export const connections = <A>(build: (db: Database.Database, names: TableNames) => A): Connections<A> => {
  const open = new Map<number, { readonly db: Database.Database; readonly built: A }>();
  return {
    of: (c) => {
      let found = open.get(c.id);
      if (found === undefined) {
        const db = connect(c.path);
        try {
          found = { db, built: build(db, c.names) };
        } catch (e) {
          db.close();
          throw e;
        }
        open.set(c.id, found);
      }
      return found.built;
    },
    opened: (c) => open.get(c.id)?.built,
    release: (c) => {
      const found = open.get(c.id);
      open.delete(c.id);
      if (found?.db.open) found.db.close();
    },
  };
};
