// `retry`: asks for the profiles of failed commands to be reconciled again on the next sync, from
// the state then — a stored payload is never resent, since the profile may have changed meanwhile.
import * as E from 'fp-ts/lib/Either.js';
import { compareStrings } from '../../domain/values.js';
import { syncStream } from '../../domain/syncEvents.js';
import type { EventStore, StoreError } from '../ports.js';
import { defaultSyncOptions } from './run.js';
import { catchUp, type EngineState } from '../state/engineState.js';
import type { InvalidStoredEvent } from '../state/storedEvents.js';

export type RetryRequest = { readonly profileIds: string[]; readonly commands: number };

/** Why a retry was not recorded. */
export type RetryError =
  | InvalidStoredEvent
  | { readonly _tag: 'UnknownDestination'; readonly destinationId: string }
  /** a run of another process holds the destination (`runId`), or wrote its stream meanwhile (null) */
  | { readonly _tag: 'Busy'; readonly destinationId: string; readonly runId: string | null }
  | { readonly _tag: 'RetryNotRecorded'; readonly failure: StoreError };

export const requestRetry = async (
  store: EventStore,
  s: EngineState,
  destinationId: string,
  since: string | undefined,
  now: Date = new Date(),
  isAlive: (owner: { host: string; pid: number }) => boolean = defaultSyncOptions.isAlive,
): Promise<E.Either<RetryError, RetryRequest>> => {
  const caught = await catchUp(store, s);
  if (E.isLeft(caught)) return caught;
  const v = s.destinations.get(destinationId);
  if (!v?.config) return E.left({ _tag: 'UnknownDestination', destinationId });
  // Writing to the sync stream mid-run would make that run stop at its next append.
  if (v.ledger.open && isAlive(v.ledger.open.owner))
    return E.left({ _tag: 'Busy', destinationId, runId: v.ledger.open.runId });
  const profileIds = [...v.ledger.failures.entries()]
    .filter(([, f]) => since === undefined || f.at >= since)
    .map(([pid]) => pid)
    .sort(compareStrings);
  if (profileIds.length === 0) return E.right({ profileIds, commands: 0 });
  const r = await store.append([
    {
      stream: syncStream(destinationId),
      expected: v.ledger.revision < 0 ? 'no-stream' : v.ledger.revision,
      events: [{ type: 'RetryRequested', data: { profileIds, requestedAt: now.toISOString() } }],
    },
  ])();
  if (E.isLeft(r))
    return E.left(
      r.left._tag === 'WrongExpectedRevision'
        ? { _tag: 'Busy', destinationId, runId: null }
        : { _tag: 'RetryNotRecorded', failure: r.left },
    );
  const after = await catchUp(store, s);
  if (E.isLeft(after)) return after;
  return E.right({ profileIds, commands: profileIds.length });
};
