// The library entry point (`import { decide } from 'syncline'`): a chosen list, not every module's
// exports; test/publicApi.test.ts holds it name by name, so each change to it is a deliberate one.

import type { StateFile as StateFileOf } from './adapters/state/stateFile.js';

// The formats: io-ts codecs (each name is the codec and its type, `t.TypeOf` of it) and their errors.
export { reportErrors } from './domain/codec.js';
export { Id, Properties, Value } from './domain/values.js';
export { Operation, SyncMode, SyncModeName, allows, syncModes } from './domain/modes.js';
export { Collection, DestinationConfig } from './domain/destination.js';
export { InputEvent, streamOf, type InputEventType } from './domain/events.js';
export {
  Decision,
  DecisionInput,
  DecisionOperation,
  LedgerEntry,
  Level,
  Nothing,
  NothingReason,
  ObservedRecord,
  Profile,
  Verdict,
  isDecision,
  type DecisionReason,
} from './domain/decision.js';
export { Command, CommandOutcome, DestinationTypeDescription, OptionDescription } from './domain/command.js';
export { Config, decodeConfig, type ConfigInvalid } from './domain/config.js';
export { Scenario } from './domain/scenario.js';
export { CommandResult, RecordedDecision, SyncEvent, syncStream } from './domain/syncEvents.js';
export { commandId } from './domain/ids.js';

// The decision: pure, and total.
export { decide, reasonOf } from './domain/decide.js';

// The folds. Each updates the state it is given in place and returns it: start from a fresh
// initialWorld(), initialLedger() or initialState(), and do not share one between two folds.
export { foldWorld, initialWorld, profileOf, type World } from './projections/world.js';
export { foldLedger, initialLedger, pendingOf, type Ledger } from './projections/ledger.js';
export { pendingCommands, type Pending } from './projections/pending.js';
export {
  applyStored,
  catchUp,
  initialState,
  type DestinationView,
  type EngineState,
} from './engine/state/engineState.js';
export { invalidStored, invalidStoredMessage, type InvalidStoredEvent } from './engine/state/storedEvents.js';

// The engine's jobs: input, sync (and its dry run), audit.
export {
  applyConfig,
  planConfig,
  type ApplyError,
  type ApplyResult,
  type ConfigPlan,
} from './engine/input/configure.js';
export { ingest, type IngestError, type IngestOptions, type IngestResult } from './engine/input/ingest.js';
export {
  defaultSyncOptions,
  syncDestination,
  type Owner,
  type SyncError,
  type SyncOptions,
} from './engine/sync/run.js';
export { RunSummary, RunTotals } from './engine/sync/summary.js';
export { defaultDelivery, type DeliveryOptions } from './engine/sync/deliver.js';
export { planDestination, type Plan, type PlanError, type PlanOptions } from './engine/sync/plan.js';
export { requestRetry, type RetryError, type RetryRequest } from './engine/sync/retry.js';
export { simulate, simulateVerdicts } from './engine/audit/simulate.js';
export { decisionLog, type DecisionLog, type LogEntry, type LogFilter } from './engine/audit/decisionLog.js';
export { explain, type ExplainError, type ExplainOptions, type Explanation } from './engine/audit/explain.js';
export type { TimelineItem } from './engine/audit/timeline.js';
export {
  replayDestination,
  type Replay,
  type ReplayError,
  type ReplayOptions,
  type RunFilter,
  type RunReplay,
} from './engine/audit/replay.js';

// The two ports, for adapters of your own (their contract suites are in `syncline/testing`).
export {
  StoreReadFailed,
  type AppendResult,
  type Destination,
  type DestinationChecks,
  type DestinationError,
  type DestinationType,
  type EventStore,
  type ExpectedRevision,
  type Integrity,
  type NewEvent,
  type OpenError,
  type StoreError,
  type StoredEvent,
  type StreamWrite,
} from './engine/ports.js';

// The built-in adapters: event stores, destination types, and the rxjs bridges `sync --follow` uses.
export { openMemoryEventStore } from './adapters/stores/memory.js';
export {
  openSqliteStore,
  type SqliteOpenError,
  type SqliteStoreOptions,
} from './adapters/stores/sqlite/store.js';
export { openStore, type StoreOpenError } from './adapters/stores/open.js';
// The engine state kept on disk beside a store, as the CLI keeps it (docs/library.md).
export {
  openStateFile,
  statePathFor,
  type OpenedState,
  type OpenStateOptions,
} from './adapters/state/open.js';
export type { StateFailed } from './adapters/state/stateFile.js';
/** The engine state in a state file (a type: a file is opened with openStateFile, never constructed). */
export type StateFile = StateFileOf;
export {
  checkEnvironment,
  describeTypes,
  destinationTypes,
  resolveDestination,
  type DestinationInvalid,
  type ResolvedDestination,
} from './adapters/destinations/registry.js';
export { withoutSecrets } from './adapters/destinations/secrets.js';
export {
  createMemoryRecords,
  memoryDestinationType,
  type MemoryRecords,
} from './adapters/destinations/memory.js';
export { sqliteDestinationType } from './adapters/destinations/sqlite/destination.js';
export { foldingWorld, followSync, storeEvents, type LiveRun } from './adapters/rxjs/live.js';
// Pipelines: events in from a NATS JetStream stream, the engine's own events out to one.
export {
  connectNats,
  natsServerOf,
  type NatsServer,
  type NatsUnavailable,
} from './adapters/nats/connection.js';
export {
  consumeEvents,
  type ConsumeError,
  type ConsumeSettings,
  type Consumed,
} from './adapters/nats/consume.js';
export {
  publishEvents,
  type PublishError,
  type PublishSettings,
  type Published,
} from './adapters/nats/publish.js';
