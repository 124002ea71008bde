// Posting to a receiver: one keep-alive connection pool per destination (at most `concurrency`
// requests in flight, the rest queued), signed bodies, and every answer or failure as a value.
import { Agent, request } from 'undici';
import { unchanged, type Redact } from '../redaction.js';
import { SIGNATURE_HEADER, endpointOf, signature } from './protocol.js';

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
  /**
   * hides secrets in what a receiver answers, before anything cuts it short: a secret cut in two by
   * a message's quote of the body would no longer be recognised by the redaction after it
   */
  readonly redact?: Redact;
};

/**
 * The longest wait a `Retry-After` can ask for: beyond it the wait is this long, so that a receiver
 * asking for a day does not hold a run for one (each wait is one of the run's bounded waits).
 */
export const LONGEST_WAIT_MS = 10 * 60_000;

/**
 * `Retry-After` as milliseconds from now: delay-seconds or an HTTP date (RFC 9110: a day name first);
 * undefined if neither. Date.parse alone would take "1.5" or "-1" for dates in 2001, a wait of 0.
 */
export const retryAfterOf = (header: string | undefined, now: number): number | undefined => {
  if (header === undefined) return undefined;
  const text = header.trim();
  let ms = Number.NaN;
  if (/^\d+$/.test(text)) ms = Number(text) * 1000;
  else if (/^(Mon|Tue|Wed|Thu|Fri|Sat|Sun)[a-z]*,/.test(text)) ms = Date.parse(text) - now;
  return Number.isNaN(ms) ? undefined : Math.min(LONGEST_WAIT_MS, Math.max(0, ms));
};

const reasonOf = (error: unknown, timeoutMs: number): string => {
  // The request's own AbortSignal.timeout.
  if ((error as { name?: unknown }).name === 'TimeoutError') return `no answer within ${timeoutMs} ms`;
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

/** As messages name it: without credentials, which a URL read from a variable may hold. */
const shownUrl = (target: string): string => {
  const url = new URL(target);
  url.username = '';
  url.password = '';
  return url.toString();
};

/**
 * At most `slots` requests started at once. The agent would queue the rest itself, but a request's
 * time limit must not run while it waits for a connection: it starts when the request leaves here.
 */
const turns = (slots: number) => {
  let free = slots;
  const waiting: (() => void)[] = [];
  return async <A>(work: () => Promise<A>): Promise<A> => {
    if (free > 0) free--;
    else await new Promise<void>((resolve) => waiting.push(resolve));
    try {
      return await work();
    } finally {
      const next = waiting.shift();
      if (next === undefined) free++;
      else next();
    }
  };
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
  const redact = o.redact ?? unchanged;
  const inTurn = turns(o.concurrency);
  const targets = { '/apply': endpointOf(o.url, '/apply'), '/lookup': endpointOf(o.url, '/lookup') };
  return {
    shown: (path) => `POST ${shownUrl(endpointOf(o.url, path))}`,
    post: (path, body) =>
      inTurn(async (): Promise<Posted> => {
        const headers: Record<string, string> = {
          ...o.headers,
          'content-type': 'application/json',
          'user-agent': 'syncline',
        };
        if (o.secret !== undefined)
          headers[SIGNATURE_HEADER] = signature(o.secret, body, Math.floor(now() / 1000));
        try {
          // The whole request, body included, within timeoutMs: the agent's own timeouts measure only
          // the gaps between pieces, and on coarse timers (a 200 ms limit took a second).
          const answer = await request(targets[path], {
            method: 'POST',
            headers,
            body,
            dispatcher: agent,
            signal: AbortSignal.timeout(o.timeoutMs),
          });
          const text = redact(await answer.body.text());
          const header = answer.headers['retry-after'];
          const retryAfterMs = retryAfterOf(Array.isArray(header) ? header[0] : header, now());
          return {
            _tag: 'Answered',
            status: answer.statusCode,
            text,
            ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
          };
        } catch (error) {
          return { _tag: 'NoAnswer', message: redact(reasonOf(error, o.timeoutMs)) };
        }
      }),
    close: () => agent.close().catch(() => undefined),
  };
};
