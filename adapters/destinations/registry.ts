// The destination types syncline knows, and the check a configured destination passes before it is
// applied: a known type, a mode that type supports (or its default), and options and fields it can use.
import * as E from 'fp-ts/lib/Either.js';
import type { DestinationTypeDescription } from '../../domain/command.js';
import type { DestinationConfig } from '../../domain/destination.js';
import { compareStrings } from '../../domain/values.js';
import type { DestinationType } from '../../engine/ports.js';
import { httpDestinationType } from './http/destination.js';
import { memoryDestinationType } from './memory.js';
import { mysqlDestinationType } from './mysql/destination.js';
import { checkFields, checkOptions } from './options.js';
import { postgresDestinationType } from './postgres/destination.js';
import { sqliteDestinationType } from './sqlite/destination.js';

export const destinationTypes: ReadonlyMap<string, DestinationType> = new Map(
  [
    memoryDestinationType,
    sqliteDestinationType,
    postgresDestinationType,
    mysqlDestinationType,
    httpDestinationType,
  ].map((t) => [t.description.type, t]),
);

/** Every known type's description, by type name: what `syncline describe` prints. */
export const describeTypes = (): readonly DestinationTypeDescription[] =>
  [...destinationTypes.values()].map((t) => t.description).sort((a, b) => compareStrings(a.type, b.type));

/** A destination whose type is known and whose mode is settled (given, or the type's default). */
export type ResolvedDestination = {
  readonly config: DestinationConfig & { readonly syncMode: NonNullable<DestinationConfig['syncMode']> };
  readonly type: DestinationType;
};

/** A destination its type refuses: every problem, each as `destination <id>: <what is wrong>`. */
export type DestinationInvalid = {
  readonly _tag: 'DestinationInvalid';
  readonly destinationId: string;
  readonly problems: readonly string[];
};

/**
 * Checks a destination against its type, reporting every problem at once: the mode, the options'
 * presence and shapes (sqlite/options.ts says the SQLite type's), and the mapping's field names. An
 * `{"env": …}` option is checked as a reference only: its variable is read where the destination
 * opens (see checkEnvironment), and the same codecs check the value there.
 */
export const resolveDestination = (
  config: DestinationConfig,
  types: ReadonlyMap<string, DestinationType> = destinationTypes,
): E.Either<DestinationInvalid, ResolvedDestination> => {
  const at = `destination ${config.destinationId}`;
  const invalid = (problems: readonly string[]): DestinationInvalid => ({
    _tag: 'DestinationInvalid',
    destinationId: config.destinationId,
    problems,
  });
  const type = types.get(config.type);
  if (type === undefined) {
    const known = [...types.keys()].sort(compareStrings).join(', ');
    return E.left(
      invalid([`${at}: type ${JSON.stringify(config.type)} is not a known destination type (${known})`]),
    );
  }
  const d = type.description;
  const problems: string[] = [];
  const syncMode = config.syncMode ?? d.defaultMode;
  if (!d.modes.includes(syncMode)) {
    problems.push(
      `${at}: syncMode ${JSON.stringify(syncMode)} is not supported by type ${d.type} (supported: ${d.modes.join(', ')})`,
    );
  }
  const options = checkOptions(config, type);
  for (const problem of [...options.problems, ...checkFields(config, type)])
    problems.push(`${at}: ${problem}`);
  if (problems.length === 0) {
    const ruledOut = type.checks?.mode?.(options.values, syncMode);
    if (ruledOut !== undefined) problems.push(`${at}: syncMode ${JSON.stringify(syncMode)}: ${ruledOut}`);
  }
  return problems.length > 0 ? E.left(invalid(problems)) : E.right({ config: { ...config, syncMode }, type });
};

/**
 * What opening the destination will find wrong with its `{"env": …}` options in this environment: a
 * variable not set, or a value its option's codec refuses; each named by option and variable, never
 * by the value. The messages are those `open` gives.
 */
export const checkEnvironment = ({ config, type }: ResolvedDestination, env: NodeJS.ProcessEnv): string[] =>
  checkOptions(config, type, env).problems.map((p) => `destination ${config.destinationId}: ${p}`);
