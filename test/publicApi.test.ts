// The public API, name by name: what `syncline` and `syncline/testing` export from the built package,
// values and types alike. A change to the API changes these lists, so it is made on purpose and reviewed.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

/** Names with a value at run time: functions, constants, io-ts codecs (whose types share the name). */
const VALUES = [
  'Collection',
  'Command',
  'CommandOutcome',
  'CommandResult',
  'Config',
  'Decision',
  'DecisionInput',
  'DecisionOperation',
  'DestinationConfig',
  'DestinationTypeDescription',
  'Id',
  'InputEvent',
  'LedgerEntry',
  'Level',
  'Nothing',
  'NothingReason',
  'ObservedRecord',
  'Operation',
  'OptionDescription',
  'Profile',
  'Properties',
  'RecordedDecision',
  'RunSummary',
  'RunTotals',
  'Scenario',
  'StoreReadFailed',
  'SyncEvent',
  'SyncMode',
  'SyncModeName',
  'Value',
  'Verdict',
  'allows',
  'applyConfig',
  'applyStored',
  'catchUp',
  'checkEnvironment',
  'commandId',
  'connectNats',
  'consumeEvents',
  'createMemoryRecords',
  'decide',
  'decisionLog',
  'decodeConfig',
  'defaultDelivery',
  'defaultSyncOptions',
  'describeTypes',
  'destinationTypes',
  'explain',
  'foldLedger',
  'foldWorld',
  'foldingWorld',
  'followSync',
  'ingest',
  'initialLedger',
  'initialState',
  'initialWorld',
  'invalidStored',
  'invalidStoredMessage',
  'isDecision',
  'memoryDestinationType',
  'natsServerOf',
  'openMemoryEventStore',
  'openSqliteStore',
  'openStateFile',
  'openStore',
  'pendingCommands',
  'pendingOf',
  'planConfig',
  'planDestination',
  'profileOf',
  'publishEvents',
  'reasonOf',
  'replayDestination',
  'reportErrors',
  'requestRetry',
  'resolveDestination',
  'simulate',
  'simulateVerdicts',
  'sqliteDestinationType',
  'statePathFor',
  'storeEvents',
  'streamOf',
  'syncDestination',
  'syncModes',
  'syncStream',
  'withoutSecrets',
];

/** Names that are types alone: the ports, options, results and errors of the functions above. */
const TYPES = [
  'AppendResult',
  'ApplyError',
  'ApplyResult',
  'ConfigInvalid',
  'ConfigPlan',
  'ConsumeError',
  'ConsumeSettings',
  'Consumed',
  'DecisionLog',
  'DecisionReason',
  'DeliveryOptions',
  'Destination',
  'DestinationChecks',
  'DestinationError',
  'DestinationInvalid',
  'DestinationType',
  'DestinationView',
  'EngineState',
  'EventStore',
  'ExpectedRevision',
  'ExplainError',
  'ExplainOptions',
  'Explanation',
  'IngestError',
  'IngestOptions',
  'IngestResult',
  'InputEventType',
  'Integrity',
  'InvalidStoredEvent',
  'Ledger',
  'LiveRun',
  'LogEntry',
  'LogFilter',
  'MemoryRecords',
  'NatsServer',
  'NatsUnavailable',
  'NewEvent',
  'OpenError',
  'OpenStateOptions',
  'OpenedState',
  'Owner',
  'Pending',
  'Plan',
  'PlanError',
  'PlanOptions',
  'PublishError',
  'PublishSettings',
  'Published',
  'Replay',
  'ReplayError',
  'ReplayOptions',
  'ResolvedDestination',
  'RetryError',
  'RetryRequest',
  'RunFilter',
  'RunReplay',
  'SqliteOpenError',
  'SqliteStoreOptions',
  'StateFailed',
  'StateFile',
  'StoreError',
  'StoreOpenError',
  'StoredEvent',
  'StreamWrite',
  'SyncError',
  'SyncOptions',
  'TimelineItem',
  'World',
];

const TESTING_VALUES = ['contractConfig', 'destinationContract', 'eventStoreContract', 'receiverContract'];
const TESTING_TYPES = [
  'Destination',
  'DestinationCapabilities',
  'StoreTraits',
  'DestinationType',
  'DestinationUnderTest',
  'EventStore',
  'NewEvent',
  'OpenDestinationForTest',
  'ReceiverUnderTest',
  'StartReceiverForTest',
  'StoredEvent',
];

const sorted = (xs: readonly string[]): string[] => [...xs].sort();

/** Every name a built declaration file exports, and which of them have a value. */
const declared = (file: string): { readonly all: string[]; readonly values: string[] } => {
  const path = fileURLToPath(new URL(file, import.meta.url));
  const program = ts.createProgram([path], {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    skipLibCheck: true,
  });
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(path);
  const module = source === undefined ? undefined : checker.getSymbolAtLocation(source);
  if (module === undefined) throw new Error(`${file} does not exist: run npm run build`);
  const exported = checker.getExportsOfModule(module).map((s) => ({
    name: s.name,
    target: s.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(s) : s,
  }));
  return {
    all: sorted(exported.map((e) => e.name)),
    values: sorted(exported.filter((e) => e.target.flags & ts.SymbolFlags.Value).map((e) => e.name)),
  };
};

describe('the public API of the built package', () => {
  it('given `syncline`, when imported, then it exports exactly the chosen values', async () => {
    const lib = (await import('syncline')) as Record<string, unknown>;
    expect(sorted(Object.keys(lib))).toStrictEqual(sorted(VALUES));
  });

  it('given its declarations, when read, then they export exactly the chosen values and types', () => {
    const d = declared('../dist/index.d.ts');
    expect(d.values).toStrictEqual(sorted(VALUES));
    expect(d.all).toStrictEqual(sorted([...VALUES, ...TYPES]));
  });

  it('given `syncline/testing`, when imported and its declarations read, then it exports the contract suites and the port types', async () => {
    const testing = (await import('syncline/testing')) as Record<string, unknown>;
    expect(sorted(Object.keys(testing))).toStrictEqual(sorted(TESTING_VALUES));
    const d = declared('../dist/test/contract/index.d.ts');
    expect(d.all).toStrictEqual(sorted([...TESTING_VALUES, ...TESTING_TYPES]));
  });
});

/** The names a part of docs/library.md's "What the package exports" lists, in backticks. */
const documented = (from: string, to: string | undefined): string[] => {
  const text = readFileSync(new URL('../docs/library.md', import.meta.url), 'utf8');
  const start = text.indexOf(from);
  const end = to === undefined ? text.indexOf('\n## ', start + from.length) : text.indexOf(to, start);
  if (start < 0) throw new Error(`docs/library.md has no ${from}`);
  const part = text.slice(start + from.length, end < 0 ? undefined : end);
  const names = [...part.matchAll(/`([A-Za-z_$][\w$]*)`/g)].map((m) => m[1] as string);
  return sorted([...new Set(names)]);
};

describe('the documented API', () => {
  it('given docs/library.md, when its list of exports is read, then it names exactly what `syncline` exports', () => {
    expect(documented('### From `syncline`', '### From `syncline/testing`')).toStrictEqual(
      sorted([...VALUES, ...TYPES]),
    );
  });

  it('given docs/library.md, then its list for `syncline/testing` names exactly what that entry exports', () => {
    expect(documented('### From `syncline/testing`', undefined)).toStrictEqual(
      sorted([...TESTING_VALUES, ...TESTING_TYPES]),
    );
  });
});
