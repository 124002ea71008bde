// The events the engine writes to `sync-<destinationId>`: runs, observations with the decisions
// made from them, and outcomes. Each decision keeps its inputs (position, config, observation).
import * as t from 'io-ts';
import { Adoption } from './adopt.js';
import { NonEmptyString, dictionary, oneOf, struct, taggedUnion } from './codec.js';
import { Decision, ObservedRecord } from './decision.js';
import { DestinationConfig } from './destination.js';
import { SyncModeName } from './modes.js';
import { Id, IsoTime } from './values.js';

const syncEvent = <T extends string, D extends t.Mixed>(type: T, data: D) =>
  struct(type, { type: t.literal(type), data }, { id: NonEmptyString, occurredAt: IsoTime });

/** A run begins: the store position it decides at and the configuration and mode in force. */
export const RunStarted = syncEvent(
  'RunStarted',
  struct(
    'data',
    {
      runId: NonEmptyString,
      destinationId: Id,
      position: t.number,
      mode: SyncModeName,
      config: DestinationConfig,
      /** who runs it, so a second process can tell a live run from one that crashed */
      owner: struct('owner', { host: t.string, pid: t.number }),
      startedAt: IsoTime,
    },
    { reason: t.string },
  ),
);

/** One recorded decision: the command id (deterministic), the decision, and claims it relied on. */
export const RecordedDecision = struct(
  'RecordedDecision',
  { commandId: NonEmptyString, decision: Decision },
  {
    /** the record's key once the command is applied, recorded only on a rename (otherwise decision.key) */
    keyAfter: t.string,
    /** key → the other in-scope profile that claimed it, when any did */
    claims: dictionary(t.string, Id),
  },
);
export type RecordedDecision = t.TypeOf<typeof RecordedDecision>;

/** Commands of an earlier run that never got an outcome (a crash), settled by a fresh observation. */
export const Settlement = struct('Settlement', {
  commandId: NonEmptyString,
  /** confirmed: a fresh lookup shows it applied; superseded: it was not seen applied, and the
   *  profile's new decision (made from the ledger as confirmed commands leave it) replaces it */
  status: oneOf('SettlementStatus', ['confirmed', 'superseded'] as const),
});
export type Settlement = t.TypeOf<typeof Settlement>;

/** A batch: the keys looked up, what the destination held, and the decisions made from it. */
export const BatchDecided = syncEvent(
  'BatchDecided',
  struct(
    'data',
    {
      runId: NonEmptyString,
      position: t.number,
      /** every profile the batch looked at, including those that needed nothing */
      profileIds: t.array(Id),
      keys: t.array(t.string),
      observed: t.array(ObservedRecord),
      decisions: t.array(RecordedDecision),
      decidedAt: IsoTime,
    },
    {
      settled: t.array(Settlement),
      /** profiles whose failure or retry request ends because nothing is left to do for them */
      cleared: t.array(Id),
      /** how many profiles of the batch needed nothing */
      unchanged: t.number,
      /** records the batch matched to profiles whose ledger entry did not say so (see domain/adopt.ts) */
      adopted: t.array(Adoption),
    },
  ),
);

export const CommandResult = struct(
  'CommandResult',
  {
    commandId: NonEmptyString,
    status: oneOf('CommandStatus', ['ok', 'error'] as const),
    attempts: t.number,
    at: IsoTime,
  },
  { retryable: t.boolean, message: t.string },
);
export type CommandResult = t.TypeOf<typeof CommandResult>;

export const BatchApplied = syncEvent(
  'BatchApplied',
  struct(
    'data',
    {
      runId: NonEmptyString,
      /** outcomes other than those in `ok`: failures, and successes that took retries */
      results: t.array(CommandResult),
    },
    {
      /** the commands that succeeded at their first attempt, all at `at`: most of a run's outcomes,
       *  recorded as ids alone (a first sync records one per profile). Older stores lack it. */
      ok: struct('ok', { at: IsoTime, commandIds: t.array(NonEmptyString) }),
    },
  ),
);
type Applied = t.TypeOf<typeof BatchApplied>['data'];

/** Every outcome a BatchApplied records, `ok` ones included, as CommandResults. */
export const resultsOf = (applied: Applied): CommandResult[] => {
  const ok = applied.ok;
  if (ok === undefined || ok.commandIds.length === 0) return applied.results;
  return [
    ...ok.commandIds.map((commandId): CommandResult => ({ commandId, status: 'ok', attempts: 1, at: ok.at })),
    ...applied.results,
  ];
};

/** The form a BatchApplied records `results` in: first-attempt successes at one time as ids alone. */
export const appliedData = (runId: string, results: readonly CommandResult[]): Applied => {
  const first = results.find(firstTime);
  if (first === undefined) return { runId, results: [...results] };
  const commandIds: string[] = [];
  const others: CommandResult[] = [];
  for (const r of results)
    if (firstTime(r) && r.at === first.at) commandIds.push(r.commandId);
    else others.push(r);
  return { runId, results: others, ok: { at: first.at, commandIds } };
};

const firstTime = (r: CommandResult): boolean =>
  r.status === 'ok' && r.attempts === 1 && r.retryable === undefined && r.message === undefined;

export const RunCounts = dictionary(t.string, t.number);

/** `counts` holds a number per kind of outcome (skips summed); `skipReasons` the skips per reason
 *  (the decision's message). Older stores lack skipReasons. */
export const RunFinished = syncEvent(
  'RunFinished',
  struct(
    'data',
    { runId: NonEmptyString, position: t.number, counts: RunCounts, finishedAt: IsoTime },
    { skipReasons: RunCounts },
  ),
);

/** A run that stopped before finishing (the destination stayed down): its reason, for status and log. A run
 *  the delete guardrail refuses is refused before it starts, so it records nothing. */
export const RunFailed = syncEvent(
  'RunFailed',
  struct('data', { runId: NonEmptyString, message: t.string, failedAt: IsoTime }),
);

/** `syncline retry`: failed commands' profiles are reconciled again from fresh state on the next sync. */
export const RetryRequested = syncEvent(
  'RetryRequested',
  struct('data', { profileIds: t.array(Id), requestedAt: IsoTime }),
);

const members = { RunStarted, BatchDecided, BatchApplied, RunFinished, RunFailed, RetryRequested };

export const SyncEvent = taggedUnion(
  'SyncEvent',
  'type',
  t.union([RunStarted, BatchDecided, BatchApplied, RunFinished, RunFailed, RetryRequested]),
  members,
);
export type SyncEvent = t.TypeOf<typeof SyncEvent>;

/** The prefix of every destination's sync stream: no input stream starts with it. */
export const SYNC_PREFIX = 'sync-';

export const syncStream = (destinationId: string): string => `${SYNC_PREFIX}${destinationId}`;

/** The tag that finds every decision about one profile at one destination (log, explain); stores
 *  written before appliedTag existed carry it on outcomes too. */
export const profileTag = (destinationId: string, profileId: string): string =>
  `${syncStream(destinationId)}/${profileId}`;

/**
 * The tag on the BatchApplied events holding outcomes of the commands recorded by the BatchDecided at
 * `decidedAt` (its store position). Outcomes are found from their decisions: a tag per decided batch
 * costs a hundredth of a tag per command, and a first sync writes one per profile.
 */
export const appliedTag = (destinationId: string, decidedAt: number): string =>
  `applied-${destinationId}@${decidedAt}`;
