// The worker thread the SQLite destination applies commands on, with a connection of its own, so
// that writing one batch does not block the thread deciding and recording the next (see sqlite.ts).
import { workerData } from 'node:worker_threads';
import type { Either } from 'fp-ts/lib/Either.js';
import type { DestinationError } from '../../engine/ports.js';
import { serve } from '../thread.js';
import { applierOn, connect, guarded, type Apply } from './sqliteApply.js';
import type { TableNames } from './sqliteTables.js';
import type { Wire, WireFailure } from './sqliteWire.js';

export type ApplierData = { readonly path: string; readonly names: TableNames };
/** The JSON of a Wire: V8 reads what JSON.parse builds faster than structured clone's. */
export type ApplyRequest = string;
export type ApplyResponse = Either<DestinationError, WireFailure[]>;

const { path, names } = workerData as ApplierData;
let apply: Apply | null = null;
// Opened with the first request, so that a SQLite failure to open answers it as a DestinationError
// (and the next request tries again).
serve<ApplyRequest, ApplyResponse>('sqliteApplier.js', (wire) =>
  guarded(() => (apply ??= applierOn(connect(path), names))(JSON.parse(wire) as Wire)),
);
