// The library entry point (`import { decide } from 'syncline'`): codecs, modes, decide, the pure
// folds, the engine's run functions and the built-in adapters, with their types.
export * from './domain/codec.js';
export * from './domain/values.js';
export * from './domain/modes.js';
export * from './domain/destination.js';
export * from './domain/events.js';
export * from './domain/decision.js';
export * from './domain/decide.js';
export * from './domain/command.js';
export * from './domain/config.js';
export * from './domain/scenario.js';
export * from './domain/syncEvents.js';
export { commandId } from './domain/ids.js';
export * from './projections/world.js';
export * from './projections/claims.js';
export * from './projections/ledger.js';
// A ledger's pending commands are read with these (the queue's layout is its own business).
export { pendingCommands, type Pending } from './projections/pending.js';
export { simulate, simulateVerdicts } from './engine/audit/simulate.js';
export {
  initialState,
  catchUp,
  applyStored,
  type EngineState,
  type DestinationView,
} from './engine/state/engineState.js';
export {
  invalidStored,
  invalidStoredMessage,
  collectChecked,
  type InvalidStoredEvent,
} from './engine/state/storedEvents.js';
export { resume, keepSnapshot, snapshotDue, type Resumed } from './engine/state/resume.js';
export { SNAPSHOT_FORMAT, snapshotParts } from './engine/state/snapshot.js';
export { restoreState } from './engine/state/restore.js';
export { syncDestination, defaultSyncOptions, type SyncOptions, type SyncError } from './engine/sync/run.js';
export { planDestination, type Plan } from './engine/sync/plan.js';
export { ingest, type IngestError, type IngestResult } from './engine/input/ingest.js';
export { applyConfig, planConfig } from './engine/input/configure.js';
export { replayDestination, type Replay, type ReplayOptions } from './engine/audit/replay.js';
export { decisionLog } from './engine/audit/decisionLog.js';
export { explain } from './engine/audit/explain.js';
export { requestRetry } from './engine/sync/retry.js';
export { storeEvents, foldingWorld, followSync } from './adapters/rxjs/live.js';
export type {
  AppendResult,
  DestinationChecks,
  DestinationError,
  DestinationType,
  EventStore,
  ExpectedRevision,
  NewEvent,
  NewSnapshot,
  OpenError,
  Snapshots,
  StoredSnapshot,
  StoreError,
  StoredEvent,
  StreamWrite,
  /** the Destination port (the config object is `Destination`) */
  Destination as DestinationPort,
} from './engine/ports.js';
export type { RunSummary } from './engine/sync/summary.js';
export { openMemoryEventStore } from './adapters/stores/memory.js';
export { openSqliteStore } from './adapters/stores/sqlite/store.js';
export { openStore } from './adapters/stores/open.js';
export {
  checkEnvironment,
  destinationTypes,
  describeTypes,
  resolveDestination,
} from './adapters/destinations/registry.js';
export { withoutSecrets } from './adapters/destinations/secrets.js';
export { createMemoryRecords, memoryDestinationType } from './adapters/destinations/memory.js';
export { sqliteDestinationType } from './adapters/destinations/sqlite.js';
