// The http destination: any service that speaks syncline's small signed protocol (docs/formats.md,
// "The http destination protocol") is a destination, in any language. Requests in calls.ts.
//
// Secrets (the signing secret, headers from variables, a URL from a variable) are read when the
// destination opens and never written anywhere: the config holds only {"env": NAME} for them, and
// every message passes through withoutSecrets besides.
import * as E from 'fp-ts/lib/Either.js';
import type { DestinationTypeDescription } from '../../../domain/command.js';
import type { DestinationConfig } from '../../../domain/destination.js';
import { SYNC_MODES } from '../../../domain/modes.js';
import type { Destination, DestinationType, OpenError } from '../../../engine/ports.js';
import { openFailed, resolveOptions, type ResolvedOptions } from '../options.js';
import { redactor, type Secret } from '../redaction.js';
import { withoutSecrets } from '../secrets.js';
import { applyCommands, lookupKeys, verdictOf, type CallSettings } from './calls.js';
import { clientOf, type Client } from './client.js';
import {
  DEFAULT_BATCH,
  DEFAULT_CONCURRENCY,
  DEFAULT_TIMEOUT_MS,
  HTTP_OPTIONS,
  httpChecks,
  httpOptionDescriptions,
  resolveHeaders,
} from './options.js';

export const httpDescription: DestinationTypeDescription = {
  type: 'http',
  description:
    'Any service that answers POST <url>/apply and POST <url>/lookup as the protocol says (docs/formats.md): ' +
    'commands in batches, one result per command, requests signed with HMAC-SHA256 when a secret is set. ' +
    '429 and 503 with Retry-After are waits; other 5xx, timeouts and refused connections are retried; other ' +
    '4xx fail the commands with the status and the start of the body. With "lookup": false, what syncline last ' +
    'wrote stands for what the receiver holds, and enrich is not available (it fills only what the receiver lacks).',
  modes: [...SYNC_MODES],
  defaultMode: 'sync',
  options: httpOptionDescriptions,
};

type Opened = { readonly client: Client; readonly settings: CallSettings; readonly lookup: boolean };

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Waits a lookup makes on a receiver's Retry-After, as the engine's delivery allows an apply. */
const LOOKUP_WAITS = 20;

/** The options read and checked, a client made; nothing is sent until the first call. */
const openedOf = (config: DestinationConfig, env: NodeJS.ProcessEnv): E.Either<OpenError, Opened> => {
  const resolved = resolveOptions<typeof HTTP_OPTIONS>(config, httpType, env);
  if (E.isLeft(resolved)) return resolved;
  const { values }: ResolvedOptions<typeof HTTP_OPTIONS> = resolved.right;
  const headers = resolveHeaders(values.headers, env);
  if (E.isLeft(headers)) return E.left(openFailed(config, headers.left));
  // A receiver may echo a secret back, escaped as JSON too: both forms are hidden.
  const secrets = [...resolved.right.secrets, ...headers.right.secrets].flatMap(
    ([value, label]): Secret[] => {
      const escaped = JSON.stringify(value).slice(1, -1);
      return escaped === value
        ? [[value, label]]
        : [
            [value, label],
            [escaped, label],
          ];
    },
  );
  const client = clientOf({
    redact: redactor(secrets),
    url: values.url,
    ...(values.secret === undefined ? {} : { secret: values.secret }),
    headers: headers.right.headers,
    timeoutMs: values.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    concurrency: values.concurrency ?? DEFAULT_CONCURRENCY,
  });
  return E.right({
    client,
    lookup: values.lookup ?? true,
    settings: {
      destinationId: config.destinationId,
      keyField: config.keyField,
      batchSize: values.batchSize ?? DEFAULT_BATCH,
      maxWaits: LOOKUP_WAITS,
      sleep,
    },
  });
};

const httpDestination = ({ client, settings, lookup }: Opened): Destination => ({
  describe: () => httpDescription,
  lookup: (keys) => () => lookupKeys(client, settings, keys),
  apply: (commands) => () => applyCommands(client, settings, commands).then(E.right),
  ...(lookup ? {} : { observes: 'ledger' as const }),
  close: () => client.close(),
});

/**
 * What `validate` asks of the receiver without changing anything: a lookup of no keys (or, without
 * lookups, an apply of no commands) must be answered by a 2xx. A wrong signature shows up here too.
 */
const probe = async (config: DestinationConfig, env: NodeJS.ProcessEnv): Promise<readonly string[]> => {
  const opened = openedOf(config, env);
  if (E.isLeft(opened)) {
    // validate names the destination itself.
    const prefix = `destination ${config.destinationId}: `;
    const message = opened.left.message;
    return [message.startsWith(prefix) ? message.slice(prefix.length) : message];
  }
  const { client, settings, lookup } = opened.right;
  try {
    const path = lookup ? '/lookup' : '/apply';
    const body = lookup
      ? { keys: [] }
      : { destinationId: settings.destinationId, keyField: settings.keyField, commands: [] };
    const verdict = verdictOf(await client.post(path, JSON.stringify(body)), client.shown(path));
    return verdict._tag === 'Answer' ? [] : [verdict.message];
  } finally {
    await client.close();
  }
};

const httpType: DestinationType = {
  description: httpDescription,
  checks: httpChecks,
  open: (config, env) => () => Promise.resolve(E.map(httpDestination)(openedOf(config, env))),
  probe: (config, env) => () => probe(config, env),
};

/** Wrapped (see secrets.ts): whatever slips past, no message holds a variable's value. */
export const httpDestinationType: DestinationType = withoutSecrets(httpType);
