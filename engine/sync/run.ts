// A sync run for one destination: catch up, pick the candidates, and per batch look up, decide,
// record, apply and record outcomes, every append guarded by the sync stream's expected revision.
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import * as E from 'fp-ts/lib/Either.js';
import type { DestinationConfig } from '../../domain/destination.js';
import type { SyncModeName } from '../../domain/modes.js';
import { pendingCommands, pendingMark } from '../../projections/pending.js';
import type { Destination, EventStore } from '../ports.js';
import { catchUp, type DestinationView, type EngineState } from '../state/engineState.js';
import { applying, gatherFor, type Applying, type Tagged } from './applying.js';
import { batchBounds, judge, keysOf, prepare } from './batch.js';
import { batchDecided, commandsOf, recordOf } from './batchRecord.js';
import { candidates, type CandidateReason, type Candidates } from './candidates.js';
import { defaultDelivery, type DeliveryOptions } from './deliver.js';
import { checkDeletes, type TooManyDeletes } from './guardrail.js';
import { resolveLookAhead, type LookAhead } from './lookAhead.js';
import { holdingOf, lostEverything } from './lost.js';
import { lookupWithRetry, observedThrough } from './observe.js';
import { emptyCounts, recordedCounts, tallyDecided, type Counts, type RunSummary } from './summary.js';
import { resendUnsettled } from './unsettled.js';
import { writer, type WriteError, type Writer } from './writer.js';

export type SyncError =
  | { readonly _tag: 'UnknownDestination'; readonly destinationId: string }
  | {
      readonly _tag: 'DestinationFailed';
      readonly destinationId: string;
      readonly runId: string;
      readonly message: string;
    }
  | TooManyDeletes
  /** Busy (another run holds the destination), StoreFailed, or an invalid stored event */
  | WriteError;

export type Owner = { readonly host: string; readonly pid: number };

export type SyncOptions = {
  /** profiles per batch; a short run of three or more starts and ends with a quarter of one */
  readonly batchSize: number;
  /** commands applied to the destination in one call, gathered from consecutive batches */
  readonly applyBatchSize: number;
  readonly full: boolean;
  readonly delivery: DeliveryOptions;
  readonly owner: Owner;
  /** whether a run recorded as open is still being worked on by a live process */
  readonly isAlive: (owner: Owner) => boolean;
  readonly onProgress?: (done: number, total: number) => void;
  /** refuse a run that would delete more records than this (default: see defaultMaxDeletes) */
  readonly maxDeletes?: number;
};

const processAlive = (owner: Owner): boolean => {
  if (owner.host !== hostname()) return true;
  // Our own pid cannot be running another run: a restarted container often reuses the same pid.
  if (owner.pid === process.pid) return false;
  try {
    process.kill(owner.pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
};

export const defaultSyncOptions: SyncOptions = {
  batchSize: 500,
  applyBatchSize: 20_000,
  full: false,
  delivery: defaultDelivery,
  owner: { host: hostname(), pid: process.pid },
  isAlive: processAlive,
};

/** A run under way: what it was asked, what it looks at, and where it writes and tallies. */
type Run = {
  readonly store: EventStore;
  readonly s: EngineState;
  readonly v: DestinationView;
  readonly config: DestinationConfig;
  readonly destination: Destination;
  readonly opts: SyncOptions;
  readonly destinationId: string;
  readonly runId: string;
  readonly mode: SyncModeName;
  readonly reason: CandidateReason;
  /** why the run looks at everyone unasked (the destination lost its records), in words */
  readonly lost: string | undefined;
  readonly candidates: Candidates;
  /** batch k holds the candidates from bounds[k] up to bounds[k + 1] */
  readonly bounds: readonly number[];
  readonly write: Writer;
  readonly now: () => string;
  /** Prepares batch `index` and starts looking its keys up. */
  readonly look: (index: number) => LookAhead;
  readonly counts: Counts;
  /** outcomes waiting for the run's next append */
  readonly outbox: Tagged[];
};

export const syncDestination = async (
  store: EventStore,
  s: EngineState,
  destinationId: string,
  destination: Destination,
  opts: SyncOptions = defaultSyncOptions,
): Promise<E.Either<SyncError, RunSummary>> => {
  const caught = await catchUp(store, s);
  if (E.isLeft(caught)) return caught;
  const v = s.destinations.get(destinationId);
  if (!v || !v.config) return E.left({ _tag: 'UnknownDestination', destinationId });
  const open = v.ledger.open;
  if (open && opts.isAlive(open.owner)) return E.left({ _tag: 'Busy', destinationId, runId: open.runId });

  const run = await runOver(store, s, v, v.config, observedThrough(destination, v.ledger), opts);
  try {
    // The first batch is looked up while the guardrail counts and the run is recorded as started: a
    // lookup only reads, and `resolveLookAhead` prepares it again if anything it relied on moved.
    // Unless commands a crash left are to be sent again first (see unsettled.ts): they change what
    // the first batch would be decided from.
    const resending =
      destination.observes === 'ledger' && pendingCommands(v.ledger.pending).next().done === false;
    let first: LookAhead | null = run.bounds.length > 1 && !resending ? run.look(0) : null;
    const started = await start(run);
    if (E.isLeft(started)) return started;
    const commands = applying(
      destination,
      store.flush(),
      opts.delivery,
      opts.applyBatchSize,
      gatherFor(run.candidates.count, opts.batchSize, opts.applyBatchSize),
      run,
      run.counts,
      run.outbox,
    );
    if (resending) {
      const resent = await resendUnsettled(v.ledger, commands, run.write, run.outbox, run.candidates.count);
      if (E.isLeft(resent)) return resent;
      if (run.bounds.length > 1) first = run.look(0);
    }
    const decided = await decideEach(run, first, commands);
    if (E.isLeft(decided)) return decided;
    return await finish(run, commands);
  } finally {
    run.candidates.close();
  }
};

/** The run's mode, id and candidates, cut in batches; the destination is asked only for its count. */
const runOver = async (
  store: EventStore,
  s: EngineState,
  v: DestinationView,
  config: DestinationConfig,
  destination: Destination,
  opts: SyncOptions,
): Promise<Run> => {
  const runId = randomUUID();
  const mode: SyncModeName = config.syncMode ?? destination.describe().defaultMode;
  // Asked before the candidates: a destination that lost every record needs everyone looked at.
  const lost = lostEverything(await holdingOf(destination, v, 1));
  const picked = candidates(s, v, lost !== undefined ? 'records-lost' : opts.full);
  const bounds = batchBounds(picked.count, opts.batchSize);
  destination.expect?.(picked.count);
  // Every command pending now was decided before the run: see prepare.
  const decidedBefore = pendingMark(v.ledger.pending);
  const write = writer(store, s, v, () => runId);
  // Batches are looked up in order, each maybe twice in a row (see resolveLookAhead): the candidates
  // are taken as they come, and the last batch's kept.
  let taken: { readonly index: number; readonly ids: readonly string[] } | null = null;
  const idsOf = (index: number): readonly string[] => {
    if (taken?.index === index) return taken.ids;
    if (index !== (taken?.index ?? -1) + 1) throw new Error(`batch ${index} looked up out of turn`);
    taken = { index, ids: picked.take((bounds[index + 1] as number) - (bounds[index] as number)) };
    return taken.ids;
  };
  const look = (index: number): LookAhead => {
    const batch = prepare(s, v, config, mode, idsOf(index), decidedBefore);
    const keys = keysOf(batch);
    const found = lookupWithRetry(destination, keys, opts.delivery);
    // Awaited by the next iteration; a bug's rejection must not go unhandled if the run ends first.
    found.catch(() => undefined);
    return { index, batch, keys, found, foreign: write.foreign(), taken: v.ledger.taken, decidedBefore };
  };
  return {
    store,
    s,
    v,
    config,
    destination,
    opts,
    destinationId: v.destinationId,
    runId,
    mode,
    reason: picked.reason,
    lost,
    candidates: picked,
    bounds,
    write,
    now: () => opts.delivery.now().toISOString(),
    look,
    counts: emptyCounts(),
    outbox: [],
  };
};

/** Refuses a run that would delete too much, before anything is recorded or applied (the user
 *  decides, then runs again); else records the run as started. */
const start = async (run: Run): Promise<E.Either<SyncError, number>> => {
  const { s, v, mode, destinationId, runId, opts } = run;
  const deletes = await checkDeletes(
    s,
    v,
    mode,
    run.candidates,
    run.destination,
    opts.maxDeletes,
    opts.delivery,
  );
  if (E.isLeft(deletes)) {
    return E.left(
      deletes.left._tag === 'TooManyDeletes'
        ? deletes.left
        : { _tag: 'DestinationFailed', destinationId, runId, message: deletes.left.message },
    );
  }
  const data = {
    runId,
    destinationId,
    position: s.position,
    mode,
    config: run.config,
    owner: opts.owner,
    startedAt: run.now(),
    reason: run.reason,
  };
  return run.write([{ type: 'RunStarted', data }]);
};

/**
 * Per batch: its lookup made good, its decisions recorded, its commands queued for the destination.
 * The next batch is looked up while this one is decided and recorded: a destination that answers off
 * this thread (the SQLite destination's reader) overlaps both. See `resolveLookAhead` for why.
 */
const decideEach = async (
  run: Run,
  first: LookAhead | null,
  commands: Applying,
): Promise<E.Either<SyncError, void>> => {
  const batches = run.bounds.length - 1;
  for (let ahead = first; ahead !== null;) {
    const k = ahead.index;
    const { s, v, config, mode } = run;
    // Deciding a batch holds this thread for milliseconds: a flush or an apply that has ended meanwhile
    // is answered first, so that the next apply leaves now rather than after it. Before the lookahead
    // is made good, not after: an outcome folded in between could change what it was checked against.
    await new Promise<void>((resolve) => setImmediate(resolve));
    const looked = await resolveLookAhead(ahead, run.write.foreign(), () => run.look(k), s, v, config, mode);
    if (E.isLeft(looked)) return fail(run, commands, looked.left.message);
    // The next batch is looked up before this one is decided, so that the destination looks while the
    // engine decides: deciding reads the state and changes nothing in it.
    ahead = k + 1 < batches ? run.look(k + 1) : null;
    const position = s.position;
    const record = recordOf(judge(looked.right.batch, looked.right.records), v, config.keyField, position);
    const decided = await run.write([
      ...run.outbox.splice(0),
      batchDecided(run, position, looked.right, record, run.now()),
    ]);
    if (E.isLeft(decided)) {
      // Another writer took the stream: nothing more can be recorded, but the apply under way ends first.
      await commands.underway().catch(() => undefined);
      return decided;
    }
    tallyDecided(run.counts, record.decisions, record.unchanged);
    // The store and the SQLite destination answer synchronously, so without this the run would never
    // return to the event loop: a finished apply's reply, timers and signals would wait for the end.
    await new Promise<void>((resolve) => setImmediate(resolve));
    const end = run.bounds[k + 1] as number;
    await commands.recorded(commandsOf(record.decisions), decided.right, run.candidates.count - end);
    run.opts.onProgress?.(end, run.candidates.count);
    s.keep?.();
  }
  return E.right(undefined);
};

/** Applies what is left, records the run as finished and sums it up. */
const finish = async (run: Run, commands: Applying): Promise<E.Either<SyncError, RunSummary>> => {
  await commands.drain();
  const finished = await run.write([
    ...run.outbox.splice(0),
    {
      type: 'RunFinished',
      data: {
        runId: run.runId,
        position: run.s.position,
        counts: recordedCounts(run.counts.totals),
        skipReasons: run.counts.totals.skipped,
        finishedAt: run.now(),
      },
    },
  ]);
  if (E.isLeft(finished)) return finished;
  void run.destination.tidy?.();
  return E.right({
    destinationId: run.destinationId,
    runId: run.runId,
    mode: run.mode,
    reason: run.reason,
    ...(run.lost === undefined ? {} : { notice: run.lost }),
    considered: run.candidates.count,
    ...run.counts,
  });
};

/** The destination failed the run (a lookup gave up): recorded as RunFailed. */
const fail = async (run: Run, commands: Applying, message: string): Promise<E.Either<SyncError, never>> => {
  // The apply under way ends and its outcomes are recorded; commands still queued stay without
  // outcome, and the next run settles them by what it observes.
  await commands.underway();
  await run.write([
    ...run.outbox.splice(0),
    { type: 'RunFailed', data: { runId: run.runId, message, failedAt: run.now() } },
  ]);
  return E.left({ _tag: 'DestinationFailed', destinationId: run.destinationId, runId: run.runId, message });
};
