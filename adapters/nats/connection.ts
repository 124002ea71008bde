// Reaching a NATS server with JetStream: the URL as given on the command line, a connection that
// fails fast with a message naming the server, and subjects made of syncline's own names.
import * as E from 'fp-ts/lib/Either.js';
import { connect, type NatsConnection } from '@nats-io/transport-node';

export type NatsUnavailable = { readonly _tag: 'NatsUnavailable'; readonly message: string };

/** `nats://HOST:PORT` as the client takes it, and as messages show it (never with credentials). */
export type NatsServer = {
  readonly servers: string;
  readonly shown: string;
  readonly user?: string;
  readonly pass?: string;
};

export const natsServerOf = (url: string): E.Either<string, NatsServer> => {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return E.left(`${JSON.stringify(url)} is not a URL of the form nats://HOST:PORT`);
  }
  if (parsed.protocol !== 'nats:' && parsed.protocol !== 'tls:')
    return E.left(`${JSON.stringify(parsed.protocol)} is not nats: (nats://HOST:PORT)`);
  if (parsed.hostname === '') return E.left('the URL names no host (nats://HOST:PORT)');
  const hostPort = `${parsed.hostname}:${parsed.port === '' ? '4222' : parsed.port}`;
  return E.right({
    servers: hostPort,
    shown: `${parsed.protocol}//${hostPort}`,
    ...(parsed.username === '' ? {} : { user: decodeURIComponent(parsed.username) }),
    ...(parsed.password === '' ? {} : { pass: decodeURIComponent(parsed.password) }),
  });
};

const reasonOf = (error: unknown): string => {
  const code = (error as { code?: unknown }).code;
  const message = error instanceof Error ? error.message : String(error);
  return typeof code === 'string' && !message.includes(code) ? `${message} (${code})` : message;
};

/** A connection, or why there is none, naming the server; one attempt, not the client's endless reconnects. */
export const connectNats = async (server: NatsServer): Promise<E.Either<NatsUnavailable, NatsConnection>> => {
  try {
    const nc = await connect({
      servers: server.servers,
      timeout: 5_000,
      maxReconnectAttempts: 10,
      reconnectTimeWait: 500,
      ...(server.user === undefined ? {} : { user: server.user }),
      ...(server.pass === undefined ? {} : { pass: server.pass }),
    });
    return E.right(nc);
  } catch (error) {
    return E.left(unavailable(server, reasonOf(error)));
  }
};

export const unavailable = (server: NatsServer, reason: string): NatsUnavailable => {
  const hidden = server.pass === undefined ? reason : reason.split(server.pass).join('***');
  return { _tag: 'NatsUnavailable', message: `cannot reach NATS at ${server.shown}: ${hidden}` };
};

/**
 * A subject token for one of syncline's names (a destination id may hold anything): letters, digits,
 * `_` and `-` as they are, every other byte of its UTF-8 as `%XX`, so that `.`, `*`, `>` and spaces
 * never split or widen a subject, and two names never share a token.
 */
export const subjectToken = (name: string): string =>
  [...Buffer.from(name, 'utf8')]
    .map((b) => {
      const c = String.fromCharCode(b);
      return /[A-Za-z0-9_-]/.test(c) ? c : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
    })
    .join('');
