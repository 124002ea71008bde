// The destination types syncline knows, and the check a configured destination passes before it is
// applied: a known type, a mode that type supports (or its default), and the options it needs.
import * as E from 'fp-ts/lib/Either.js';
import type { DestinationTypeDescription } from '../../domain/command.js';
import type { Destination as DestinationConfig } from '../../domain/destination.js';
import { compareStrings } from '../../domain/values.js';
import type { DestinationType } from '../../engine/ports.js';
import { memoryDestinationType } from './memory.js';
import { sqliteDestinationType } from './sqlite.js';

export const destinationTypes: ReadonlyMap<string, DestinationType> = new Map(
  [memoryDestinationType, sqliteDestinationType].map((t) => [t.description.type, t]),
);

/** Every known type's description, by type name: what `syncline describe` prints. */
export const describeTypes = (): readonly DestinationTypeDescription[] =>
  [...destinationTypes.values()].map((t) => t.description).sort((a, b) => compareStrings(a.type, b.type));

/** A destination whose type is known and whose mode is settled (given, or the type's default). */
export type ResolvedDestination = {
  readonly config: DestinationConfig & { readonly syncMode: NonNullable<DestinationConfig['syncMode']> };
  readonly type: DestinationType;
};

const absent = (v: unknown): boolean => v === undefined || v === null;

/**
 * Checks a destination against its type, reporting every problem at once. Options are checked for
 * presence only: `{"env": …}` values are read when the destination opens, where the secret lives.
 */
export const resolveDestination = (
  config: DestinationConfig,
  types: ReadonlyMap<string, DestinationType> = destinationTypes,
): E.Either<string[], ResolvedDestination> => {
  const at = `destination ${config.destinationId}`;
  const type = types.get(config.type);
  if (type === undefined) {
    const known = [...types.keys()].sort(compareStrings).join(', ');
    return E.left([`${at}: type ${JSON.stringify(config.type)} is not a known destination type (${known})`]);
  }
  const d = type.description;
  const problems: string[] = [];
  const syncMode = config.syncMode ?? d.defaultMode;
  if (!d.modes.includes(syncMode)) {
    problems.push(
      `${at}: syncMode ${JSON.stringify(syncMode)} is not supported by type ${d.type} (supported: ${d.modes.join(', ')})`,
    );
  }
  const options = config.options ?? {};
  for (const o of d.options) {
    if (o.required && absent(options[o.name]))
      problems.push(`${at}: option ${o.name} is required by type ${d.type}`);
  }
  // A misspelt option would otherwise be ignored and its default used without a word.
  const names = d.options.map((o) => o.name);
  for (const name of Object.keys(options)) {
    if (!names.includes(name)) {
      const expected = names.length === 0 ? 'it takes no options' : `its options: ${names.join(', ')}`;
      problems.push(`${at}: option ${name} is not known to type ${d.type} (${expected})`);
    }
  }
  return problems.length > 0 ? E.left(problems) : E.right({ config: { ...config, syncMode }, type });
};
