// The worker thread SQLite destinations look records up on, shared by every destination of the
// process with a connection each, so that the engine can look the next batch up while it records
// the current one (see sqlite.ts).
import type { Either } from 'fp-ts/lib/Either.js';
import * as E from 'fp-ts/lib/Either.js';
import type { ObservedRecord } from '../../domain/decision.js';
import type { DestinationError } from '../../engine/ports.js';
import { serve } from '../thread.js';
import { guarded } from './sqliteApply.js';
import { connections, type Connection } from './sqliteConnections.js';
import { lookupOn } from './sqliteLookup.js';

/** Keys to look up, or the destination has closed: its connection goes. */
export type LookupRequest =
  | { readonly connection: Connection; readonly keys: readonly string[] }
  | { readonly connection: Connection; readonly release: true };
export type LookupResponse = Either<DestinationError, readonly ObservedRecord[]>;

const open = connections(lookupOn);
// A connection opens with its destination's first request, so that a SQLite failure to open answers
// it as a DestinationError (and the next request tries again).
serve<LookupRequest, LookupResponse>('sqliteReader.js', (request) =>
  guarded(() => {
    if ('release' in request) {
      open.release(request.connection);
      return E.right([]);
    }
    return E.flatMap(open.of(request.connection), (lookup) => lookup(request.keys));
  }, request.connection.place),
);
