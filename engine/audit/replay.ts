// `replay`: every recorded run of a destination recomputed from the inputs recorded with it. The
// store is folded once, pausing at each batch's position; the destination is never touched.
import * as E from 'fp-ts/lib/Either.js';
import type { DestinationConfig } from '../../domain/destination.js';
import type { SyncModeName } from '../../domain/modes.js';
import { compareStrings } from '../../domain/values.js';
import type { Claims } from '../../projections/claims.js';
import { initialLedger } from '../../projections/ledger.js';
import type { EventStore } from '../ports.js';
import type { DestinationView, EngineState } from '../state/engineState.js';
import type { InvalidStoredEvent } from '../state/storedEvents.js';
import { sameData, verifyBatch, whatIfBatch, type BatchData, type Mismatch } from './replayBatch.js';
import { caveats, countKinds } from './replayDiff.js';
import { firstPass, laterPass, type PassOptions } from './replayPass.js';
import {
  flag,
  scanner,
  type Counterfactual,
  type Item,
  type RunFilter,
  type RunReplay,
  type RunStartedData,
  type Track,
} from './replayRuns.js';

export type { Counterfactual, RunFilter, RunReplay } from './replayRuns.js';

export type ReplayOptions = {
  readonly runs?: RunFilter;
  /** check every recorded decision against its recomputation; the default without a what-if */
  readonly verify?: boolean;
  /** what-if: decide under this mode instead of each run's */
  readonly mode?: SyncModeName;
  /** what-if: decide under this configuration of the destination (its syncMode unless `mode`) */
  readonly config?: DestinationConfig;
  readonly onProgress?: (done: number, total: number) => void;
};

export type Replay = {
  readonly destinationId: string;
  readonly verified: boolean;
  readonly runs: RunReplay[];
};

export type ReplayError =
  | { readonly _tag: 'NoRuns'; readonly destinationId: string }
  | { readonly _tag: 'UnknownRun'; readonly destinationId: string; readonly runId: string }
  | InvalidStoredEvent;

export const replayDestination = async (
  store: EventStore,
  destinationId: string,
  opts: ReplayOptions = {},
): Promise<E.Either<ReplayError, Replay>> => {
  const filter = opts.runs ?? {};
  const whatIf = opts.mode !== undefined || opts.config !== undefined;
  const verify = opts.verify ?? !whatIf;
  const scan = scanner(filter, verify);
  let damaged: InvalidStoredEvent | undefined;
  const pass: PassOptions = {
    store,
    destinationId,
    whatIf: opts.config,
    invalid: (e) => {
      damaged ??= e;
    },
    onProgress: opts.onProgress,
  };
  const replay = replayItem(destinationId, verify, whatIf, opts);
  // An item recorded after the log had passed its position (never by the engine) waits for a second pass.
  const late: Item[] = [];
  await firstPass(pass, scan, (s, alt, item) => {
    if (item.at < s.position) late.push(item);
    else replay(s, alt, item);
  });
  if (damaged === undefined && late.length > 0)
    await laterPass(
      pass,
      [...late].sort((a, b) => a.at - b.at),
      replay,
    );
  if (damaged !== undefined) return E.left(damaged);

  if (!scan.seen()) return E.left({ _tag: 'NoRuns', destinationId });
  if (filter.runId !== undefined && !scan.tracks.get(filter.runId))
    return E.left({ _tag: 'UnknownRun', destinationId, runId: filter.runId });
  const runs: RunReplay[] = [];
  for (const t of scan.tracks.values()) {
    if (!t) continue;
    if (whatIf) t.report.counterfactual = counterfactualOf(t, opts);
    t.report.mismatches.sort(byPlace);
    runs.push(t.report);
  }
  return E.right({ destinationId, verified: verify, runs });
};

const emptyView = (destinationId: string): DestinationView => ({
  destinationId,
  config: null,
  configPosition: 0,
  claims: null,
  ledger: initialLedger(),
});

/** A run's start checked against the state it started in; a batch verified, or decided under the what-if. */
const replayItem =
  (destinationId: string, verify: boolean, whatIf: boolean, opts: ReplayOptions) =>
  (s: EngineState, alt: Claims | null, item: Item): void => {
    const v = s.destinations.get(destinationId) ?? emptyView(destinationId);
    if (item.kind === 'start') checkStart(item.track, v, item.at, item.data);
    else recomputeBatch(s, v, alt, item.track, item.data, verify, whatIf ? opts : null);
  };

/** The config a run recorded must be the one in force where it started, and its mode the config's. */
const checkStart = (t: Track, v: DestinationView, at: number, started: RunStartedData): void => {
  if (!sameData(v.config, started.config)) flag(t, at, 'config', started.config, v.config);
  const configured = started.config.syncMode;
  if (configured !== undefined && configured !== started.mode) flag(t, at, 'mode', started.mode, configured);
};

const recomputeBatch = (
  s: EngineState,
  v: DestinationView,
  alt: Claims | null,
  t: Track,
  b: BatchData,
  verify: boolean,
  whatIf: ReplayOptions | null,
): void => {
  t.report.batches++;
  const run = t.context ?? (v.config?.syncMode ? { config: v.config, mode: v.config.syncMode } : null);
  if (verify && run) {
    const r = verifyBatch(s, v, run, b);
    t.report.decisions += r.profiles;
    t.report.matched = (t.report.matched ?? 0) + r.matched;
    t.report.mismatches.push(...r.mismatches);
  } else t.report.decisions += b.profileIds.length;
  if (whatIf !== null && run) {
    const mode = whatIf.mode ?? whatIf.config?.syncMode ?? run.mode;
    const w = whatIfBatch(s, v, b, { config: whatIf.config ?? run.config, mode, claims: alt });
    t.differences.push(...w.differences);
    t.notObserved.push(...w.notObserved);
  }
};

/** In the order the decisions were made; a profile's mismatches before its batch's. */
const byPlace = (a: Mismatch, b: Mismatch): number =>
  a.position - b.position ||
  (a.profileId === null ? 1 : 0) - (b.profileId === null ? 1 : 0) ||
  compareStrings(a.profileId ?? '', b.profileId ?? '');

const counterfactualOf = (t: Track, opts: ReplayOptions): Counterfactual => ({
  mode: opts.mode ?? opts.config?.syncMode ?? t.context?.mode ?? 'sync',
  differences: t.differences,
  counts: countKinds(t.differences),
  notObserved: t.notObserved,
  notes: opts.config && t.context ? caveats(t.context.config, opts.config) : [],
});
