// `syncline simulate FILE`: a scenario file's decisions (docs/architecture.md, "The decision"), with no
// store and no destination. `--mode` asks what another sync mode would have done with the same inputs.
import { Option, type Command } from 'commander';
import * as E from 'fp-ts/lib/Either.js';
import * as TE from 'fp-ts/lib/TaskEither.js';
import { pipe } from 'fp-ts/lib/function.js';
import { decodeWith } from '../../../domain/codec.js';
import type { Decision, DecisionOperation } from '../../../domain/decision.js';
import { DestinationConfig } from '../../../domain/destination.js';
import { SYNC_MODES, type SyncModeName } from '../../../domain/modes.js';
import { Scenario } from '../../../domain/scenario.js';
import { simulate } from '../../../engine/audit/simulate.js';
import { resolveDestination } from '../../destinations/registry.js';
import type { CliCommand, CliContext } from '../command.js';
import { invalidInput, type CliError } from '../errors.js';
import { readJson } from '../input.js';
import { plural, printJson, printLines, table, type Colors, type TableStyle } from '../output.js';

type Simulation = {
  readonly scenario: Scenario;
  /** the mode decisions were made under: --mode, else the destination's (or its type's default) */
  readonly mode: SyncModeName;
  readonly configuredMode: SyncModeName;
  readonly decisions: readonly Decision[];
};

type Readied = {
  readonly scenario: Scenario;
  readonly configuredMode: SyncModeName;
  readonly supportedModes: readonly SyncModeName[];
};

/**
 * Decodes the scenario and resolves its destination against the registered types. Every problem is
 * reported at once: the destination is resolved even when something elsewhere in the file is wrong.
 */
const readScenario = (file: string, raw: unknown): E.Either<CliError, Readied> => {
  const decoded = decodeWith(Scenario, '')(raw);
  const destination = E.isRight(decoded)
    ? E.right(decoded.right.destination)
    : decodeWith(DestinationConfig, 'destination')((raw as { destination?: unknown } | null)?.destination);
  const resolved = pipe(
    destination,
    E.flatMap((d) => resolveDestination(d)),
  );
  const problems = [
    ...(E.isLeft(decoded) ? decoded.left.problems : []),
    // the destination's own decoding problems are already among the scenario's
    ...(E.isLeft(resolved) && E.isRight(destination) ? resolved.left.problems : []),
  ];
  if (E.isLeft(decoded) || E.isLeft(resolved)) return E.left(invalidInput(file, problems));
  const { config, type } = resolved.right;
  return E.right({
    scenario: { ...decoded.right, destination: config },
    configuredMode: config.syncMode,
    supportedModes: type.description.modes,
  });
};

/** A mode the destination's type does not support would answer a question nobody can act on. */
const chooseMode = (r: Readied, override: SyncModeName | undefined): E.Either<CliError, SyncModeName> =>
  override === undefined || r.supportedModes.includes(override)
    ? E.right(override ?? r.configuredMode)
    : E.left(
        invalidInput('--mode', [
          `destination type ${r.scenario.destination.type} does not support ${override} (supported: ${r.supportedModes.join(', ')})`,
        ]),
      );

const run = (
  ctx: CliContext,
  file: string,
  override: SyncModeName | undefined,
): TE.TaskEither<CliError, void> =>
  pipe(
    readJson(ctx.io.cwd, file),
    TE.chainEitherK((raw) => readScenario(file, raw)),
    TE.chainEitherK((r) =>
      pipe(
        chooseMode(r, override),
        E.map((mode): Simulation => ({
          scenario: r.scenario,
          mode,
          configuredMode: r.configuredMode,
          decisions: simulate(r.scenario, mode),
        })),
      ),
    ),
    TE.map((simulation) =>
      ctx.options.json
        ? printJson(ctx.io, { decisions: simulation.decisions })
        : printLines(ctx.io, humanReport(ctx, simulation)),
    ),
  );

const OPERATIONS: readonly DecisionOperation[] = ['create', 'update', 'delete', 'skip'];

const paintOperation = (colors: Colors, operation: DecisionOperation): string => {
  switch (operation) {
    case 'create':
      return colors.green(operation);
    case 'update':
      return colors.cyan(operation);
    case 'delete':
      return colors.red(operation);
    case 'skip':
      return colors.yellow(operation);
  }
};

/** `set email, first_name; unset ltv; +VIP -Newsletter`: what changes, not the values. */
export const summarizeChanges = (d: Decision): string => {
  const set = Object.keys(d.fields.set);
  const groups = [...d.groups.add.map((g) => `+${g}`), ...d.groups.remove.map((g) => `-${g}`)];
  return [
    set.length > 0 ? `set ${set.join(', ')}` : '',
    d.fields.unset.length > 0 ? `unset ${d.fields.unset.join(', ')}` : '',
    groups.join(' '),
  ]
    .filter((part) => part !== '')
    .join('; ');
};

const humanReport = (style: TableStyle, s: Simulation): string[] => {
  const { colors } = style;
  const d = s.scenario.destination;
  const name = d.name === undefined || d.name === '' ? d.type : `${d.name}, ${d.type}`;
  const mode =
    s.mode === s.configuredMode
      ? `in ${s.mode} mode`
      : `in ${s.mode} mode (--mode; the destination is configured for ${s.configuredMode})`;
  const header = `Destination ${colors.bold(d.destinationId)} (${name}) ${mode}.`;
  if (s.decisions.length === 0) return [header, 'Nothing to do: the destination already matches.'];
  const rows = s.decisions.map((x) => [
    x.profileId,
    paintOperation(colors, x.operation),
    x.key ?? '',
    summarizeChanges(x),
    x.message === undefined ? '' : x.level === 'error' ? colors.red(x.message) : colors.dim(x.message),
  ]);
  const counts = OPERATIONS.map((op) => `${s.decisions.filter((x) => x.operation === op).length} ${op}`);
  return [
    header,
    table(style, ['profile', 'operation', 'key', 'changes', 'message'], rows),
    `${plural(s.decisions.length, 'decision')}: ${counts.join(', ')}.`,
  ];
};

export const simulateCommand: CliCommand = (program, runHandler) => {
  program
    .command('simulate')
    .description('print the decisions for a scenario file {destination, events, observed, ledger?}; no store')
    .argument('<file>', 'scenario JSON file')
    .addOption(
      new Option('--mode <mode>', 'decide under this sync mode instead of the configured one').choices(
        SYNC_MODES,
      ),
    )
    .action((file: string, options: { mode?: SyncModeName }, command: Command) =>
      runHandler(command, (ctx) => run(ctx, file, options.mode)),
    );
};
