// Adapter options as a destination opens: `{"env": "NAME"}` values resolved from the environment,
// and typed reads whose errors name the destination and the option so an operator can fix the config.
import * as E from 'fp-ts/lib/Either.js';
import type { Destination as DestinationConfig } from '../../domain/destination.js';
import type { OpenError } from '../../engine/ports.js';

/** Options after `{"env": …}` references are replaced by the variables' values. */
export type ResolvedOptions = Readonly<Record<string, unknown>>;

export const openFailed = (config: DestinationConfig, message: string): OpenError => ({
  _tag: 'OpenFailed',
  message: `destination ${config.destinationId}: ${message}`,
});

/** The variable an option refers to, when its value is exactly `{"env": "NAME"}`. */
export const envReference = (value: unknown): string | undefined => {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const keys = Object.keys(value);
  const name = (value as Record<string, unknown>).env;
  return keys.length === 1 && typeof name === 'string' ? name : undefined;
};

/**
 * Replaces every `{"env": "NAME"}` option by the variable's value. Secrets live only in the
 * environment, so the config and the events that record it never hold them.
 */
export const resolveOptions = (
  config: DestinationConfig,
  env: NodeJS.ProcessEnv,
): E.Either<OpenError, ResolvedOptions> => {
  const resolved: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(config.options ?? {})) {
    const variable = envReference(value);
    if (variable === undefined) {
      resolved[name] = value;
      continue;
    }
    const fromEnv = env[variable];
    if (fromEnv === undefined) {
      return E.left(openFailed(config, `option ${name}: environment variable ${variable} is not set`));
    }
    resolved[name] = fromEnv;
  }
  return E.right(resolved);
};

const readString = (
  config: DestinationConfig,
  options: ResolvedOptions,
  name: string,
): E.Either<OpenError, string | undefined> => {
  const value = options[name];
  if (value === undefined || value === null) return E.right(undefined);
  if (typeof value !== 'string') {
    return E.left(openFailed(config, `option ${name} must be a string, not ${JSON.stringify(value)}`));
  }
  if (value === '') return E.left(openFailed(config, `option ${name} must not be empty`));
  return E.right(value);
};

export const requiredString = (
  config: DestinationConfig,
  options: ResolvedOptions,
  name: string,
): E.Either<OpenError, string> =>
  E.flatMap(readString(config, options, name), (value) =>
    value === undefined ? E.left(openFailed(config, `option ${name} is required`)) : E.right(value),
  );

export const optionalString = readString;
