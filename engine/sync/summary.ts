// What a run did, counted: created, updated, deleted, skipped (per reason), failed, unchanged. One
// shape for the library's result, `sync --json`, `sync --follow --json`, `status --json` and the demo.
import * as t from 'io-ts';
import type { Command } from '../../domain/command.js';
import type { RecordedDecision, CommandResult } from '../../domain/syncEvents.js';

/**
 * A run's outcomes by kind. Skips are counted per reason (the decision's message): the reason is
 * what a user acts on, and the total is their sum (see skippedTotal).
 */
export const RunTotals = t.type({
  created: t.number,
  updated: t.number,
  deleted: t.number,
  skipped: t.record(t.string, t.number),
  failed: t.number,
  unchanged: t.number,
});
export type RunTotals = t.TypeOf<typeof RunTotals>;

export const CommandFailure = t.type({
  profileId: t.string,
  commandId: t.string,
  message: t.string,
  retryable: t.boolean,
});

export const RunSummary = t.intersection([
  t.type({
    destinationId: t.string,
    runId: t.string,
    mode: t.string,
    reason: t.string,
    considered: t.number,
    totals: RunTotals,
    failures: t.array(CommandFailure),
  }),
  /** notice: why the run looked at more than was asked (the destination lost its records), in words */
  t.partial({ notice: t.string }),
]);
export type RunSummary = t.TypeOf<typeof RunSummary>;

export type Counts = Pick<RunSummary, 'totals' | 'failures'>;

export const skippedTotal = (totals: RunTotals): number =>
  Object.values(totals.skipped).reduce((n, k) => n + k, 0);

/** The counts as RunFinished records them: a number per kind, skips summed (their reasons beside). */
export const recordedCounts = (totals: RunTotals): Record<string, number> => ({
  ...totals,
  skipped: skippedTotal(totals),
});

/** A run's totals from what RunFinished recorded; reasons a store did not record are said to be so. */
export const recordedTotals = (
  counts: Readonly<Record<string, number>>,
  skipReasons: Readonly<Record<string, number>> | undefined,
): RunTotals => {
  const skipped = counts.skipped ?? 0;
  return {
    created: counts.created ?? 0,
    updated: counts.updated ?? 0,
    deleted: counts.deleted ?? 0,
    skipped: skipReasons ?? (skipped > 0 ? { [UNRECORDED_REASON]: skipped } : {}),
    failed: counts.failed ?? 0,
    unchanged: counts.unchanged ?? 0,
  };
};

/** The reason given to skips a run recorded without their reasons (RunFinished without skipReasons). */
export const UNRECORDED_REASON = '(reason not recorded)';

export const emptyCounts = (): Counts => ({
  totals: { created: 0, updated: 0, deleted: 0, skipped: {}, failed: 0, unchanged: 0 },
  failures: [],
});

const DONE = { create: 'created', update: 'updated', delete: 'deleted' } as const;

/** Skips and unchanged profiles count when decided; commands count when their outcome is known. */
export const tallyDecided = (c: Counts, decisions: readonly RecordedDecision[], unchanged: number): void => {
  c.totals.unchanged += unchanged;
  for (const { decision } of decisions) {
    if (decision.operation !== 'skip') continue;
    const m = decision.message ?? 'skipped';
    c.totals.skipped[m] = (c.totals.skipped[m] ?? 0) + 1;
  }
};

export const tallyApplied = (
  c: Counts,
  commands: readonly Command[],
  results: readonly CommandResult[],
): void => {
  commands.forEach((command, i) => {
    const r = results[i];
    if (r?.status === 'ok') {
      c.totals[DONE[command.operation]]++;
      return;
    }
    c.totals.failed++;
    c.failures.push({
      profileId: command.profileId,
      commandId: command.commandId,
      message: r?.message ?? 'no outcome',
      retryable: r?.retryable ?? false,
    });
  });
};
