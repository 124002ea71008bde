// The `syncline` program: global options, the registered commands, and commander's own exits turned
// into values, so that running the CLI is a Task of Either<CliError, void> that main maps to a code.
import { readFileSync } from 'node:fs';
import { Command, CommanderError, Help, InvalidArgumentError, Option } from 'commander';
import * as E from 'fp-ts/lib/Either.js';
import type { Task } from 'fp-ts/lib/Task.js';
import type { CliContext, GlobalOptions, Run } from './command.js';
import { commands } from './commands/index.js';
import { StoreReadFailed } from '../../engine/ports.js';
import { parseStoreUrl } from '../stores/open.js';
import { storeUnreadable, unexpected, usageError, type CliError } from './errors.js';
import { StateFileDamaged } from './stateSession.js';
import { colorsFor, tableWidth, type CliIO } from './output.js';

export const DEFAULT_STORE = 'sqlite:.syncline/events.db';
export const DEFAULT_CONFIG = 'syncline.config.json';

/** The package version, read at run time: the built file sits three levels below package.json. */
const version = (): string => {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
      version?: unknown;
    };
    return typeof pkg.version === 'string' ? pkg.version : 'unknown';
  } catch {
    return 'unknown';
  }
};

/**
 * A store URL given on the command line (or in SYNCLINE_STORE) that cannot name a store is a bad
 * option value, refused before any command runs; empty means "not set" (see globalOptions).
 */
const storeOption = (url: string): string => {
  const parsed = url === '' ? E.right(undefined) : parseStoreUrl(url);
  if (E.isLeft(parsed)) throw new InvalidArgumentError(parsed.left.message);
  return url;
};

/** Help marks an option a command cannot run without: commander's own help does not. */
function markRequired(this: Help, option: Option): string {
  const described = Help.prototype.optionDescription.call(this, option);
  return option.mandatory ? `(required) ${described}` : described;
}

/** Builds the program; each command's action runs through `run`. */
export const buildProgram = (io: CliIO, run: Run): Command => {
  const program = new Command('syncline')
    .description('Event-sourced sync reconciler for customer data.')
    .version(version(), '-V, --version')
    .addOption(
      new Option('--store <url>', 'event store URL')
        .env('SYNCLINE_STORE')
        .default(DEFAULT_STORE)
        .argParser(storeOption),
    )
    .option('--config <file>', 'configuration file', DEFAULT_CONFIG)
    .option('--json', 'print one JSON document on stdout instead of text')
    .option('--rebuild-state', "empty the engine state file and fold it again from the store's first event")
    .showSuggestionAfterError(true)
    .option('--wide', 'print tables whole, however wide, instead of fitting them to the terminal')
    .configureHelp({ showGlobalOptions: true, optionDescription: markRequired })
    // Help and usage messages go through io; errors are not printed here but returned as values,
    // so that main writes every failure the same way.
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr, outputError: () => undefined })
    .exitOverride();
  // Settings above are copied to each subcommand as it is added, so they must come first.
  for (const register of commands) register(program, run);
  return program;
};

/** Commander's messages start with `error: ` and may put a suggestion on a second line. */
const usageMessage = (e: CommanderError): string =>
  e.code === 'commander.help'
    ? 'no command given'
    : e.message.replace(/^error: /, '').replace(/\s*\n\s*/g, ' ');

/**
 * Commander leaves a flag undefined when absent (a `false` default would clutter the help), and
 * takes an empty SYNCLINE_STORE as a URL; an empty variable means "not set" to most shells' users.
 */
const globalOptions = (opts: Record<string, unknown>, command: Command): GlobalOptions => ({
  store: typeof opts.store === 'string' && opts.store !== '' ? opts.store : DEFAULT_STORE,
  storeGiven:
    typeof opts.store === 'string' &&
    opts.store !== '' &&
    ['cli', 'env'].includes(command.getOptionValueSourceWithGlobals('store') ?? ''),
  config: typeof opts.config === 'string' ? opts.config : DEFAULT_CONFIG,
  json: opts.json === true,
  rebuildState: opts.rebuildState === true,
  wide: opts.wide === true,
});

const contextFor = (io: CliIO, command: Command): CliContext => {
  const options = globalOptions(command.optsWithGlobals(), command);
  return { io, options, colors: colorsFor(io), width: tableWidth(io, options.wide) };
};

/** Runs the CLI on `argv` (without node and script). Help and --version are successes. */
export const runCli =
  (argv: readonly string[], io: CliIO): Task<E.Either<CliError, void>> =>
  async () => {
    let outcome: E.Either<CliError, void> = E.right(undefined);
    const run: Run = async (command, handler) => {
      outcome = await handler(contextFor(io, command))();
    };
    try {
      await buildProgram(io, run).parseAsync([...argv], { from: 'user' });
      return outcome;
    } catch (e) {
      if (e instanceof CommanderError)
        return e.exitCode === 0 ? E.right(undefined) : E.left(usageError(usageMessage(e)));
      // The store failed while a command read it (see StoreReadFailed): the environment's, not a bug.
      if (e instanceof StoreReadFailed) return E.left(storeUnreadable(e));
      // The state file holds a row it cannot give back: --rebuild-state folds it again.
      if (e instanceof StateFileDamaged) return E.left(e.error);
      return E.left(unexpected(e));
    }
  };
