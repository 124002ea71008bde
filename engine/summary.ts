// What a run did, counted: created, updated, deleted, skipped (by message), failed, unchanged.
// The same counts go into RunFinished, `sync --json` and the demo's summary.
import type { RecordedDecision, CommandResult } from '../domain/syncEvents.js';

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
  readonly considered: number;
};

export const emptyCounts = (): Counts => ({
  totals: { created: 0, updated: 0, deleted: 0, skipped: 0, failed: 0, unchanged: 0 },
  skippedByMessage: {},
  failures: [],
});

const DONE = { create: 'created', update: 'updated', delete: 'deleted' } as const;

export const tally = (
  c: Counts,
  decisions: readonly RecordedDecision[],
  results: readonly CommandResult[],
  unchanged: number,
): void => {
  c.totals.unchanged += unchanged;
  const byId = new Map(results.map((r) => [r.commandId, r]));
  for (const { commandId, decision } of decisions) {
    if (decision.operation === 'skip') {
      c.totals.skipped++;
      const m = decision.message ?? 'skipped';
      c.skippedByMessage[m] = (c.skippedByMessage[m] ?? 0) + 1;
      continue;
    }
    const r = byId.get(commandId);
    if (r?.status === 'ok') c.totals[DONE[decision.operation]]++;
    else {
      c.totals.failed++;
      c.failures.push({
        profileId: decision.profileId,
        commandId,
        message: r?.message ?? 'no outcome',
        retryable: r?.retryable ?? false,
      });
    }
  }
};
