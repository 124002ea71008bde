// `syncline describe [TYPE]`: the destination types this build knows, each with its supported sync
// modes (the default marked) and its options, so a config can be written without reading the source.
import type { Command } from 'commander';
import * as E from 'fp-ts/lib/Either.js';
import * as TE from 'fp-ts/lib/TaskEither.js';
import { pipe } from 'fp-ts/lib/function.js';
import type { DestinationTypeDescription } from '../../../domain/command.js';
import { SYNC_MODES, syncModes, type SyncModeName } from '../../../domain/modes.js';
import { describeTypes } from '../../destinations/registry.js';
import type { CliCommand, CliContext } from '../command.js';
import { unknownDestinationType, type CliError } from '../errors.js';
import { printJson, printLines, type Colors } from '../output.js';

/** A type as `describe --json` prints it: modes carry their meaning, the default is flagged. */
export type TypeReport = {
  readonly type: string;
  readonly description: string;
  readonly defaultMode: SyncModeName;
  readonly modes: readonly {
    readonly name: SyncModeName;
    readonly displayName: string;
    readonly description: string;
    readonly default: boolean;
  }[];
  readonly options: DestinationTypeDescription['options'];
};

/** Modes in the order of the mode table (docs/architecture.md, "Sync modes"), whatever the type lists. */
const reportOf = (t: DestinationTypeDescription): TypeReport => ({
  type: t.type,
  description: t.description,
  defaultMode: t.defaultMode,
  modes: SYNC_MODES.filter((m) => t.modes.includes(m)).map((m) => ({
    name: m,
    displayName: syncModes[m].displayName,
    description: syncModes[m].description,
    default: m === t.defaultMode,
  })),
  options: t.options,
});

const padded = (cells: readonly string[], widths: readonly number[]): string =>
  cells
    .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
    .join('  ')
    .trimEnd();

/** Aligned columns; widths are measured before colour so escape codes do not skew them. */
const columns = (rows: readonly (readonly string[])[]): string[] => {
  const widths = rows.reduce<number[]>((w, row) => row.map((c, i) => Math.max(w[i] ?? 0, c.length)), []);
  return rows.map((row) => `    ${padded(row, widths)}`);
};

const humanLines = (colors: Colors, r: TypeReport): string[] => {
  const modes = columns(r.modes.map((m) => [m.name, m.default ? 'default' : '', m.description]));
  const options =
    r.options.length === 0
      ? ['    (none)']
      : columns(
          r.options.map((o) => [
            o.name,
            o.required ? 'required' : 'optional',
            o.default === undefined
              ? o.description
              : `${o.description} (default: ${JSON.stringify(o.default)})`,
          ]),
        );
  return [`${colors.bold(r.type)}: ${r.description}`, '  Modes:', ...modes, '  Options:', ...options];
};

const run = (ctx: CliContext, type: string | undefined): TE.TaskEither<CliError, void> => {
  const reports = describeTypes().map(reportOf);
  const chosen: E.Either<CliError, readonly TypeReport[]> =
    type === undefined
      ? E.right(reports)
      : pipe(
          reports.filter((r) => r.type === type),
          E.fromPredicate(
            (found) => found.length > 0,
            () =>
              unknownDestinationType(
                type,
                reports.map((r) => r.type),
              ),
          ),
        );
  return pipe(
    TE.fromEither(chosen),
    TE.map((found) => {
      if (ctx.options.json) printJson(ctx.io, type === undefined ? { types: found } : found[0]);
      // A blank line between types keeps each block readable when they are all listed.
      else
        printLines(
          ctx.io,
          found.flatMap((r, i) => [...(i > 0 ? [''] : []), ...humanLines(ctx.colors, r)]),
        );
    }),
  );
};

export const describeCommand: CliCommand = (program, runHandler) => {
  program
    .command('describe')
    .description('list destination types: supported sync modes, the default mode, and options')
    .argument('[type]', 'only this destination type')
    .action((type: string | undefined, _options, command: Command) =>
      runHandler(command, (ctx) => run(ctx, type)),
    );
};
