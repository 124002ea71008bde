// A sync run for one destination: catch up, pick the candidates, and per batch look up, decide,
// record, apply and record outcomes, every append guarded by the sync stream's expected revision.
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import * as E from 'fp-ts/lib/Either.js';
import type { Adoption } from '../../domain/adopt.js';
import type { Command } from '../../domain/command.js';
import { keyAfter } from '../../domain/decide.js';
import { isDecision, type Decision } from '../../domain/decision.js';
import { commandId } from '../../domain/ids.js';
import type { SyncModeName } from '../../domain/modes.js';
import { profileTag, syncStream, type RecordedDecision, type SyncEvent } from '../../domain/syncEvents.js';
import { pendingMark } from '../../projections/pending.js';
import { applying, gatherFor, type Tagged } from './applying.js';
import { batchBounds, judge, keysOf, prepare } from './batch.js';
import { resolveLookAhead, type LookAhead } from './lookAhead.js';
import { candidates } from './candidates.js';
import { holdingOf, lostEverything } from './lost.js';
import { checkDeletes, type TooManyDeletes } from './guardrail.js';
import { defaultDelivery, type DeliveryOptions } from './deliver.js';
import { lookupWithRetry } from './observe.js';
import type { Destination, EventStore } from '../ports.js';
import { applyStored, catchUp, type DestinationView, type EngineState } from '../state/engineState.js';
import type { InvalidStoredEvent } from '../state/storedEvents.js';
import { emptyCounts, tallyDecided, type RunSummary } from './summary.js';

export type SyncError =
  | { readonly _tag: 'UnknownDestination'; readonly destinationId: string }
  | { readonly _tag: 'Busy'; readonly destinationId: string; readonly runId: string }
  | { readonly _tag: 'StoreFailed'; readonly message: string }
  | {
      readonly _tag: 'DestinationFailed';
      readonly destinationId: string;
      readonly runId: string;
      readonly message: string;
    }
  | TooManyDeletes
  | InvalidStoredEvent;

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

const toCommand = (id: string, d: Decision): Command => ({
  commandId: id,
  profileId: d.profileId,
  operation: d.operation as Command['operation'],
  key: d.key ?? '',
  fields: d.fields,
  groups: d.groups,
});

/** Resolves with the position of the last event appended. `foreign` counts the appends after which
 *  events written by others were folded too (the world may have changed under the run). */
type Writer = ((events: Tagged[]) => Promise<E.Either<SyncError, number>>) & {
  readonly foreign: () => number;
};

/** Appends to the sync stream at the revision we last saw, then folds what landed (ours and others'). */
const writer = (store: EventStore, s: EngineState, v: DestinationView, runId: () => string): Writer => {
  let foreign = 0;
  const write = async (events: Tagged[]): Promise<E.Either<SyncError, number>> => {
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
  const config = v.config;
  const open = v.ledger.open;
  if (open && opts.isAlive(open.owner)) return E.left({ _tag: 'Busy', destinationId, runId: open.runId });

  const mode: SyncModeName = config.syncMode ?? destination.describe().defaultMode;
  const runId = randomUUID();
  const write = writer(store, s, v, () => runId);
  // Asked before the candidates: a destination that lost every record needs everyone looked at.
  const lost = lostEverything(await holdingOf(destination, v, 1));
  const { profileIds, reason } = candidates(s, v, lost !== undefined ? 'records-lost' : opts.full);
  const now = () => opts.delivery.now().toISOString();
  // batch k holds the candidates from bounds[k] up to bounds[k + 1]
  const bounds = batchBounds(profileIds.length, opts.batchSize);
  const batches = bounds.length - 1;
  // Every command pending now was decided before the run: see prepare.
  const decidedBefore = pendingMark(v.ledger.pending);
  const look = (index: number): LookAhead => {
    const batch = prepare(
      s,
      v,
      config,
      mode,
      profileIds.slice(bounds[index], bounds[index + 1]),
      decidedBefore,
    );
    const keys = keysOf(batch);
    const found = lookupWithRetry(destination, keys, opts.delivery);
    // Awaited by the next iteration; a bug's rejection must not go unhandled if the run ends first.
    found.catch(() => undefined);
    return { index, batch, keys, found, foreign: write.foreign(), taken: v.ledger.taken, decidedBefore };
  };
  // The first batch is looked up while the guardrail counts and the run is recorded as started: a
  // lookup only reads, and `resolveLookAhead` prepares it again if anything it relied on moved meanwhile.
  const first: LookAhead | null = batches > 0 ? look(0) : null;
  // Refused before anything is recorded or applied: the user decides, then runs again.
  const deletes = await checkDeletes(s, v, mode, profileIds, destination, opts.maxDeletes, opts.delivery);
  if (E.isLeft(deletes)) {
    return E.left(
      typeof deletes.left === 'string'
        ? { _tag: 'DestinationFailed', destinationId, runId, message: deletes.left }
        : deletes.left,
    );
  }
  const started = await write([
    {
      type: 'RunStarted',
      data: {
        runId,
        destinationId,
        position: s.position,
        mode,
        config,
        owner: opts.owner,
        startedAt: now(),
        reason,
      },
    },
  ]);
  if (E.isLeft(started)) return E.left(started.left);

  const counts = emptyCounts();
  const outbox: Tagged[] = [];
  const commands = applying(
    destination,
    store.flush(),
    opts.delivery,
    opts.applyBatchSize,
    gatherFor(profileIds.length, opts.batchSize, opts.applyBatchSize),
    { destinationId, runId },
    counts,
    outbox,
  );
  for (let ahead = first; ahead !== null;) {
    const k = ahead.index;
    const end = bounds[k + 1] as number;
    const seen = await resolveLookAhead(ahead, write.foreign(), () => look(k), s, v, config, mode);
    if (E.isLeft(seen)) return fail(write, outbox, commands.underway, destinationId, runId, seen.left, now);
    const { batch, keys, records } = seen.right;
    const position = s.position;

    const judged = judge(batch, records);
    const decisions: RecordedDecision[] = [];
    const settled: { commandId: string; status: 'confirmed' | 'superseded' }[] = [];
    const cleared: string[] = [];
    const adopted: Adoption[] = [];
    let unchanged = 0;
    for (const { prepared, verdict, settled: settledHere, adopted: adoptedHere } of judged) {
      const pid = prepared.profileId;
      // Commands left without outcome by a crash: confirmed when the destination shows them applied,
      // superseded otherwise (the fresh decision, if any, replaces them).
      settled.push(...settledHere);
      if (adoptedHere !== undefined) adopted.push(adoptedHere);
      if (!isDecision(verdict)) {
        unchanged++;
        if (v.ledger.failures.has(pid) || v.ledger.retryRequested.has(pid)) cleared.push(pid);
        continue;
      }
      const claims = prepared.input.claims;
      // Recorded only when it differs: most decisions keep their key, and the record is per profile.
      const renamedTo = keyAfter(config.keyField, verdict);
      const recorded: RecordedDecision = {
        commandId: commandId(destinationId, pid, position, verdict.operation),
        decision: verdict,
      };
      if (renamedTo !== undefined && renamedTo !== verdict.key) recorded.keyAfter = renamedTo;
      if (Object.keys(claims).length > 0) recorded.claims = claims;
      decisions.push(recorded);
    }
    // The next batch is looked up while this one is recorded: a destination that answers off this
    // thread (the SQLite destination's reader) overlaps the append. See `resolveLookAhead` for why.
    ahead = k + 1 < batches ? look(k + 1) : null;
    const decided = await write([
      ...outbox.splice(0),
      {
        type: 'BatchDecided',
        tags: batch.map((p) => profileTag(destinationId, p.profileId)),
        data: {
          runId,
          position,
          profileIds: batch.map((p) => p.profileId),
          keys,
          observed: records as BatchObserved,
          decisions,
          decidedAt: now(),
          ...(settled.length > 0 ? { settled } : {}),
          ...(cleared.length > 0 ? { cleared } : {}),
          ...(adopted.length > 0 ? { adopted } : {}),
          unchanged,
        },
      },
    ]);
    if (E.isLeft(decided)) {
      // Another writer took the stream: nothing more can be recorded, but the apply under way ends first.
      await commands.underway().catch(() => undefined);
      return E.left(decided.left);
    }
    tallyDecided(counts, decisions, unchanged);
    // The store and the SQLite destination answer synchronously, so without this the run would never
    // return to the event loop: a finished apply's reply, timers and signals would wait for the end.
    await new Promise<void>((resolve) => setImmediate(resolve));
    const toApply: Command[] = [];
    for (const r of decisions)
      if (r.decision.operation !== 'skip') toApply.push(toCommand(r.commandId, r.decision));
    await commands.recorded(toApply, decided.right, profileIds.length - end);
    opts.onProgress?.(end, profileIds.length);
  }
  await commands.drain();

  const finished = await write([
    ...outbox.splice(0),
    { type: 'RunFinished', data: { runId, position: s.position, counts: counts.totals, finishedAt: now() } },
  ]);
  if (E.isLeft(finished)) return E.left(finished.left);
  void destination.tidy?.();
  return E.right({
    destinationId,
    runId,
    mode,
    reason,
    ...(lost === undefined ? {} : { notice: lost }),
    considered: profileIds.length,
    ...counts,
  });
};

type BatchObserved = Extract<SyncEvent, { type: 'BatchDecided' }>['data']['observed'];

const fail = async (
  write: Writer,
  outbox: Tagged[],
  applied: () => Promise<void>,
  destinationId: string,
  runId: string,
  message: string,
  now: () => string,
): Promise<E.Either<SyncError, RunSummary>> => {
  // The apply under way ends and its outcomes are recorded; commands still queued stay without
  // outcome, and the next run settles them by what it observes.
  await applied();
  await write([...outbox.splice(0), { type: 'RunFailed', data: { runId, message, failedAt: now() } }]);
  return E.left({ _tag: 'DestinationFailed', destinationId, runId, message });
};
