// How a run writes: every append to the destination's sync stream is guarded by the revision the
// run last saw, and what landed (its own events, and anything others wrote) is folded at once.
import * as E from 'fp-ts/lib/Either.js';
import { syncStream } from '../../domain/syncEvents.js';
import type { EventStore } from '../ports.js';
import { applyStored, catchUp, type DestinationView, type EngineState } from '../state/engineState.js';
import type { InvalidStoredEvent } from '../state/storedEvents.js';
import type { Tagged } from './applying.js';

/** Why an append was refused: another writer took the stream (Busy), or the store failed. */
export type WriteError =
  | { readonly _tag: 'Busy'; readonly destinationId: string; readonly runId: string }
  | { readonly _tag: 'StoreFailed'; readonly message: string }
  | InvalidStoredEvent;

/** Resolves with the position of the last event appended. `foreign` counts the appends after which
 *  events written by others were folded too (the world may have changed under the run). */
export type Writer = ((events: Tagged[]) => Promise<E.Either<WriteError, number>>) & {
  readonly foreign: () => number;
};

/** Appends to the sync stream at the revision we last saw, then folds what landed (ours and others'). */
export const writer = (
  store: EventStore,
  s: EngineState,
  v: DestinationView,
  runId: () => string,
): Writer => {
  let foreign = 0;
  const write = async (events: Tagged[]): Promise<E.Either<WriteError, number>> => {
    const expected = v.ledger.revision < 0 ? 'no-stream' : v.ledger.revision;
    const r = await store.append([{ stream: syncStream(v.destinationId), events, expected }])();
    if (E.isLeft(r)) {
      const caught = await catchUp(store, s);
      if (E.isLeft(caught)) return caught;
      if (r.left._tag === 'WrongExpectedRevision') {
        return E.left({
          _tag: 'Busy',
          destinationId: v.destinationId,
          runId: v.ledger.lastRun?.runId ?? runId(),
        });
      }
      return E.left({ _tag: 'StoreFailed', message: 'message' in r.left ? r.left.message : r.left._tag });
    }
    // Usually nothing else was written meanwhile: fold our own events without reading them back.
    const appended = r.right.appended;
    if (appended.length > 0 && appended[0]?.position === s.position + 1)
      for (const e of appended) applyStored(s, e);
    else {
      foreign++;
      const caught = await catchUp(store, s);
      if (E.isLeft(caught)) return caught;
    }
    return E.right(appended.at(-1)?.position ?? s.position);
  };
  return Object.assign(write, { foreign: () => foreign });
};
