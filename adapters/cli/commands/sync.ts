// `syncline sync [--destination D] [--batch-size N] [--full]`: a run per destination (observe,
// decide, record, apply, record outcomes), reporting what was created, updated, deleted, skipped.
import { InvalidArgumentError, type Command } from 'commander';
import * as E from 'fp-ts/lib/Either.js';
import * as TE from 'fp-ts/lib/TaskEither.js';
import { pipe } from 'fp-ts/lib/function.js';
import { defaultSyncOptions, syncDestination, type SyncError } from '../../../engine/run.js';
import type { RunSummary } from '../../../engine/summary.js';
import type { CliCommand, CliContext } from '../command.js';
import { failed, storeDamaged, type CliError } from '../errors.js';
import { plural, printJson, printLines, table } from '../output.js';
import { follow } from '../follow.js';
import { progressBar } from '../progress.js';
import { chosenDestinations, openDestination, withSession, type Session } from '../workspace.js';

type SyncFlags = {
  destination?: string;
  batchSize: number;
  applyBatchSize: number;
  full?: boolean;
  maxDeletes?: number;
  follow?: boolean;
};

export const nonNegativeInt = (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('must be a whole number of at least 0');
  return n;
};

export const positiveInt = (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a whole number of at least 1');
  return n;
};

const syncError = (e: SyncError, maxDeletes?: number): CliError => {
  switch (e._tag) {
    case 'Busy':
      return { _tag: 'Busy', destinationId: e.destinationId, runId: e.runId };
    case 'UnknownDestination':
      return failed(`destination ${e.destinationId} is not configured`);
    case 'StoreFailed':
      return { _tag: 'StoreFailed', message: e.message };
    case 'InvalidStoredEvent':
      return storeDamaged(e);
    case 'TooManyDeletes': {
      const records = (n: number) => (n === 1 ? '1 record' : `${n} records`);
      const why =
        maxDeletes === undefined
          ? ` (the larger of 10 and 25% of the ${records(e.owned)} syncline wrote there)`
          : ' (--max-deletes)';
      return failed(
        `destination ${e.destinationId}: this sync would delete ${records(e.deletes)}, more than the limit of ${e.limit}${why}; ` +
          `nothing was applied. Check with: syncline plan --destination ${e.destinationId}; ` +
          `to proceed: syncline sync --destination ${e.destinationId} --max-deletes ${e.deletes}`,
      );
    }
    case 'DestinationFailed':
      return {
        _tag: 'DestinationFailed',
        message: `destination ${e.destinationId}: run ${e.runId} stopped: ${e.message}`,
      };
  }
};

const runOne = (
  ctx: CliContext,
  s: Session,
  destinationId: string,
  flags: SyncFlags,
): TE.TaskEither<CliError, RunSummary> => {
  const config = s.state.destinations.get(destinationId)?.config;
  if (!config) return TE.left(failed(`destination ${destinationId} is not configured`));
  return TE.bracket(
    openDestination(ctx, config),
    (destination) => {
      const bar = progressBar(ctx, `sync ${destinationId}`);
      return pipe(
        () =>
          syncDestination(s.store, s.state, destinationId, destination, {
            ...defaultSyncOptions,
            batchSize: flags.batchSize,
            applyBatchSize: flags.applyBatchSize,
            full: flags.full === true,
            onProgress: bar.update,
            ...(flags.maxDeletes === undefined ? {} : { maxDeletes: flags.maxDeletes }),
          }).finally(bar.stop),
        TE.mapLeft((e) => syncError(e, flags.maxDeletes)),
      );
    },
    (destination) => TE.fromTask(() => destination.close()),
  );
};

export const summaryJson = (r: RunSummary) => ({
  destinationId: r.destinationId,
  runId: r.runId,
  mode: r.mode,
  considered: r.considered,
  created: r.totals.created,
  updated: r.totals.updated,
  deleted: r.totals.deleted,
  skipped: r.skippedByMessage,
  failed: r.totals.failed,
  unchanged: r.totals.unchanged,
  failures: r.failures,
});

export const summaryLines = (ctx: CliContext, r: RunSummary): string[] => {
  const c = ctx.colors;
  const t = r.totals;
  const lines = [
    `${c.bold(r.destinationId)} (${r.mode}): ${plural(r.considered, 'profile')} considered — ` +
      `${c.green(`${t.created} created`)}, ${c.cyan(`${t.updated} updated`)}, ${c.red(`${t.deleted} deleted`)}, ` +
      `${c.yellow(`${t.skipped} skipped`)}, ${t.failed > 0 ? c.red(`${t.failed} failed`) : '0 failed'}, ${t.unchanged} unchanged`,
  ];
  for (const [message, n] of Object.entries(r.skippedByMessage)) lines.push(`  skipped ${n}: ${message}`);
  if (r.failures.length > 0) {
    lines.push(
      table(
        c,
        ['profile', 'error', 'retryable'],
        r.failures.slice(0, 10).map((f) => [f.profileId, f.message, f.retryable ? 'yes' : 'no']),
      ),
    );
    if (r.failures.length > 10)
      lines.push(`  … and ${r.failures.length - 10} more (syncline log --destination ${r.destinationId})`);
  }
  return lines;
};

const run = (ctx: CliContext, flags: SyncFlags): TE.TaskEither<CliError, void> =>
  withSession(
    ctx,
    (s) =>
      flags.follow === true
        ? pipe(
            TE.fromEither(chosenDestinations(s.state, flags.destination)),
            TE.chain((configs) => follow(ctx, s, configs, flags, (r) => summaryLines(ctx, r), syncError)),
          )
        : pipe(
            TE.fromEither(chosenDestinations(s.state, flags.destination)),
            TE.chain((destinations) =>
              TE.sequenceSeqArray(destinations.map((d) => runOne(ctx, s, d.destinationId, flags))),
            ),
            TE.chainEitherK((summaries) => {
              if (ctx.options.json) printJson(ctx.io, { destinations: summaries.map(summaryJson) });
              else
                printLines(
                  ctx.io,
                  summaries.flatMap((r) => summaryLines(ctx, r)),
                );
              const failedCount = summaries.reduce((n, r) => n + r.totals.failed, 0);
              return failedCount > 0
                ? E.left(
                    failed(`${plural(failedCount, 'command')} failed; see syncline log, then syncline retry`),
                  )
                : E.right(undefined);
            }),
          ),
    // A follower keeps its snapshots between rounds of runs itself (see follow).
    { keepsSnapshot: flags.follow !== true },
  );

export const syncCommand: CliCommand = (program, runHandler) => {
  program
    .command('sync')
    .description('observe each destination, decide, record, apply and record the outcomes')
    .option('--destination <id>', 'only this destination')
    .option('--batch-size <n>', 'profiles per lookup, decision and apply batch', positiveInt, 500)
    .option(
      '--apply-batch-size <n>',
      'commands applied to the destination at once, gathered from consecutive batches',
      positiveInt,
      defaultSyncOptions.applyBatchSize,
    )
    .option('--full', 'look at every profile, not only those changed since the last run')
    .option('--follow', 'keep syncing as new events arrive, until interrupted')
    .option(
      '--max-deletes <n>',
      'refuse a run that would delete more records than this (default: the larger of 10 and 25% of the records syncline owns there)',
      nonNegativeInt,
    )
    .action((flags: SyncFlags, command: Command) => runHandler(command, (ctx) => run(ctx, flags)));
};
