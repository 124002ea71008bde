// The worker thread the SQLite destination looks records up on, with a connection of its own, so
// that the engine can look the next batch up while it records the current one (see sqlite.ts).
import { workerData } from 'node:worker_threads';
import type { Either } from 'fp-ts/lib/Either.js';
import type { ObservedRecord } from '../../domain/decision.js';
import type { DestinationError } from '../../engine/ports.js';
import { serve } from '../thread.js';
import { connect, guarded } from './sqliteApply.js';
import { lookupOn, type Lookup } from './sqliteLookup.js';
import type { TableNames } from './sqliteTables.js';

export type ReaderData = { readonly path: string; readonly names: TableNames };
export type LookupRequest = readonly string[];
export type LookupResponse = Either<DestinationError, readonly ObservedRecord[]>;

const { path, names } = workerData as ReaderData;
let lookup: Lookup | null = null;
// Opened with the first request, so that a SQLite failure to open answers it as a DestinationError
// (and the next request tries again).
serve<LookupRequest, LookupResponse>('sqliteReader.js', (keys) =>
  guarded(() => (lookup ??= lookupOn(connect(path), names))(keys)),
);
