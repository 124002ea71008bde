// Pipeline bridges: the store as an rxjs Observable, the folds as operators, and a live sync that
// runs again whenever new input events arrive (`sync --follow`, or an embedding pipeline).
import {
  EMPTY,
  NEVER,
  Observable,
  auditTime,
  concatMap,
  defer,
  filter,
  from,
  map,
  merge,
  of,
  scan,
  take,
  takeUntil,
  tap,
  type OperatorFunction,
} from 'rxjs';
import type { InputEvent } from '../../domain/events.js';
import { SYNC_PREFIX } from '../../domain/syncEvents.js';
import { syncDestination, type SyncError, type SyncOptions } from '../../engine/sync/run.js';
import type { Destination, EventStore, StoredEvent } from '../../engine/ports.js';
import type { EngineState } from '../../engine/state/engineState.js';
import type { RunSummary } from '../../engine/sync/summary.js';
import { foldWorld, initialWorld, type World } from '../../projections/world.js';

/**
 * Every stored event after `afterPosition`, then new ones as they are appended, until unsubscribed.
 * The store is still read by a pull loop: the Observable only hands on what the loop pulled.
 */
export const storeEvents = (store: EventStore, afterPosition: number): Observable<StoredEvent> =>
  new Observable<StoredEvent>((subscriber) => {
    const stop = new AbortController();
    void (async () => {
      for await (const e of store.subscribe(afterPosition, stop.signal)) subscriber.next(e);
      subscriber.complete();
    })().catch((e: unknown) => subscriber.error(e));
    return () => stop.abort();
  });

/**
 * The world as it stands after each input event: `scan` over foldWorld, which updates one world in
 * place. Every emission is that same world object, shared by every subscription to the operator.
 */
export const foldingWorld = (): OperatorFunction<InputEvent, World> => scan(foldWorld, initialWorld());

export type LiveRun = { readonly destinationId: string; readonly outcome: RunSummary | SyncError };

/**
 * Syncs the destinations once, then again each time input events arrive and the store has been
 * quiet for `quietMs`. Runs never overlap (one finishes before the next starts), and each run
 * catches up everything appended so far, so bursts of events cost one run, not one per event.
 * `afterRuns` runs after each round of runs, before the next can start: the only moment anything
 * else may read or fold the state (the CLI saves its state file there). Once `until` emits, no
 * round starts; the one under way ends, and the Observable completes: the moment to close the
 * destinations. Unsubscribing instead leaves a run under way to end on its own.
 */
export const followSync = (
  store: EventStore,
  state: EngineState,
  destinations: readonly { readonly destinationId: string; readonly destination: Destination }[],
  opts: SyncOptions,
  quietMs = 250,
  afterRuns?: () => Promise<void>,
  until: Observable<unknown> = NEVER,
): Observable<LiveRun> => {
  const runAll = async (): Promise<LiveRun[]> => {
    const runs: LiveRun[] = [];
    for (const { destinationId, destination } of destinations) {
      const r = await syncDestination(store, state, destinationId, destination, opts);
      runs.push({ destinationId, outcome: r._tag === 'Right' ? r.right : r.left });
    }
    await afterRuns?.();
    return runs;
  };
  const arrivals = storeEvents(store, state.position).pipe(
    filter((e) => !e.stream.startsWith(SYNC_PREFIX)),
    auditTime(quietMs),
    map(() => 'events arrived'),
  );
  return defer(() => {
    // A round asked for before `until` and still queued behind the one under way does not start.
    let stopping = false;
    const stop = until.pipe(
      take(1),
      tap(() => (stopping = true)),
    );
    return merge(of('start'), arrivals).pipe(
      takeUntil(stop),
      concatMap(() => (stopping ? EMPTY : from(runAll()).pipe(concatMap((runs) => from(runs))))),
    );
  });
};
