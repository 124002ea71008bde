// The worker thread the SQLite destination applies commands on, with a connection of its own, so
// that writing one batch does not block the thread deciding and recording the next (see sqlite.ts).
import { workerData } from 'node:worker_threads';
import type Database from 'better-sqlite3';
import * as E from 'fp-ts/lib/Either.js';
import type { DestinationError } from '../../engine/ports.js';
import { serve } from '../thread.js';
import { applierOn, checkpoint, connect, guarded, type Apply } from './sqliteApply.js';
import type { TableNames } from './sqliteTables.js';
import type { Wire, WireFailure } from './sqliteWire.js';

export type ApplierData = { readonly path: string; readonly names: TableNames };
/** A batch to apply, as the JSON of a Wire (V8 reads what JSON.parse builds faster than structured
 *  clone's), or the end of a run: time to checkpoint. */
export type ApplyRequest = { readonly apply: string } | { readonly checkpoint: true };
export type ApplyResponse = E.Either<DestinationError, WireFailure[]>;

const { path, names } = workerData as ApplierData;
let db: Database.Database | null = null;
let apply: Apply | null = null;
// Opened with the first batch, so that a SQLite failure to open answers it as a DestinationError (and
// the next request tries again). A checkpoint before any batch has nothing to do.
serve<ApplyRequest, ApplyResponse>('sqliteApplier.js', (request) =>
  guarded(() => {
    if ('checkpoint' in request) {
      if (db !== null) checkpoint(db);
      return E.right([]);
    }
    db ??= connect(path);
    apply ??= applierOn(db, names);
    return apply(JSON.parse(request.apply) as Wire);
  }),
);
