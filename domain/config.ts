// The config file `syncline.config.json`: an optional store URL and the destinations. Each
// destination is decoded on its own so an error names its id and the field at fault.
import * as t from 'io-ts';
import * as E from 'fp-ts/lib/Either.js';
import { reportErrors, struct } from './codec.js';
import { DestinationConfig } from './destination.js';

/**
 * The store: a URL, or `{"env": "NAME"}` naming the variable that holds one (a server store's URL may
 * carry a password, which then stays out of the file).
 */
export const StoreSetting = t.union([t.string, t.strict({ env: t.string }, 'EnvReference')], 'StoreSetting');
export type StoreSetting = t.TypeOf<typeof StoreSetting>;

const ConfigShape = struct('Config', { destinations: t.array(t.unknown) }, { store: StoreSetting });

export const Config = struct('Config', { destinations: t.array(DestinationConfig) }, { store: StoreSetting });
export type Config = t.TypeOf<typeof Config>;

/** A config file that does not hold: every problem as `destination <id>: <field>: <what is wrong>`. */
export type ConfigInvalid = { readonly _tag: 'ConfigInvalid'; readonly problems: readonly string[] };

const invalid = (problems: readonly string[]): ConfigInvalid => ({ _tag: 'ConfigInvalid', problems });

const idOf = (u: unknown, index: number): string => {
  const id = (u as { destinationId?: unknown } | null)?.destinationId;
  return typeof id === 'string' && id !== '' ? id : `#${index + 1}`;
};

/**
 * The destinations that decode and the problems of those that do not, so callers can check the
 * good ones further and still report everything at once. Refused whole when the file's shape is wrong.
 */
export const decodeConfigParts = (
  u: unknown,
): E.Either<ConfigInvalid, { problems: string[]; config: Config }> => {
  const shape = ConfigShape.decode(u);
  if (E.isLeft(shape)) return E.left(invalid(reportErrors(shape.left)));
  const problems: string[] = [];
  const destinations: DestinationConfig[] = [];
  const seen = new Set<string>();
  shape.right.destinations.forEach((raw, i) => {
    const id = idOf(raw, i);
    const d = DestinationConfig.decode(raw);
    if (E.isLeft(d)) {
      for (const line of reportErrors(d.left)) problems.push(`destination ${id}: ${line}`);
      return;
    }
    if (seen.has(d.right.destinationId)) {
      problems.push(`destination ${id}: destinationId: "${id}" is used by more than one destination`);
    }
    seen.add(d.right.destinationId);
    destinations.push(d.right);
  });
  const config = { destinations, ...(shape.right.store === undefined ? {} : { store: shape.right.store }) };
  return E.right({ problems, config });
};

/** Decodes a parsed config file; every problem reads `destination <id>: <field>: <what is wrong>`. */
export const decodeConfig = (u: unknown): E.Either<ConfigInvalid, Config> => {
  const parts = decodeConfigParts(u);
  if (E.isLeft(parts)) return parts;
  return parts.right.problems.length > 0
    ? E.left(invalid(parts.right.problems))
    : E.right(parts.right.config);
};
