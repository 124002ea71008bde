// What a run did, counted: created, updated, deleted, skipped (by message), failed, unchanged.
// The same counts go into RunFinished, `sync --json` and the demo's summary.
import type { Command } from '../../domain/command.js';
import type { RecordedDecision, CommandResult } from '../../domain/syncEvents.js';

export type Counts = {
  readonly totals: Record<'created' | 'updated' | 'deleted' | 'skipped' | 'failed' | 'unchanged', number>;
  readonly skippedByMessage: Record<string, number>;
  readonly failures: { profileId: string; commandId: string; message: string; retryable: boolean }[];
};

export type RunSummary = Counts & {
  readonly destinationId: string;
  readonly runId: string;
  readonly mode: string;
  readonly reason: string;
  /** why the run looked at more than was asked (the destination lost its records), in words */
  readonly notice?: string;
  readonly considered: number;
};

export const emptyCounts = (): Counts => ({
  totals: { created: 0, updated: 0, deleted: 0, skipped: 0, failed: 0, unchanged: 0 },
  skippedByMessage: {},
  failures: [],
});

const DONE = { create: 'created', update: 'updated', delete: 'deleted' } as const;

/** Skips and unchanged profiles count when decided; commands count when their outcome is known. */
export const tallyDecided = (c: Counts, decisions: readonly RecordedDecision[], unchanged: number): void => {
  c.totals.unchanged += unchanged;
  for (const { decision } of decisions) {
    if (decision.operation !== 'skip') continue;
    c.totals.skipped++;
    const m = decision.message ?? 'skipped';
    c.skippedByMessage[m] = (c.skippedByMessage[m] ?? 0) + 1;
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
