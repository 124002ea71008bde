// The worker thread SQLite destinations apply commands on, shared by every destination of the process
// with a connection each, so that writing one batch does not block the thread deciding and recording
// the next (see destination.ts).
import { getPriority, setPriority } from 'node:os';
import type Database from 'better-sqlite3';
import * as E from 'fp-ts/lib/Either.js';
import type { DestinationError } from '../../../engine/ports.js';
import { serve } from '../../thread.js';
import { applierOn, checkpoint, guarded } from './apply.js';
import { connections, type Connection } from './connections.js';
import type { Wire, WireFailure } from './wire.js';

/** A batch to apply, as the JSON of a Wire (V8 reads what JSON.parse builds faster than structured
 *  clone's); the end of a run: time to checkpoint; or the destination has closed: its connection goes. */
export type ApplyRequest = { readonly connection: Connection } & (
  { readonly apply: string } | { readonly checkpoint: true } | { readonly release: true }
);
export type ApplyResponse = E.Either<DestinationError, WireFailure[]>;

/**
 * The thread deciding and recording a sync is its critical path: it has work for a core all the time,
 * and every millisecond it waits for one is a millisecond of the run. On two cores it shares them
 * with this writer, the reader and V8's collectors, so the writer yields first: at niceness 10 a
 * first sync of 100k takes 3–4% less time (median of 16 in alternating processes), and a sync of 1%
 * changes, whose end waits for the writer, no longer. The reader is left as it is: its lookups are
 * waited for, and niced too it makes that sync 10% slower. Only on Linux, where a
 * thread's niceness is its own; elsewhere it would be the whole process's. Never lowered below where
 * it stands: only a privileged user could.
 */
const WRITER_NICENESS = 10;
if (process.platform === 'linux') {
  try {
    if (getPriority() < WRITER_NICENESS) setPriority(WRITER_NICENESS);
  } catch {
    // Not allowed here (a sandbox): the writer runs as any thread does.
  }
}

const open = connections((db: Database.Database, names, place) => ({
  db,
  apply: applierOn(db, names, place),
}));
// A connection opens with its destination's first batch, so that a SQLite failure to open answers it
// as a DestinationError (and the next request tries again). A checkpoint before any batch has nothing
// to do.
serve<ApplyRequest, ApplyResponse>('the SQLite destination applier', (request) =>
  guarded(() => {
    if ('release' in request) open.release(request.connection);
    else if ('checkpoint' in request) {
      const opened = open.opened(request.connection);
      if (opened !== undefined) checkpoint(opened.db);
    } else
      return E.flatMap(open.of(request.connection), ({ apply }) => apply(JSON.parse(request.apply) as Wire));
    return E.right([]);
  }, request.connection.place),
);
