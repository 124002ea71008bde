// What a command module is: a function that adds one subcommand to the program and hands its work
// to `run` as a handler returning TaskEither<CliError, void>. Options shared by every command live here.
import type { Command } from 'commander';
import type { TaskEither } from 'fp-ts/lib/TaskEither.js';
import type { CliError } from './errors.js';
import type { CliIO, Colors } from './output.js';

/** The options every command takes (docs/architecture.md, "Command line"). */
export type GlobalOptions = {
  /** event store URL */
  readonly store: string;
  /** whether --store or SYNCLINE_STORE gave the URL (else the config file's `store` may) */
  readonly storeGiven: boolean;
  /** configuration file path */
  readonly config: string;
  /** machine output: exactly one JSON document on stdout */
  readonly json: boolean;
  /** empty the engine state file and fold it again from the store's first event */
  readonly rebuildState: boolean;
  /** print tables whole instead of fitting them to the terminal */
  readonly wide: boolean;
};

export type CliContext = {
  readonly io: CliIO;
  readonly options: GlobalOptions;
  readonly colors: Colors;
  /** the width tables must fit, if any (see tableWidth): a CliContext is a TableStyle */
  readonly width: number | undefined;
};

/** A command's work. It prints its output through ctx.io and reports failure as a value. */
export type Handler = (ctx: CliContext) => TaskEither<CliError, void>;

/** Runs a handler for the (sub)command commander matched; the program keeps its outcome for main. */
export type Run = (command: Command, handler: Handler) => Promise<void>;

/** A command module's export: registers one subcommand on `program`, its action calling `run`. */
export type CliCommand = (program: Command, run: Run) => void;
