// Destination options as configured and as a destination opens: a literal, or `{"env": NAME}` read
// from the environment, each checked by its type's codec and named in messages by a label, not its value.
import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';
import { reportErrors, struct } from '../../domain/codec.js';
import type { DestinationTypeDescription } from '../../domain/command.js';
import type { DestinationConfig } from '../../domain/destination.js';
import type { DestinationType, OpenError } from '../../engine/ports.js';
import type { Secret } from './redaction.js';

export const openFailed = (config: DestinationConfig, message: string): OpenError => ({
  _tag: 'OpenFailed',
  message: `destination ${config.destinationId}: ${message}`,
});

const isRecord = (u: unknown): u is Record<string, unknown> =>
  typeof u === 'object' && u !== null && !Array.isArray(u);

/** The name of an environment variable: one that a shell could set. */
/** A shell cannot set a variable whose name holds `=` or NUL. */
const unsettable = (name: string): boolean => name.includes('=') || name.includes('\u0000');

const VariableName = new t.Type<string, string, unknown>(
  'VariableName',
  (u): u is string => typeof u === 'string' && u !== '' && !unsettable(u),
  (u, c) =>
    typeof u !== 'string'
      ? t.failure(u, c, u === undefined ? 'is required' : 'must be the name of a variable, a string')
      : u === ''
        ? t.failure(u, c, 'must not be empty')
        : unsettable(u)
          ? t.failure(u, c, 'must not contain "=" or a NUL character')
          : t.success(u),
  t.identity,
);

/** An option read from the environment when the destination opens: `{"env": "NAME"}`. */
export const EnvReference = struct('EnvReference', { env: VariableName });

/** The variable an option refers to, when its value is exactly a well-formed `{"env": "NAME"}`. */
export const envReference = (value: unknown): string | undefined =>
  isRecord(value) && Object.keys(value).length === 1 && VariableName.is(value.env) ? value.env : undefined;

/**
 * A variable's value, if it is set. Only the environment's own entries count: `{"env": "constructor"}`
 * must not read what every object inherits.
 */
export const readVariable = (env: NodeJS.ProcessEnv, name: string): string | undefined => {
  const value = Object.hasOwn(env, name) ? env[name] : undefined;
  return typeof value === 'string' ? value : undefined;
};

/** How messages name an option, and the variable its value was read from. */
export const optionLabel = (name: string, variable?: string): string =>
  variable === undefined ? `options.${name}` : `options.${name} (from env ${variable})`;

/** One option of a type, declared once: its codec (what `validate` and `open` check) and its description. */
export type OptionDeclaration = {
  readonly codec: t.Decoder<unknown, unknown>;
  readonly required: boolean;
  readonly description: string;
  readonly default?: unknown;
};

/** A type's options by name, from which its description and its checks are both derived. */
export type OptionDeclarations = Readonly<Record<string, OptionDeclaration>>;

/** What `describe` lists for the options. */
export const describeOptions = (d: OptionDeclarations): DestinationTypeDescription['options'] =>
  Object.entries(d).map(([name, o]) => ({
    name,
    required: o.required,
    description: o.description,
    ...(o.default === undefined ? {} : { default: o.default }),
  }));

/** Each option's codec, by name: what the type's checks hold. */
export const optionCodecs = (d: OptionDeclarations): Readonly<Record<string, t.Decoder<unknown, unknown>>> =>
  Object.fromEntries(Object.entries(d).map(([name, o]) => [name, o.codec]));

type Required<D extends OptionDeclarations> = {
  [K in keyof D]: D[K]['required'] extends true ? K : never;
}[keyof D];

type Decoded<C> = C extends t.Decoder<unknown, infer A> ? A : never;

/** The options as a destination of the declared type uses them, once checked. */
export type OptionsOf<D extends OptionDeclarations> = {
  readonly [K in Required<D>]: Decoded<D[K]['codec']>;
} & { readonly [K in Exclude<keyof D, Required<D>>]?: Decoded<D[K]['codec']> };

export type CheckedOptions = {
  /** the options as the destination will use them: literals, and variables' values when read */
  readonly values: Readonly<Record<string, unknown>>;
  /** per option given, how messages name its value: the literal itself, or `options.NAME (from env VAR)` */
  readonly labels: Readonly<Record<string, string>>;
  /** the values read from variables, with their labels */
  readonly secrets: readonly Secret[];
  /** `options.NAME: what is wrong`, every problem; none repeats a variable's value */
  readonly problems: readonly string[];
};

type Checked = Pick<DestinationType, 'description' | 'checks'>;

const shownLiteral = (value: unknown): string => (typeof value === 'string' ? value : JSON.stringify(value));

/** A codec's problems with a variable's value, with the value itself replaced should a message hold it. */
const problemsWithValue = (errors: t.Errors, value: string, label: string): string[] =>
  reportErrors(errors).map((m) => `${label}: ${value === '' ? m : m.split(value).join('the value')}`);

/**
 * Checks a destination's options against its type. Without `env`, an `{"env": …}` option is checked
 * as a reference only (`apply` records references; the variables belong to where it opens); with
 * `env`, its variable is read and the value checked as a literal would be. Every problem is reported.
 */
export const checkOptions = (
  config: DestinationConfig,
  type: Checked,
  env?: NodeJS.ProcessEnv,
): CheckedOptions => {
  const d = type.description;
  const codecs = type.checks?.options ?? {};
  const names = d.options.map((o) => o.name);
  const values: Record<string, unknown> = {};
  const labels: Record<string, string> = {};
  const secrets: Secret[] = [];
  const problems: string[] = [];
  const variables: Record<string, string> = {};
  for (const [name, given] of Object.entries(config.options ?? {})) {
    // An object with an `env` field means a reference; anything wrong with it is said as such.
    let variable: string | undefined;
    if (isRecord(given) && Object.hasOwn(given, 'env')) {
      const reference = EnvReference.decode(given);
      if (E.isLeft(reference)) {
        problems.push(...reportErrors(reference.left, `options.${name}`));
        continue;
      }
      variable = reference.right.env;
    }
    const at = optionLabel(name, variable);
    if (!names.includes(name)) {
      const expected = names.length === 0 ? 'it takes no options' : `its options: ${names.join(', ')}`;
      problems.push(`${at}: is not known to type ${d.type} (${expected})`);
      continue;
    }
    const codec = codecs[name];
    if (variable === undefined) {
      // null stands for "not given", as an absent option does
      if (given === null || given === undefined) continue;
      // A literal is recorded with the config: what it must keep besides its codec (no password).
      const literal = type.checks?.literal?.[name];
      const checked = E.flatMap((value: unknown) =>
        E.map(() => value)(literal?.decode(given) ?? E.right(given)),
      )(codec?.decode(given) ?? E.right(given));
      if (E.isLeft(checked)) problems.push(...reportErrors(checked.left, at));
      else [values[name], labels[name]] = [checked.right, shownLiteral(given)];
      continue;
    }
    labels[name] = at;
    variables[name] = variable;
    if (env === undefined) continue;
    const value = readVariable(env, variable);
    if (value === undefined) {
      problems.push(`options.${name}: environment variable ${variable} is not set`);
      continue;
    }
    if (value !== '') secrets.push([value, at]);
    const checked = codec?.decode(value) ?? E.right(value);
    if (E.isLeft(checked)) problems.push(...problemsWithValue(checked.left, value, at));
    else values[name] = checked.right;
  }
  for (const o of d.options) {
    const given = config.options?.[o.name];
    if (o.required && (given === undefined || given === null))
      problems.push(`options.${o.name}: is required by type ${d.type}`);
  }
  // Between options only once each is right: a rule over a wrong value would say nothing useful.
  if (problems.length === 0)
    for (const { option, problem } of type.checks?.between?.(values) ?? [])
      problems.push(`${optionLabel(option, variables[option])}: ${problem}`);
  return { values, labels, secrets, problems };
};

/** The mapping's destination fields the type cannot hold, each named. */
export const checkFields = (config: DestinationConfig, type: Checked): string[] => {
  const field = type.checks?.field;
  if (field === undefined) return [];
  return Object.keys(config.mapping).flatMap((name) => {
    const checked = field.decode(name);
    return E.isLeft(checked)
      ? reportErrors(checked.left).map((m) => `mapping: field ${JSON.stringify(name)} ${m}`)
      : [];
  });
};

export type ResolvedOptions<D extends OptionDeclarations> = {
  readonly values: OptionsOf<D>;
  readonly labels: Readonly<Record<string, string>>;
  readonly secrets: readonly Secret[];
};

/**
 * The options as a destination opens with them: every `{"env": "NAME"}` replaced by the variable's
 * value, and every option and field name checked as `validate` checks them. Secrets live only in
 * the environment, so the config and the events that record it never hold them.
 */
export const resolveOptions = <D extends OptionDeclarations>(
  config: DestinationConfig,
  type: Checked,
  env: NodeJS.ProcessEnv,
): E.Either<OpenError, ResolvedOptions<D>> => {
  const checked = checkOptions(config, type, env);
  const problems = [...checked.problems, ...checkFields(config, type)];
  if (problems.length > 0) return E.left(openFailed(config, problems.join('; ')));
  return E.right({
    values: checked.values as OptionsOf<D>,
    labels: checked.labels,
    secrets: checked.secrets,
  });
};
