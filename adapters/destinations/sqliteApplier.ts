// The worker thread the SQLite destination applies commands on, with a connection of its own, so
// that writing one batch does not block the thread deciding and recording the next (see sqlite.ts).
import { parentPort, workerData } from 'node:worker_threads';
import type { Either } from 'fp-ts/lib/Either.js';
import type { DestinationError } from '../../engine/ports.js';
import { applierOn, connect, guarded, type Apply } from './sqliteApply.js';
import type { TableNames } from './sqliteTables.js';
import type { Wire, WireFailure } from './sqliteWire.js';

export type ApplierData = { readonly path: string; readonly names: TableNames };
/** `wire` is the JSON of a Wire: V8 reads what JSON.parse builds faster than structured clone's. */
export type ApplyRequest = { readonly id: number; readonly wire: string };
export type ApplyResponse = {
  readonly id: number;
  readonly result: Either<DestinationError, WireFailure[]>;
};

const port = parentPort;
if (port === null) throw new Error('sqliteApplier.js runs only as the SQLite destination’s worker thread');
const { path, names } = workerData as ApplierData;

let apply: Apply | null = null;
// Requests run one at a time, in the order they were posted. An exception other than a SqliteError
// is a bug: it is left to end the worker, and the destination rejects every apply from then on.
port.on('message', ({ id, wire }: ApplyRequest) => {
  // Opened with the first request, so that a SQLite failure to open answers it as a DestinationError
  // (and the next request tries again).
  const result = guarded(() => {
    apply ??= applierOn(connect(path), names);
    return apply(JSON.parse(wire) as Wire);
  });
  port.postMessage({ id, result } satisfies ApplyResponse);
});
