// `syncline sync [--destination D] [--batch-size N] [--full] [--follow]`: a run per destination
// (observe, decide, record, apply, record outcomes), each reported, a failing one never stopping the rest.
import { InvalidArgumentError, type Command } from 'commander';
import * as E from 'fp-ts/lib/Either.js';
import * as TE from 'fp-ts/lib/TaskEither.js';
import { pipe } from 'fp-ts/lib/function.js';
import type { DestinationConfig } from '../../../domain/destination.js';
import { defaultSyncOptions, syncDestination, type SyncError } from '../../../engine/sync/run.js';
import { skippedTotal, type RunSummary } from '../../../engine/sync/summary.js';
import type { CliCommand, CliContext } from '../command.js';
import { errorLines, type CliError } from '../errors.js';
import { plural, printJson, printLines, table } from '../output.js';
import { follow } from '../follow.js';
import { progressBar } from '../progress.js';
import {
  cannotOpen,
  closingError,
  inOrder,
  notSynced,
  notSyncedJson,
  summaryJson,
  type SyncResult,
} from '../syncReport.js';
import { chosenDestinations, openDestination, withSession, type Session } from '../workspace.js';

type SyncFlags = {
  destination?: string;
  batchSize: number;
  applyBatchSize: number;
  full?: boolean;
  maxDeletes?: number;
  follow?: boolean;
};

/** Digits only: Number() would also take `1e3`, `0x10`, ` 5` and `5.0`. */
const wholeNumber = (value: string, least: number): number => {
  const n = /^\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n < least)
    throw new InvalidArgumentError(`must be a whole number of at least ${least}`);
  return n;
};

export const nonNegativeInt = (value: string): number => wholeNumber(value, 0);

export const positiveInt = (value: string): number => wholeNumber(value, 1);

/**
 * One destination's run, from opening it to closing it: its summary, or why it was not synced. Only
 * a bug rejects; a failure of the destination, of its config or of the store is a value.
 */
const syncOne = async (
  ctx: CliContext,
  s: Session,
  config: DestinationConfig,
  flags: SyncFlags,
): Promise<SyncResult> => {
  const { destinationId } = config;
  const opened = await openDestination(ctx, config)();
  if (E.isLeft(opened)) return E.left(cannotOpen(destinationId, errorLines(opened.left).join('; ')));
  const destination = opened.right;
  const bar = progressBar(ctx, `sync ${destinationId}`);
  try {
    const r = await syncDestination(s.store, s.state, destinationId, destination, {
      ...defaultSyncOptions,
      batchSize: flags.batchSize,
      applyBatchSize: flags.applyBatchSize,
      full: flags.full === true,
      onProgress: bar.update,
      ...(flags.maxDeletes === undefined ? {} : { maxDeletes: flags.maxDeletes }),
    });
    return E.mapLeft((e: SyncError) => notSynced(destinationId, e, flags.maxDeletes))(r);
  } finally {
    bar.stop();
    await destination.close();
  }
};

/**
 * Syncs every destination in order (see inOrder): each run's summary is printed as it ends (text),
 * and with several destinations each failure's reason goes to stderr as it comes; --json prints
 * every outcome at the end.
 */
const syncAll =
  (
    ctx: CliContext,
    s: Session,
    configs: readonly DestinationConfig[],
    flags: SyncFlags,
  ): TE.TaskEither<CliError, void> =>
  async () => {
    const outcomes = await inOrder(
      configs,
      (config) => syncOne(ctx, s, config, flags),
      (outcome) => {
        if (E.isRight(outcome)) {
          if (!ctx.options.json) printLines(ctx.io, summaryLines(ctx, outcome.right));
        } else if (configs.length > 1) ctx.io.stderr(`syncline: ${outcome.left.message}\n`);
      },
    );
    if (ctx.options.json)
      printJson(ctx.io, {
        destinations: outcomes.map((o) => (E.isRight(o) ? summaryJson(o.right) : notSyncedJson(o.left))),
      });
    const closing = closingError(outcomes);
    return closing === undefined ? E.right(undefined) : E.left(closing);
  };

export const summaryLines = (ctx: CliContext, r: RunSummary): string[] => {
  const c = ctx.colors;
  const t = r.totals;
  const lines = [
    `${c.bold(r.destinationId)} (${r.mode}): ${plural(r.considered, 'profile')} considered — ` +
      `${c.green(`${t.created} created`)}, ${c.cyan(`${t.updated} updated`)}, ${c.red(`${t.deleted} deleted`)}, ` +
      `${c.yellow(`${skippedTotal(t)} skipped`)}, ${t.failed > 0 ? c.red(`${t.failed} failed`) : '0 failed'}, ${t.unchanged} unchanged`,
  ];
  if (r.notice !== undefined) lines.push(`  ${c.yellow(r.notice)}`);
  for (const [message, n] of Object.entries(t.skipped)) lines.push(`  skipped ${n}: ${message}`);
  if (r.failures.length > 0) {
    lines.push(
      table(
        ctx,
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
  withSession(ctx, (s) =>
    pipe(
      TE.fromEither(chosenDestinations(s.state, flags.destination)),
      TE.chain((configs) =>
        flags.follow === true
          ? follow(ctx, s, configs, flags, (r) => summaryLines(ctx, r))
          : syncAll(ctx, s, configs, flags),
      ),
    ),
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
