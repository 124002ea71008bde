// The worker thread SQLite destinations apply commands on, shared by every destination of the process
// with a connection each, so that writing one batch does not block the thread deciding and recording
// the next (see sqlite.ts).
import type Database from 'better-sqlite3';
import * as E from 'fp-ts/lib/Either.js';
import type { DestinationError } from '../../engine/ports.js';
import { serve } from '../thread.js';
import { applierOn, checkpoint, guarded } from './sqliteApply.js';
import { connections, type Connection } from './sqliteConnections.js';
import type { Wire, WireFailure } from './sqliteWire.js';

/** A batch to apply, as the JSON of a Wire (V8 reads what JSON.parse builds faster than structured
 *  clone's); the end of a run: time to checkpoint; or the destination has closed: its connection goes. */
export type ApplyRequest = { readonly connection: Connection } & (
  { readonly apply: string } | { readonly checkpoint: true } | { readonly release: true }
);
export type ApplyResponse = E.Either<DestinationError, WireFailure[]>;

const open = connections((db: Database.Database, names) => ({ db, apply: applierOn(db, names) }));
// A connection opens with its destination's first batch, so that a SQLite failure to open answers it
// as a DestinationError (and the next request tries again). A checkpoint before any batch has nothing
// to do.
serve<ApplyRequest, ApplyResponse>('sqliteApplier.js', (request) =>
  guarded(() => {
    if ('release' in request) open.release(request.connection);
    else if ('checkpoint' in request) {
      const opened = open.opened(request.connection);
      if (opened !== undefined) checkpoint(opened.db);
    } else return open.of(request.connection).apply(JSON.parse(request.apply) as Wire);
    return E.right([]);
  }),
);
