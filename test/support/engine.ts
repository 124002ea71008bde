// An engine under test: a memory event store, a memory destination and the engine state, with the
// given/when/then verbs the engine specs use (events happen, we sync, the destination holds...).
import * as E from 'fp-ts/lib/Either.js';
import type { DestinationConfig } from '../../domain/destination.js';
import type { ObservedRecord } from '../../domain/decision.js';
import { streamOf, type InputEvent } from '../../domain/events.js';
import { openMemoryEventStore } from '../../adapters/stores/memory.js';
import { createMemoryRecords, type MemoryRecords } from '../../adapters/destinations/memory.js';
import { applyConfig } from '../../engine/input/configure.js';
import { defaultDelivery } from '../../engine/sync/deliver.js';
import {
  defaultSyncOptions,
  syncDestination,
  type SyncError,
  type SyncOptions,
} from '../../engine/sync/run.js';
import { initialState, type DestinationView, type EngineState } from '../../engine/state/engineState.js';
import { foldLedger } from '../../projections/ledger.js';
import type { EventStore } from '../../engine/ports.js';
import type { RunSummary } from '../../engine/sync/summary.js';

export type EngineWorld = {
  readonly store: EventStore;
  readonly state: EngineState;
  readonly destination: MemoryRecords;
  config: DestinationConfig;
  readonly happen: (...events: InputEvent[]) => Promise<void>;
  readonly reconfigure: (config: DestinationConfig) => Promise<void>;
  readonly sync: (opts?: Partial<SyncOptions>) => Promise<E.Either<SyncError, RunSummary>>;
  /** syncs and fails the test if the run does not finish */
  readonly synced: (opts?: Partial<SyncOptions>) => Promise<RunSummary>;
  readonly records: () => readonly ObservedRecord[];
};

/** Retries in tests do not wait: the backoff schedule is checked through the sleeps it asks for. */
export const noWait: SyncOptions = {
  ...defaultSyncOptions,
  delivery: { ...defaultDelivery, sleep: () => Promise.resolve() },
};

export const givenEngine = async (
  config: DestinationConfig,
  seed: readonly ObservedRecord[] = [],
): Promise<EngineWorld> => {
  const store = openMemoryEventStore();
  const state = initialState();
  const destination = createMemoryRecords(seed);
  const r = await applyConfig(store, state, [config], false);
  if (E.isLeft(r)) throw new Error(JSON.stringify(r.left));
  const world: EngineWorld = {
    store,
    state,
    destination,
    config,
    happen: async (...events) => {
      for (const e of events) {
        const res = await store.append([{ stream: streamOf(e), events: [e], expected: 'any' }])();
        if (E.isLeft(res)) throw new Error(JSON.stringify(res.left));
      }
    },
    reconfigure: async (next) => {
      world.config = next;
      const res = await applyConfig(store, state, [next], false);
      if (E.isLeft(res)) throw new Error(JSON.stringify(res.left));
    },
    sync: (opts = {}) =>
      syncDestination(store, state, world.config.destinationId, destination.destination(world.config), {
        ...noWait,
        ...opts,
      }),
    synced: async (opts = {}) => {
      const r = await world.sync(opts);
      if (E.isLeft(r)) throw new Error(`the run did not finish: ${JSON.stringify(r.left)}`);
      return r.right;
    },
    records: () => destination.records(),
  };
  return world;
};

/** A command decided for `profileId` and never given an outcome, as a crash leaves it. */
export const leftPending = (v: DestinationView, profileId: string): void => {
  foldLedger(v.ledger, {
    type: 'BatchDecided',
    data: {
      runId: 'crashed-run',
      position: 1,
      profileIds: [profileId],
      keys: [`${profileId}@x.io`],
      observed: [],
      decisions: [
        {
          commandId: `c-${profileId}`,
          decision: {
            profileId,
            operation: 'create',
            key: `${profileId}@x.io`,
            fields: { set: { email: `${profileId}@x.io` }, unset: [] },
            groups: { add: [], remove: [] },
          },
        },
      ],
      decidedAt: '2026-01-01T00:00:00.000Z',
      unchanged: 0,
    },
  });
};
