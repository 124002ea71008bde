// `syncline replay --destination D [--run R | --since T --until T] [--verify] [--mode M | --with-config F]`:
// recorded runs recomputed from their inputs — checked (exit 1 on any mismatch) or re-decided what-if.
import { Option, type Command } from 'commander';
import * as E from 'fp-ts/lib/Either.js';
import * as TE from 'fp-ts/lib/TaskEither.js';
import { pipe } from 'fp-ts/lib/function.js';
import { decodeConfig } from '../../../domain/config.js';
import type { DestinationConfig } from '../../../domain/destination.js';
import { SYNC_MODES, type SyncModeName } from '../../../domain/modes.js';
import { StoreReadFailed, type EventStore } from '../../../engine/ports.js';
import {
  replayDestination,
  type Replay,
  type ReplayError,
  type RunFilter,
} from '../../../engine/audit/replay.js';
import { resolveDestination } from '../../destinations/registry.js';
import type { CliCommand, CliContext } from '../command.js';
import {
  failed,
  invalidInput,
  storeDamaged,
  storeUnreadable,
  unexpected,
  usageError,
  type CliError,
} from '../errors.js';
import { readJson } from '../input.js';
import { plural, printJson, printLines } from '../output.js';
import { progressBar } from '../progress.js';
import { timeOption } from '../time.js';
import { humanReplay, jsonReplay, mismatchCount, type WhatIf } from './replayOutput.js';
import { positiveInt } from './sync.js';
import { configuredIn, notConfigured, withFoldedState, withStore } from '../workspace.js';

type ReplayFlags = {
  destination: string;
  run?: string;
  since?: string;
  until?: string;
  verify?: boolean;
  mode?: SyncModeName;
  withConfig?: string;
  limit: number;
};

/** The alternative configuration: the file's destination D, its mode settled as `apply` would. */
const whatIfConfig = (
  ctx: CliContext,
  file: string,
  destinationId: string,
): TE.TaskEither<CliError, DestinationConfig> =>
  pipe(
    readJson(ctx.io.cwd, file),
    TE.chainEitherK((raw) => {
      const decoded = decodeConfig(raw);
      if (E.isLeft(decoded)) return E.left(invalidInput(file, decoded.left.problems));
      const found = decoded.right.destinations.find((d) => d.destinationId === destinationId);
      if (!found) {
        const ids = decoded.right.destinations.map((d) => d.destinationId).join(', ');
        return E.left(
          invalidInput(file, [
            `destinations: no destination ${destinationId} (it has: ${ids === '' ? 'none' : ids})`,
          ]),
        );
      }
      const resolved = resolveDestination(found);
      return E.isLeft(resolved)
        ? E.left(invalidInput(file, resolved.left.problems))
        : E.right(resolved.right.config);
    }),
  );

/** No runs: of a destination the store knows (it has not synced yet), or of one it never had. */
const noRuns = (ctx: CliContext, store: EventStore, destinationId: string): TE.TaskEither<CliError, never> =>
  withFoldedState(ctx, store, (state) =>
    state.destinations.has(destinationId)
      ? TE.left(failed(`destination ${destinationId} has no recorded runs (run \`syncline sync\` first)`))
      : TE.left(notConfigured(destinationId, configuredIn(state))),
  );

const replayError =
  (ctx: CliContext, store: EventStore) =>
  (e: ReplayError): TE.TaskEither<CliError, never> => {
    switch (e._tag) {
      case 'NoRuns':
        return noRuns(ctx, store, e.destinationId);
      case 'UnknownRun':
        return TE.left(failed(`destination ${e.destinationId} has no run ${e.runId}`));
      case 'InvalidStoredEvent':
        return TE.left(storeDamaged(e));
    }
  };

const replay = (
  ctx: CliContext,
  store: EventStore,
  flags: ReplayFlags,
  config: DestinationConfig | undefined,
): TE.TaskEither<CliError, Replay> => {
  const runs: RunFilter = {
    ...(flags.run === undefined ? {} : { runId: flags.run }),
    ...(flags.since === undefined ? {} : { since: flags.since }),
    ...(flags.until === undefined ? {} : { until: flags.until }),
  };
  const bar = progressBar(ctx, `replay ${flags.destination}`);
  return pipe(
    TE.tryCatch(
      () =>
        replayDestination(store, flags.destination, {
          runs,
          ...(flags.verify === true ? { verify: true } : {}),
          ...(flags.mode === undefined ? {} : { mode: flags.mode }),
          ...(config === undefined ? {} : { config }),
          onProgress: bar.update,
        }).finally(bar.stop),
      // The store failing part-way is a value; anything else thrown is a bug, and says so.
      (e) => (e instanceof StoreReadFailed ? storeUnreadable(e) : unexpected(e)),
    ),
    TE.chain(E.match(replayError(ctx, store), (r) => TE.right(r))),
  );
};

/** The alternative asked about, if any: a mode given, else the what-if config's own. */
const askedFor = (
  flags: ReplayFlags,
  config: DestinationConfig | undefined,
  file: string | undefined,
): WhatIf | null =>
  flags.mode === undefined && config === undefined
    ? null
    : { mode: flags.mode ?? config?.syncMode ?? null, config: file ?? null };

const run = (ctx: CliContext, flags: ReplayFlags, file: string | undefined): TE.TaskEither<CliError, void> =>
  pipe(
    file === undefined
      ? TE.right<CliError, DestinationConfig | undefined>(undefined)
      : whatIfConfig(ctx, file, flags.destination),
    TE.chain((config) =>
      pipe(
        withStore(ctx, (store) => replay(ctx, store, flags, config)),
        TE.map((r) => ({ r, asked: askedFor(flags, config, file) })),
      ),
    ),
    TE.chainEitherK(({ r, asked }) => {
      if (ctx.options.json) printJson(ctx.io, jsonReplay(r, asked));
      else printLines(ctx.io, humanReplay(ctx, r, asked, flags.limit));
      const n = mismatchCount(r);
      const runs = r.runs.filter((x) => x.mismatches.length > 0).length;
      return n > 0
        ? E.left(
            failed(
              `replay of ${r.destinationId} found ${plural(n, 'mismatch', 'mismatches')} in ${plural(runs, 'run')}: ` +
                'what was recorded does not follow from the recorded inputs',
            ),
          )
        : E.right(undefined);
    }),
  );

/**
 * The what-if asked for: a mode (--mode) or destination D of another config file (--with-config),
 * never both, as two answers to one question would not say which difference came from which.
 */
const whatIfFile = (flags: ReplayFlags): E.Either<CliError, string | undefined> =>
  flags.withConfig !== undefined && flags.mode !== undefined
    ? E.left(
        usageError(
          `--mode ${flags.mode} and --with-config ${flags.withConfig} are two what-ifs: give one ` +
            "(the what-if config's own syncMode is the mode it is replayed under)",
        ),
      )
    : E.right(flags.withConfig);

export const replayCommand: CliCommand = (program, runHandler) => {
  program
    .command('replay')
    .description(
      'recompute recorded runs from their recorded inputs: --verify checks they match (the default); ' +
        '--mode or --with-config shows what would have differed. Never touches the destination',
    )
    .requiredOption('--destination <id>', 'the destination whose runs to replay')
    .option('--run <runId>', 'only this run')
    .option(
      '--since <time>',
      'only runs started at or after this time (ISO-8601 or an age: 2h, 7d)',
      timeOption,
    )
    .option('--until <time>', 'only runs started at or before this time', timeOption)
    .option('--verify', 'check every recorded decision against its recomputation; exit 1 on any mismatch')
    .addOption(
      new Option('--mode <mode>', 'what-if: the decisions that would have differed under this mode').choices(
        SYNC_MODES,
      ),
    )
    .option(
      '--with-config <file>',
      'what-if: the decisions that would have differed under destination D of this config file (not with --mode)',
    )
    .option(
      '--limit <n>',
      'mismatches and differences listed per run (all of them with --json)',
      positiveInt,
      20,
    )
    .action((flags: ReplayFlags, command: Command) =>
      runHandler(command, (ctx) =>
        pipe(
          TE.fromEither(whatIfFile(flags)),
          TE.chain((file) => run(ctx, flags, file)),
        ),
      ),
    );
};
