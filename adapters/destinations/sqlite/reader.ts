// How SQLite destinations look records up and count them, with a connection each: on the worker
// thread the process's destinations share (readerThread.ts), or on the caller's (see destination.ts).
import type { Either } from 'fp-ts/lib/Either.js';
import * as E from 'fp-ts/lib/Either.js';
import type { ObservedRecord } from '../../../domain/decision.js';
import type { DestinationError } from '../../../engine/ports.js';
import { guarded } from './apply.js';
import { connections, type Connection } from './connections.js';
import { countOn, lookupOn, type Count, type Lookup } from './lookup.js';

/** Keys to look up, the records to count, or the destination has closed: its connection goes. */
export type LookupRequest =
  | { readonly connection: Connection; readonly keys: readonly string[] }
  | { readonly connection: Connection; readonly count: true; readonly atMost?: number }
  | { readonly connection: Connection; readonly release: true };
/** Records for keys, a count for a count (null: no table), nothing for a release. */
export type LookupResponse = Either<DestinationError, readonly ObservedRecord[] | number | null>;

/*
 * A reader never creates the destination's file: a dry run (plan), a count (status) and the lookups
 * before a first apply find no file, and that is an empty destination. Only the writer creates it.
 */
const open = connections(
  (db, names, place) => ({ lookup: lookupOn(db, names, place), count: countOn(db, names, place) }),
  {
    lookup: () => E.right([]),
    count: () => E.right(null),
  } satisfies {
    lookup: Lookup;
    count: Count;
  },
);
/**
 * The answer to a request, on whatever thread this module runs: the reader thread (readerThread.ts),
 * or the caller's for a short run (see destination.ts). A connection opens with its destination's
 * first request, so that a SQLite failure to open answers it as a DestinationError (and the next
 * request tries again).
 */
export const answerLookup = (request: LookupRequest): LookupResponse =>
  guarded((): LookupResponse => {
    if ('release' in request) {
      open.release(request.connection);
      return E.right([]);
    }
    const reader = open.of(request.connection);
    if ('count' in request) return E.flatMap(reader, ({ count }) => count(request.atMost));
    return E.flatMap(reader, ({ lookup }) => lookup(request.keys));
  }, request.connection.place);
