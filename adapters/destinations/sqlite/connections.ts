// The connections a shared SQLite destination thread keeps: one per open destination (a lease on
// the thread), opened with its first request and closed when the destination closes.
import { statSync } from 'node:fs';
import type Database from 'better-sqlite3';
import * as E from 'fp-ts/lib/Either.js';
import type { DestinationError } from '../../../engine/ports.js';
import { connect } from './apply.js';
import { openMessage, type Place } from './errors.js';
import type { TableNames } from './tables.js';

/**
 * Which destination a request is for: `id` is its lease's, unique in the process; `place` says how
 * its messages name the file (the path is `place.file`).
 */
export type Connection = { readonly id: number; readonly place: Place; readonly names: TableNames };

export type Connections<A> = {
  /** What was built on the destination's connection, opened now if it is not yet; if it cannot be,
   *  why (SQLite's own failures are thrown, for `guarded`), and the next request tries again. With
   *  `absent`, a file that does not exist is not created: `absent` answers, and nothing is kept. */
  readonly of: (c: Connection) => E.Either<DestinationError, A>;
  /** What was built on the destination's connection, if it is open. */
  readonly opened: (c: Connection) => A | undefined;
  /** Closes the destination's connection, if it was opened. */
  readonly release: (c: Connection) => void;
};

/**
 * A failure to open that is not SQLite's (the file's directory gone or unreadable, say) is this
 * destination's alone: thrown, it would end the thread every destination of the process shares.
 *
 * Keyed by lease, not by path: a file opened by two destinations at once gets a connection each, as
 * it did with a thread each, and closing one leaves the other's open.
 */
export const connections = <A>(
  build: (db: Database.Database, names: TableNames, place: Place) => A,
  absent?: A,
): Connections<A> => {
  const open = new Map<number, { readonly db: Database.Database; readonly built: A }>();
  return {
    of: (c) => {
      let found = open.get(c.id);
      if (found === undefined) {
        let db: Database.Database;
        try {
          // Only a missing file is absent: a path through a file, say, fails as it would to open.
          if (absent !== undefined && statSync(c.place.file, { throwIfNoEntry: false }) === undefined)
            return E.right(absent);
          db = connect(c.place.file);
        } catch (e) {
          // SQLite's failures are guarded's to sort; a system call's are the environment's; others are bugs.
          if (!(e instanceof Error) || !('syscall' in e)) throw e;
          return E.left({
            _tag: 'DestinationUnavailable',
            message: openMessage(e, c.place),
            retryable: false,
          });
        }
        try {
          found = { db, built: build(db, c.names, c.place) };
        } catch (e) {
          db.close();
          throw e;
        }
        open.set(c.id, found);
      }
      return E.right(found.built);
    },
    opened: (c) => open.get(c.id)?.built,
    release: (c) => {
      const found = open.get(c.id);
      open.delete(c.id);
      if (found?.db.open) found.db.close();
    },
  };
};
