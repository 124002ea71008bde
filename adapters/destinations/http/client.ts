// Posting to a receiver: one keep-alive connection pool per destination (at most `concurrency`
// requests in flight, the rest queued), signed bodies, and every answer or failure as a value.
import { Agent, request } from 'undici';
import { SIGNATURE_HEADER, signature } from './protocol.js';

/** What a request came to: an answer with its status, or no answer at all. */
export type Posted =
  | {
      readonly _tag: 'Answered';
      readonly status: number;
      readonly text: string;
      /** from a `Retry-After` header, when it holds seconds or a date */
      readonly retryAfterMs?: number;
    }
  | { readonly _tag: 'NoAnswer'; readonly message: string };

export type Client = {
  readonly post: (path: '/apply' | '/lookup', body: string) => Promise<Posted>;
  /** where requests go, as messages name it */
  readonly shown: (path: string) => string;
  readonly close: () => Promise<void>;
};

export type ClientOptions = {
  readonly url: string;
  readonly secret?: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
  readonly concurrency: number;
  /** the clock signatures are dated by (tests move it) */
  readonly now?: () => number;
};

/**
 * The longest wait a `Retry-After` can ask for: beyond it the wait is this long, so that a receiver
 * asking for a day does not hold a run for one (each wait is one of the run's bounded waits).
 */
export const LONGEST_WAIT_MS = 10 * 60_000;

/** `Retry-After` as milliseconds from now: delay-seconds or an HTTP date; undefined if neither. */
export const retryAfterOf = (header: string | undefined, now: number): number | undefined => {
  if (header === undefined) return undefined;
  const text = header.trim();
  const ms = /^\d+$/.test(text) ? Number(text) * 1000 : Date.parse(text) - now;
  return Number.isNaN(ms) ? undefined : Math.min(LONGEST_WAIT_MS, Math.max(0, ms));
};

const reasonOf = (error: unknown, timeoutMs: number): string => {
  const code = (error as { code?: unknown }).code;
  switch (code) {
    case 'ECONNREFUSED':
      return 'connection refused (nothing listens there)';
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT':
    case 'UND_ERR_CONNECT_TIMEOUT':
      return `no answer within ${timeoutMs} ms`;
    case 'ECONNRESET':
    case 'UND_ERR_SOCKET':
      return 'the connection was closed before an answer';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'the host name does not resolve';
    default: {
      const message = error instanceof Error ? error.message : String(error);
      return typeof code === 'string' ? `${message} (${code})` : message;
    }
  }
};

/** The base URL with `path` appended to its own path (`http://h/hooks` → `http://h/hooks/apply`). */
const joined = (base: string, path: string): string => {
  const url = new URL(base);
  url.pathname = `${url.pathname.replace(/\/+$/, '')}${path}`;
  return url.toString();
};

export const clientOf = (o: ClientOptions): Client => {
  const agent = new Agent({
    connections: o.concurrency,
    keepAliveTimeout: 30_000,
    headersTimeout: o.timeoutMs,
    bodyTimeout: o.timeoutMs,
    connectTimeout: o.timeoutMs,
  });
  const now = o.now ?? Date.now;
  const targets = { '/apply': joined(o.url, '/apply'), '/lookup': joined(o.url, '/lookup') };
  return {
    shown: (path) => `POST ${joined(o.url, path)}`,
    post: async (path, body) => {
      const headers: Record<string, string> = {
        ...o.headers,
        'content-type': 'application/json',
        'user-agent': 'syncline',
      };
      if (o.secret !== undefined)
        headers[SIGNATURE_HEADER] = signature(o.secret, body, Math.floor(now() / 1000));
      try {
        const answer = await request(targets[path], { method: 'POST', headers, body, dispatcher: agent });
        const text = await answer.body.text();
        const header = answer.headers['retry-after'];
        const retryAfterMs = retryAfterOf(Array.isArray(header) ? header[0] : header, now());
        return {
          _tag: 'Answered',
          status: answer.statusCode,
          text,
          ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
        };
      } catch (error) {
        return { _tag: 'NoAnswer', message: reasonOf(error, o.timeoutMs) };
      }
    },
    close: () => agent.close().catch(() => undefined),
  };
};
