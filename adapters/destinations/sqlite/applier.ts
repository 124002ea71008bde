// How SQLite destinations apply commands, with a connection each: on the worker thread the process's
// destinations share (applierThread.ts), or on the caller's for a short run (see destination.ts).
import type Database from 'better-sqlite3';
import * as E from 'fp-ts/lib/Either.js';
import type { DestinationError } from '../../../engine/ports.js';
import { applierOn, checkpoint, guarded } from './apply.js';
import { connections, type Connection } from './connections.js';
import type { Wire, WireFailure } from './wire.js';

/** A batch to apply, as the JSON of a Wire (V8 reads what JSON.parse builds faster than structured
 *  clone's); the end of a run: time to checkpoint; or the destination has closed: its connection goes. */
export type ApplyRequest = { readonly connection: Connection } & (
  { readonly apply: string } | { readonly checkpoint: true } | { readonly release: true }
);
export type ApplyResponse = E.Either<DestinationError, WireFailure[]>;

const open = connections((db: Database.Database, names, place) => ({
  db,
  apply: applierOn(db, names, place),
}));
/**
 * The answer to a request, on whatever thread this module runs: the apply thread (applierThread.ts),
 * or the caller's for a short run (see destination.ts). A connection opens with its destination's
 * first batch, so that a SQLite failure to open answers it as a DestinationError (and the next
 * request tries again). A checkpoint before any batch has nothing to do.
 */
export const answerApply = (request: ApplyRequest): ApplyResponse =>
  guarded(() => {
    if ('release' in request) open.release(request.connection);
    else if ('checkpoint' in request) {
      const opened = open.opened(request.connection);
      if (opened !== undefined) checkpoint(opened.db);
    } else
      return E.flatMap(open.of(request.connection), ({ apply }) => apply(JSON.parse(request.apply) as Wire));
    return E.right([]);
  }, request.connection.place);
