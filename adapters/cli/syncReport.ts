// What `sync` says about each destination it was asked to sync: the run's summary, or why the
// destination was not synced (a line naming it, a kind for scripts), and the line that closes a sync.
import { invalidStoredMessage } from '../../engine/state/storedEvents.js';
import * as E from 'fp-ts/lib/Either.js';
import type { SyncError } from '../../engine/sync/run.js';
import { RunSummary } from '../../engine/sync/summary.js';
import { destinationFailed, failed, storeFailed, type CliError } from './errors.js';
import { plural } from './output.js';

export type NotSynced = {
  readonly destinationId: string;
  /** for scripts: `--json`'s error.kind */
  readonly kind:
    'CannotOpen' | 'NotConfigured' | 'Busy' | 'TooManyDeletes' | 'RunFailed' | 'StoreFailed' | 'NotAttempted';
  /** one line naming the destination: what stderr says, and `--json`'s error.message */
  readonly message: string;
  /** the run in the way (Busy) or the one that stopped (RunFailed) */
  readonly runId?: string;
  /** what the delete guardrail counted, and its limit (TooManyDeletes) */
  readonly deletes?: number;
  readonly limit?: number;
};

export type SyncResult = E.Either<NotSynced, RunSummary>;

/** Messages from elsewhere (a destination type's open) usually name the destination; else they are made to. */
export const naming = (destinationId: string, message: string): string =>
  message.startsWith(`destination ${destinationId}`) ? message : `destination ${destinationId}: ${message}`;

export const cannotOpen = (destinationId: string, message: string): NotSynced => ({
  destinationId,
  kind: 'CannotOpen',
  message: naming(destinationId, message),
});

export const notConfigured = (destinationId: string): NotSynced => ({
  destinationId,
  kind: 'NotConfigured',
  message: `destination ${destinationId} is not configured`,
});

/** A destination whose turn never came: the store failed during an earlier one's run. */
export const notAttempted = (destinationId: string): NotSynced => ({
  destinationId,
  kind: 'NotAttempted',
  message: `destination ${destinationId} was not synced: the store failed before its turn`,
});

const records = (n: number): string => plural(n, 'record');

/**
 * Why the run for `destinationId` did not happen or did not finish; `maxDeletes` as given on the
 * command line, if it was.
 */
export const notSynced = (destinationId: string, e: SyncError, maxDeletes?: number): NotSynced => {
  switch (e._tag) {
    case 'Busy':
      return {
        destinationId: e.destinationId,
        kind: 'Busy',
        runId: e.runId,
        message: `destination ${e.destinationId} is being synced by another process (run ${e.runId})`,
      };
    case 'UnknownDestination':
      return notConfigured(e.destinationId);
    case 'StoreFailed':
      return {
        destinationId,
        kind: 'StoreFailed',
        message: `destination ${destinationId} was not synced: the store failed: ${e.message}`,
      };
    case 'InvalidStoredEvent':
      // The store holds an event no fold may take: no destination after this one can be synced either.
      return { destinationId, kind: 'StoreFailed', message: invalidStoredMessage(e) };
    case 'TooManyDeletes': {
      const why =
        maxDeletes === undefined
          ? ` (the larger of 10 and 25% of the ${records(e.owned)} syncline wrote there)`
          : ' (--max-deletes)';
      return {
        destinationId: e.destinationId,
        kind: 'TooManyDeletes',
        deletes: e.deletes,
        limit: e.limit,
        message:
          `destination ${e.destinationId}: this sync would delete ${records(e.deletes)}, more than the limit of ${e.limit}${why}; ` +
          `nothing was applied. Check with: syncline plan --destination ${e.destinationId}; ` +
          `to proceed: syncline sync --destination ${e.destinationId} --max-deletes ${e.deletes}`,
      };
    }
    case 'DestinationFailed':
      return {
        destinationId: e.destinationId,
        kind: 'RunFailed',
        runId: e.runId,
        message: `destination ${e.destinationId}: run ${e.runId} stopped: ${e.message}`,
      };
  }
};

/**
 * Runs `syncOne` for each destination in order, whatever happened to the ones before, and tells
 * `told` each outcome as it comes. A failing store stops the rest, which are NotAttempted: every run
 * records its decisions in the store before applying them, so none after it could be synced either,
 * and the state in memory may no longer be what the store holds.
 */
export const inOrder = async <D extends { readonly destinationId: string }>(
  destinations: readonly D[],
  syncOne: (destination: D) => Promise<SyncResult>,
  told: (outcome: SyncResult) => void,
): Promise<SyncResult[]> => {
  const outcomes: SyncResult[] = [];
  let storeFailed = false;
  for (const destination of destinations) {
    if (storeFailed) {
      outcomes.push(E.left(notAttempted(destination.destinationId)));
      continue;
    }
    const outcome = await syncOne(destination);
    outcomes.push(outcome);
    told(outcome);
    storeFailed = E.isLeft(outcome) && outcome.left.kind === 'StoreFailed';
  }
  return outcomes;
};

/**
 * `--json`'s entry for a destination synced: the library's RunSummary as is (docs/cli.md, "Run
 * summaries"), the one shape of `sync`, `sync --follow`, the demo and, for a run's totals, `status`.
 */
export const summaryJson = (r: RunSummary): RunSummary => RunSummary.encode(r);

/** `--json`'s entry for a destination not synced, beside the summaries of those that were. */
export const notSyncedJson = ({ destinationId, kind, message, runId, deletes, limit }: NotSynced) => ({
  destinationId,
  error: {
    kind,
    message,
    ...(runId === undefined ? {} : { runId }),
    ...(deletes === undefined ? {} : { deletes }),
    ...(limit === undefined ? {} : { limit }),
  },
});

/** A destination synced alone that failed fails the command with its own line, as any command does. */
export const asCliError = (f: NotSynced): CliError =>
  f.kind === 'StoreFailed' ? storeFailed(f.message) : destinationFailed(f.message);

const was = (n: number): string => (n === 1 ? 'was' : 'were');

/**
 * The command's failure, if any: for one destination, its own reason; for several (whose reasons
 * were printed as they came), one line naming those not synced and those with failed commands.
 * Undefined when every destination was synced and every command applied.
 */
export const closingError = (outcomes: readonly SyncResult[]): CliError | undefined => {
  const failures = outcomes.flatMap((o) => (E.isLeft(o) ? [o.left] : []));
  const summaries = outcomes.flatMap((o) => (E.isRight(o) ? [o.right] : []));
  if (outcomes.length === 1 && failures[0] !== undefined) return asCliError(failures[0]);
  const parts: string[] = [];
  if (failures.length > 0)
    parts.push(
      `${failures.length} of ${outcomes.length} destinations ${was(failures.length)} not synced: ` +
        failures.map((f) => f.destinationId).join(', '),
    );
  const withFailed = summaries.filter((r) => r.totals.failed > 0);
  const commands = withFailed.reduce((n, r) => n + r.totals.failed, 0);
  if (commands > 0) {
    const where = outcomes.length > 1 ? ` in ${withFailed.map((r) => r.destinationId).join(', ')}` : '';
    parts.push(`${plural(commands, 'command')} failed${where}; see syncline log, then syncline retry`);
  }
  return parts.length === 0 ? undefined : failed(parts.join('; '));
};
