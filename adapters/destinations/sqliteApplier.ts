// The worker thread the SQLite destination applies commands on, with a connection of its own, so
// that writing one batch does not block the thread deciding and recording the next (see sqlite.ts).
import { workerData } from 'node:worker_threads';
import type { Either } from 'fp-ts/lib/Either.js';
import type { DestinationError } from '../../engine/ports.js';
import { offThreadCheckpoints, type Checkpoints } from '../sqliteCheckpoints.js';
import { serve } from '../thread.js';
import { applierOn, connect, guarded, type Apply } from './sqliteApply.js';
import type { TableNames } from './sqliteTables.js';
import type { Wire, WireFailure } from './sqliteWire.js';

/** Commands (as JSON) applied between two checkpoints: a first sync of 100k checkpoints a few times. */
const CHECKPOINT_BYTES = 8 * 1024 * 1024;

export type ApplierData = { readonly path: string; readonly names: TableNames };
/** The JSON of a Wire: V8 reads what JSON.parse builds faster than structured clone's. */
export type ApplyRequest = string;
export type ApplyResponse = Either<DestinationError, WireFailure[]>;

const { path, names } = workerData as ApplierData;
let apply: Apply | null = null;
let checkpoints: Checkpoints | null = null;
// Opened with the first request, so that a SQLite failure to open answers it as a DestinationError
// (and the next request tries again).
serve<ApplyRequest, ApplyResponse>('sqliteApplier.js', (wire) =>
  guarded(() => {
    if (apply === null) {
      const db = connect(path);
      apply = applierOn(db, names);
      // A sync's last apply must not wait for a checkpoint of everything the sync wrote before it.
      checkpoints = offThreadCheckpoints(db, path, CHECKPOINT_BYTES);
    }
    const applied = apply(JSON.parse(wire) as Wire);
    // The size of the commands stands for what they wrote to the log.
    checkpoints?.appended(wire.length);
    return applied;
  }),
);
