// `syncline retry --destination D [--since T]`: the profiles of failed commands are reconciled again
// from fresh state on the next `sync`; nothing stored is resent as it was.
import type { Command } from 'commander';
import * as TE from 'fp-ts/lib/TaskEither.js';
import { pipe } from 'fp-ts/lib/function.js';
import { requestRetry } from '../../../engine/sync/retry.js';
import type { CliCommand, CliContext } from '../command.js';
import { notRetried, type CliError } from '../errors.js';
import { plural, printJson, printLines } from '../output.js';
import { timeOption } from '../time.js';
import { chosenDestinations, withSession } from '../workspace.js';

type RetryFlags = { destination: string; since?: string };

const run = (ctx: CliContext, flags: RetryFlags): TE.TaskEither<CliError, void> =>
  withSession(ctx, (s) =>
    pipe(
      TE.fromEither(chosenDestinations(s.state, flags.destination)),
      TE.chain(() =>
        pipe(() => requestRetry(s.store, s.state, flags.destination, flags.since), TE.mapLeft(notRetried)),
      ),
      TE.map((r) =>
        ctx.options.json
          ? printJson(ctx.io, { destinationId: flags.destination, profileIds: r.profileIds })
          : printLines(ctx.io, [
              r.commands === 0
                ? `No failed commands at ${flags.destination}${flags.since === undefined ? '' : ` since ${flags.since}`}.`
                : `${plural(r.commands, 'profile')} with failed commands will be reconciled again from fresh state on the next sync: ` +
                  `syncline sync --destination ${flags.destination}`,
            ]),
      ),
    ),
  );

export const retryCommand: CliCommand = (program, runHandler) => {
  program
    .command('retry')
    .description(
      'reconcile the profiles of failed commands again on the next sync (never resends stale payloads)',
    )
    .requiredOption('--destination <id>', 'the destination')
    .option('--since <time>', 'only failures since this time (ISO-8601 or an age: 90m, 2h, 7d)', timeOption)
    .action((flags: RetryFlags, command: Command) => runHandler(command, (ctx) => run(ctx, flags)));
};
