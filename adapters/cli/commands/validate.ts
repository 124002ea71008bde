// `syncline validate`: checks the config file as `apply` and `sync` will use it — decoded, each
// destination resolved against its type, every `{"env": …}` option's variable set and its value one
// the option takes, and what a type can check where it lives (its probe, writing nothing) — and lists it.
import type { Command } from 'commander';
import * as E from 'fp-ts/lib/Either.js';
import * as TE from 'fp-ts/lib/TaskEither.js';
import { pipe } from 'fp-ts/lib/function.js';
import type { Collection } from '../../../domain/destination.js';
import { checkEnvironment, type ResolvedDestination } from '../../destinations/registry.js';
import type { CliCommand, CliContext } from '../command.js';
import { invalidInput, type CliError } from '../errors.js';
import { plural, printJson, printLines } from '../output.js';
import { loadConfig } from '../workspace.js';

/** `all profiles`, `group vip`, `nobody`: the collection as a person would say it. */
export const describeCollection = (c: Collection): string => {
  switch (c.kind) {
    case 'all':
      return 'all profiles';
    case 'group':
      return `group ${c.groupId}`;
    case 'none':
      return 'nobody';
  }
};

const summaryOf = ({ config }: ResolvedDestination) => ({
  destinationId: config.destinationId,
  ...(config.name === undefined ? {} : { name: config.name }),
  type: config.type,
  syncMode: config.syncMode,
  collection: config.collection,
});

/** Aligned columns: id, type, mode, collection. */
const destinationLines = (destinations: readonly ResolvedDestination[]): string[] => {
  const rows = destinations.map(({ config }) => [
    config.destinationId,
    config.type,
    config.syncMode,
    describeCollection(config.collection),
  ]);
  const widths = rows.reduce<number[]>((w, row) => row.map((c, i) => Math.max(w[i] ?? 0, c.length)), []);
  return rows.map(
    (row) => `  ${row.map((c, i) => (i === row.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ')}`,
  );
};

const run = (ctx: CliContext): TE.TaskEither<CliError, void> =>
  pipe(
    loadConfig(ctx),
    TE.chainEitherK((loaded) => {
      // The problems `sync` would meet when it opens them, every one, named by option and variable.
      const problems = loaded.destinations.flatMap((d) => checkEnvironment(d, ctx.io.env));
      return problems.length > 0 ? E.left(invalidInput(ctx.options.config, problems)) : E.right(loaded);
    }),
    // What a type can check where the destination lives, without writing (a server that answers).
    TE.chain((loaded) => async () => {
      const found = await Promise.all(
        loaded.destinations.map(async ({ config, type }) =>
          (type.probe === undefined ? [] : await type.probe(config, ctx.io.env)()).map(
            (p) => `destination ${config.destinationId}: ${p}`,
          ),
        ),
      );
      const problems = found.flat();
      return problems.length > 0 ? E.left(invalidInput(ctx.options.config, problems)) : E.right(loaded);
    }),
    TE.map(({ destinations }) => {
      if (ctx.options.json) printJson(ctx.io, { valid: true, destinations: destinations.map(summaryOf) });
      else
        printLines(ctx.io, [
          `${ctx.options.config} is valid: ${plural(destinations.length, 'destination')}`,
          ...destinationLines(destinations),
        ]);
    }),
  );

export const validateCommand: CliCommand = (program, runHandler) => {
  program
    .command('validate')
    .description('check the config file: destinations, their types and modes, and the variables options read')
    .action((_options, command: Command) => runHandler(command, run));
};
