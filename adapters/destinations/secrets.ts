// The last guard between a destination and what syncline records and prints: every message a wrapped
// type's destinations give (errors, failed outcomes, a failure to open, a bug's exception) has each
// value read from a variable replaced by its label, whatever the adapter itself got right or wrong.
import * as E from 'fp-ts/lib/Either.js';
import type { CommandOutcome } from '../../domain/command.js';
import type { DestinationConfig } from '../../domain/destination.js';
import type { Destination, DestinationError, DestinationType } from '../../engine/ports.js';
import { envReference, optionLabel, readVariable } from './options.js';
import { redactor, unchanged, type Redact, type Secret } from './redaction.js';

const isRecord = (u: unknown): u is Record<string, unknown> =>
  typeof u === 'object' && u !== null && !Array.isArray(u);

/**
 * The values of a destination's `{"env": …}` options that are set, with their labels; and those one
 * level down, as an http destination's headers give them (`options.headers.NAME (from env VAR)`).
 */
export const secretsOf = (config: DestinationConfig, env: NodeJS.ProcessEnv): Secret[] => {
  const read = (name: string, value: unknown): Secret[] => {
    const variable = envReference(value);
    const found = variable === undefined ? undefined : readVariable(env, variable);
    return found === undefined || found === '' ? [] : [[found, optionLabel(name, variable)]];
  };
  return Object.entries(config.options ?? {}).flatMap(([name, value]): Secret[] =>
    envReference(value) === undefined && isRecord(value)
      ? Object.entries(value).flatMap(([inner, v]) => read(`${name}.${inner}`, v))
      : read(name, value),
  );
};

/** An exception with its message (and so the first line of its stack, which the CLI prints) redacted. */
const redactedError = (e: unknown, redact: Redact): Error => {
  if (!(e instanceof Error)) return new Error(redact(String(e)));
  const message = redact(e.message);
  if (message === e.message && (e.stack === undefined || redact(e.stack) === e.stack)) return e;
  const copy = new Error(message);
  copy.name = e.name;
  if (e.stack !== undefined) copy.stack = redact(e.stack);
  return copy;
};

const rethrown =
  (redact: Redact) =>
  (e: unknown): never => {
    throw redactedError(e, redact);
  };

const redactedFailure = (e: DestinationError, redact: Redact): DestinationError => {
  const message = redact(e.message);
  return message === e.message ? e : { ...e, message };
};

/** Outcomes with their messages redacted; the same array when none changes (the usual case). */
const redactedOutcomes = (outcomes: readonly CommandOutcome[], redact: Redact): readonly CommandOutcome[] => {
  let copy: CommandOutcome[] | null = null;
  outcomes.forEach((o, i) => {
    if (o.status !== 'error') return;
    const message = redact(o.message);
    if (message !== o.message) (copy ??= [...outcomes])[i] = { ...o, message };
  });
  return copy ?? outcomes;
};

/** The task's promise, with an exception thrown before it (a bug too) turned into its rejection. */
const attempt = <A>(task: () => Promise<A>): Promise<A> => new Promise<A>((resolve) => resolve(task()));

const redactedDestination = (d: Destination, redact: Redact): Destination => {
  const rethrow = rethrown(redact);
  return {
    describe: () => d.describe(),
    lookup: (keys) => () =>
      attempt(d.lookup(keys)).then(
        E.mapLeft((e) => redactedFailure(e, redact)),
        rethrow,
      ),
    apply: (commands) => () =>
      attempt(d.apply(commands)).then(
        E.bimap(
          (e) => redactedFailure(e, redact),
          (outcomes) => redactedOutcomes(outcomes, redact),
        ),
        rethrow,
      ),
    // Counting is how a run notices lost records: a destination that counts must go on counting.
    ...(d.count === undefined
      ? {}
      : {
          count: (atMost?: number) => () =>
            attempt(d.count?.(atMost) ?? (() => Promise.resolve(E.right(null)))).then(
              E.mapLeft((e) => redactedFailure(e, redact)),
              rethrow,
            ),
        }),
    ...(d.tidy === undefined ? {} : { tidy: d.tidy }),
    ...(d.expect === undefined ? {} : { expect: d.expect }),
    ...(d.observes === undefined ? {} : { observes: d.observes }),
    close: () => attempt(d.close).catch(rethrow),
  };
};

/** A type's probe (what `validate` asks of it) with its lines redacted as messages are. */
const redactedProbe =
  (probe: NonNullable<DestinationType['probe']>): NonNullable<DestinationType['probe']> =>
  (config, env) =>
  () => {
    const redact = redactor(secretsOf(config, env));
    return attempt(probe(config, env)).then((problems) => problems.map(redact), rethrown(redact));
  };

/**
 * The type with every message of its destinations redacted (see above). A destination configured
 * without variables is handed over as it is: nothing to hide, and nothing added to a sync's work.
 */
export const withoutSecrets = (type: DestinationType): DestinationType => ({
  ...type,
  ...(type.probe === undefined ? {} : { probe: redactedProbe(type.probe) }),
  open: (config, env) => () => {
    const redact = redactor(secretsOf(config, env));
    if (redact === unchanged) return type.open(config, env)();
    return attempt(() => type.open(config, env)()).then(
      E.bimap(
        (e) => ({ ...e, message: redact(e.message) }),
        (d) => redactedDestination(d, redact),
      ),
      rethrown(redact),
    );
  },
});
