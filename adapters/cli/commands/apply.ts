// `syncline apply [--prune]`: records a DestinationConfigured for each destination of the config file
// that is new or changed, and with --prune a DestinationRemoved for each the file no longer has.
import type { Command } from 'commander';
import * as TE from 'fp-ts/lib/TaskEither.js';
import { pipe } from 'fp-ts/lib/function.js';
import { applyConfig, type ApplyResult } from '../../../engine/input/configure.js';
import type { CliCommand, CliContext } from '../command.js';
import { notApplied, type CliError } from '../errors.js';
import { printJson, printLines } from '../output.js';
import { loadConfig, withSession } from '../workspace.js';

type ApplyFlags = { prune?: boolean };

const humanLines = (ctx: CliContext, r: ApplyResult): string[] => {
  const c = ctx.colors;
  const listed = (label: string, ids: readonly string[], paint: (s: string) => string = (s) => s) =>
    ids.length === 0 ? [] : [`${label}: ${paint(ids.join(', '))}`];
  const lines = [
    ...listed('added', r.added, c.green),
    ...listed('changed', r.changed, c.cyan),
    ...listed('unchanged', r.unchanged, c.dim),
    // Without --prune these stay configured and keep syncing: say so, and how to stop them.
    ...(r.removed.length === 0 && r.missing.length > 0
      ? [
          `not in ${ctx.options.config}: ${c.yellow(r.missing.join(', '))} ` +
            '(still configured; run with --prune to remove them)',
        ]
      : []),
    ...listed('removed', r.removed, c.red),
  ];
  const recorded = r.added.length + r.changed.length + r.removed.length;
  if (recorded > 0) return lines;
  const kept = r.missing.length > 0;
  return [...lines, kept ? 'nothing recorded' : 'nothing recorded: the store already has this configuration'];
};

/**
 * No environment variables are needed here: `{"env": …}` options are recorded as references and
 * only read when a destination opens, so secrets never reach the store.
 */
const run = (ctx: CliContext, flags: ApplyFlags): TE.TaskEither<CliError, void> =>
  pipe(
    loadConfig(ctx),
    TE.chain((loaded) =>
      withSession(
        ctx,
        (s) =>
          pipe(
            () =>
              applyConfig(
                s.store,
                s.state,
                loaded.destinations.map((d) => d.config),
                flags.prune === true,
              ),
            TE.mapLeft(notApplied),
          ),
        { create: true },
      ),
    ),
    TE.map((result) =>
      ctx.options.json ? printJson(ctx.io, result) : printLines(ctx.io, humanLines(ctx, result)),
    ),
  );

export const applyCommand: CliCommand = (program, runHandler) => {
  program
    .command('apply')
    .description('record the config file in the store: each destination that is new or changed')
    .option('--prune', 'also remove destinations the config file no longer lists')
    .action((flags: ApplyFlags, command: Command) => runHandler(command, (ctx) => run(ctx, flags)));
};
