// The http destination's options as codecs, declared once: what `validate` checks in a config, what
// `open` checks once variables are read, and what `describe` lists. Secrets only through {"env"}.
import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';
import type { DestinationChecks } from '../../../engine/ports.js';
import {
  describeOptions,
  envReference,
  optionCodecs,
  optionLabel,
  readVariable,
  type OptionDeclarations,
} from '../options.js';
import type { Secret } from '../redaction.js';

const parsed = (s: string): URL | undefined => {
  try {
    return new URL(s);
  } catch {
    return undefined;
  }
};

/** A rule-checked type whose messages never repeat the value (a variable's value may be a secret). */
const checked = <A>(name: string, is: (u: unknown) => u is A, problem: (u: unknown) => string | undefined) =>
  new t.Type<A, A, unknown>(
    name,
    is,
    (u, c) => {
      const wrong = problem(u);
      return wrong === undefined ? t.success(u as A) : t.failure(u, c, wrong);
    },
    t.identity,
  );

const urlProblem = (u: unknown): string | undefined => {
  if (typeof u !== 'string') return u === undefined ? 'is required' : 'must be a string';
  const url = parsed(u);
  if (url === undefined || !['http:', 'https:'].includes(url.protocol))
    return 'must be an http:// or https:// URL (the receiver; syncline posts to <url>/apply and <url>/lookup)';
  if (url.search !== '' || url.hash !== '') return 'must not hold a query or a fragment';
  return undefined;
};

/** The receiver's base URL: `/apply` and `/lookup` are appended to its path. */
export const ReceiverUrl = checked(
  'ReceiverUrl',
  (u): u is string => urlProblem(u) === undefined,
  urlProblem,
);

/** Written in the config itself, the URL is recorded in the store: no credentials in it. */
const LiteralUrl = checked(
  'LiteralUrl',
  (u): u is string => typeof u === 'string' && parsed(u)?.username === '' && parsed(u)?.password === '',
  (u) =>
    typeof u === 'string' && ((parsed(u)?.username ?? '') !== '' || (parsed(u)?.password ?? '') !== '')
      ? 'holds credentials: give the URL as {"env": "NAME"}, or a header from a variable, so that they stay out of the store'
      : undefined,
);

const SecretText = checked(
  'Secret',
  (u): u is string => typeof u === 'string' && u !== '',
  (u) => (typeof u !== 'string' ? 'must be a string' : u === '' ? 'must not be empty' : undefined),
);

/** A secret is never literal: the config is recorded in the store. */
const NeverLiteral = checked(
  'FromVariable',
  (_u): _u is never => false,
  () => 'must be given as {"env": "NAME"}, so that the secret stays out of the config and the store',
);

const whole = (name: string, least: number, most: number) =>
  checked(
    name,
    (u): u is number => Number.isInteger(u) && (u as number) >= least && (u as number) <= most,
    (u) =>
      Number.isInteger(u) && (u as number) >= least && (u as number) <= most
        ? undefined
        : `must be a whole number from ${least} to ${most}`,
  );

const Flag = checked(
  'Flag',
  (u): u is boolean => typeof u === 'boolean',
  (u) => (typeof u === 'boolean' ? undefined : 'must be true or false'),
);

// RFC 9110 token characters; names syncline sets itself cannot be overridden.
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const OWN = new Set(['content-type', 'content-length', 'syncline-signature', 'host', 'connection']);
const headerValueProblem = (v: string): string | undefined =>
  /[\r\n\0]/.test(v) ? 'must not contain a line break or NUL' : undefined;

const headersProblem = (u: unknown): string | undefined => {
  if (typeof u !== 'object' || u === null || Array.isArray(u))
    return 'must be an object of header names to strings or {"env": "NAME"}';
  for (const [name, value] of Object.entries(u)) {
    if (!TOKEN.test(name)) return `header ${JSON.stringify(name)} is not a valid header name`;
    if (OWN.has(name.toLowerCase())) return `header ${name} is set by syncline and cannot be given`;
    if (envReference(value) !== undefined) continue;
    if (typeof value !== 'string') return `header ${name} must be a string or {"env": "NAME"}`;
    const wrong = headerValueProblem(value);
    if (wrong !== undefined) return `header ${name} ${wrong}`;
  }
  return undefined;
};

export type HeaderSetting = string | { readonly env: string };
const Headers = checked(
  'Headers',
  (u): u is Readonly<Record<string, HeaderSetting>> => headersProblem(u) === undefined,
  headersProblem,
);

export const DEFAULT_BATCH = 500;
export const DEFAULT_TIMEOUT_MS = 10_000;
export const DEFAULT_CONCURRENCY = 4;

export const HTTP_OPTIONS = {
  url: {
    codec: ReceiverUrl,
    required: true,
    description: 'the receiver: syncline POSTs to <url>/apply and <url>/lookup',
  },
  secret: {
    codec: SecretText,
    required: false,
    description:
      'signs every request (Syncline-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">); only as {"env": NAME}',
  },
  lookup: {
    codec: Flag,
    required: false,
    description:
      'whether the receiver answers /lookup; without it, what syncline last wrote stands for what the receiver holds, and enrich is not available',
    default: true,
  },
  batchSize: {
    codec: whole('BatchSize', 1, 10_000),
    required: false,
    description: 'commands (or keys) per request',
    default: DEFAULT_BATCH,
  },
  timeoutMs: {
    codec: whole('TimeoutMs', 1, 600_000),
    required: false,
    description: 'how long a request may take before it counts as failed (and is retried)',
    default: DEFAULT_TIMEOUT_MS,
  },
  concurrency: {
    codec: whole('Concurrency', 1, 64),
    required: false,
    description: 'requests in flight at once; commands on one key are never in two at once',
    default: DEFAULT_CONCURRENCY,
  },
  headers: {
    codec: Headers,
    required: false,
    description: 'extra request headers, each a string or {"env": NAME} (an API token)',
  },
} as const satisfies OptionDeclarations;

export const httpChecks: DestinationChecks = {
  options: optionCodecs(HTTP_OPTIONS),
  literal: { url: LiteralUrl, secret: NeverLiteral },
  // Enrich fills fields the receiver holds: without lookups syncline cannot know what it holds.
  mode: (options, mode) =>
    options['lookup'] === false && mode === 'enrich'
      ? 'enrich needs to see what the receiver holds: it is not available with options.lookup false'
      : undefined,
};

export const httpOptionDescriptions = describeOptions(HTTP_OPTIONS);

/** The headers as sent, each `{"env"}` read; or what is wrong, naming header and variable only. */
export const resolveHeaders = (
  given: Readonly<Record<string, HeaderSetting>> | undefined,
  env: NodeJS.ProcessEnv,
): E.Either<string, { readonly headers: Record<string, string>; readonly secrets: readonly Secret[] }> => {
  const headers: Record<string, string> = {};
  const secrets: Secret[] = [];
  for (const [name, setting] of Object.entries(given ?? {})) {
    if (typeof setting === 'string') {
      headers[name] = setting;
      continue;
    }
    const label = optionLabel(`headers.${name}`, setting.env);
    const value = readVariable(env, setting.env);
    if (value === undefined)
      return E.left(`options.headers.${name}: environment variable ${setting.env} is not set`);
    if (headerValueProblem(value) !== undefined)
      return E.left(`${label}: ${headerValueProblem(value) ?? ''}`);
    headers[name] = value;
    if (value !== '') secrets.push([value, label]);
  }
  return E.right({ headers, secrets });
};
