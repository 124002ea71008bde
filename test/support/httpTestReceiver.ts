// A programmable receiver for the http destination's specs: a node:http server on 127.0.0.1 that
// keeps records as the in-memory destination (the reference behaviour) does, records every request
// it is sent, checks signatures when given the secret, and answers as a spec scripts it: a status,
// headers, a body of its own, per-command results, or a delay long enough to time a request out.
import { Buffer } from 'node:buffer';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as E from 'fp-ts/lib/Either.js';
import type { Command, CommandOutcome } from '../../domain/command.js';
import type { ObservedRecord } from '../../domain/decision.js';
import type { DestinationConfig } from '../../domain/destination.js';
import { createMemoryRecords, type MemoryRecords } from '../../adapters/destinations/memory.js';
import type { CommandResult, WireCommand } from '../../adapters/destinations/http/protocol.js';

export type ReceiverPath = '/apply' | '/lookup';

/** A request as the receiver got it: `raw` is the body's exact text, `body` its JSON (or undefined). */
export type ReceivedRequest = {
  readonly path: string;
  readonly method: string;
  readonly headers: IncomingHttpHeaders;
  readonly raw: string;
  readonly body: unknown;
  /** when it arrived, by performance.now() */
  readonly at: number;
  /** when its answer was sent (or the client went away), once it is */
  answeredAt?: number;
  /** with a secret given: whether its Syncline-Signature is right for `raw` */
  readonly signed?: boolean;
};

/** What a command's result is to be: a result of the spec's own, or the reference's ('apply'), or none. */
export type CommandScript = (command: WireCommand) => CommandResult | 'apply' | 'omit';

/**
 * An answer to one request. Without `status` or `body` the receiver answers as a receiver should: a
 * 200 with the reference's results or records. `results` overrides per command (only the commands
 * it leaves to 'apply' change the records); `body` replaces the answer's text, and with it nothing is
 * applied unless `apply` says so. `delayMs` holds the answer back (the work is done when it is sent);
 * `trickleMs` sends its body slowly, a piece at a time.
 */
export type Answer = {
  readonly status?: number;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
  readonly results?: CommandScript;
  readonly apply?: boolean;
  readonly delayMs?: number;
  /** sends the status at once and the body in ten pieces, this long apart */
  readonly trickleMs?: number;
};

export type Scripted = Answer | ((request: ReceivedRequest) => Answer);

export type Script = {
  /** the next request to `path` (after those already scripted) gets this answer */
  readonly next: (path: ReceiverPath, answer: Scripted, times?: number) => void;
  /** every request to `path` not scripted by `next` gets this answer (until changed) */
  readonly always: (path: ReceiverPath, answer: Scripted | undefined) => void;
};

export type TestReceiver = {
  /** the base URL to configure: the destination posts to `${url}/apply` and `${url}/lookup` */
  readonly url: string;
  /** every request, in the order they arrived */
  readonly requests: ReceivedRequest[];
  readonly script: Script;
  /** the records the receiver holds, and their hooks */
  readonly records: MemoryRecords;
  /** the most requests that were ever being answered at once */
  readonly mostInFlight: () => number;
  readonly close: () => Promise<void>;
};

export const SIGNATURE_HEADER = 'syncline-signature';

/** Whether `header` is `t=<seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw>")>`, recomputed here. */
export const signatureHolds = (header: unknown, raw: Buffer, secret: string): boolean => {
  if (typeof header !== 'string') return false;
  const match = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header);
  if (match === null) return false;
  const [, t = '', mac = ''] = match;
  const expected = createHmac('sha256', secret).update(`${t}.`).update(raw).digest();
  return timingSafeEqual(Buffer.from(mac, 'hex'), expected);
};

const configFor = (destinationId: string, keyField: string): DestinationConfig => ({
  destinationId,
  type: 'memory',
  collection: { kind: 'all' },
  keyField,
  mapping: {},
});

const resultOf = (o: CommandOutcome): CommandResult =>
  o.status === 'ok'
    ? { commandId: o.commandId, ok: true }
    : { commandId: o.commandId, ok: false, error: o.message, retryable: o.retryable };

const readBody = (req: IncomingMessage): Promise<Buffer> =>
  new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    req.on('data', (part: Buffer) => parts.push(part));
    req.on('end', () => resolve(Buffer.concat(parts)));
    req.on('error', reject);
  });

const parsed = (raw: string): unknown => {
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return undefined;
  }
};

type ApplyBody = { destinationId: string; keyField: string; commands: WireCommand[] };
type LookupBody = { keys: string[] };

export const startTestReceiver = async (
  o: { readonly secret?: string; readonly records?: readonly ObservedRecord[] } = {},
): Promise<TestReceiver> => {
  const records = createMemoryRecords(o.records ?? []);
  const requests: ReceivedRequest[] = [];
  const queued = new Map<string, Scripted[]>();
  const standing = new Map<string, Scripted>();
  // Commands already applied, by id: a resent one is answered ok and not applied again, as the
  // protocol asks of a receiver (its answer may have been lost).
  const appliedIds = new Set<string>();
  const pending = new Set<ReturnType<typeof setTimeout>>();
  let inFlight = 0;
  let most = 0;

  const scriptedFor = (request: ReceivedRequest): Answer => {
    const queue = queued.get(request.path);
    const scripted = queue?.shift() ?? standing.get(request.path) ?? {};
    return typeof scripted === 'function' ? scripted(request) : scripted;
  };

  const applied = async (
    body: ApplyBody,
    perCommand: CommandScript | undefined,
  ): Promise<CommandResult[]> => {
    const results: CommandResult[] = [];
    const destination = records.destination(configFor(body.destinationId, body.keyField));
    for (const c of body.commands) {
      const own = perCommand?.(c) ?? 'apply';
      if (own === 'omit') continue;
      if (own !== 'apply') {
        results.push(own);
        continue;
      }
      if (appliedIds.has(c.commandId)) {
        results.push({ commandId: c.commandId, ok: true });
        continue;
      }
      const command: Command = { ...c, profileId: `profile-${c.key}` };
      const outcome = await destination.apply([command])();
      if (E.isLeft(outcome)) throw new Error(outcome.left.message);
      for (const r of outcome.right.map(resultOf)) {
        if (r.ok) appliedIds.add(r.commandId);
        results.push(r);
      }
    }
    return results;
  };

  const looked = async (body: LookupBody): Promise<readonly ObservedRecord[]> => {
    const found = await records.destination(configFor('receiver', 'email')).lookup(body.keys)();
    if (E.isLeft(found)) throw new Error(found.left.message);
    return found.right;
  };

  /** The reference's answer to a well-formed request, as the text of its body. */
  const answered = async (request: ReceivedRequest, answer: Answer): Promise<string> => {
    if (request.path === '/apply') {
      const results = await applied(request.body as ApplyBody, answer.results);
      return JSON.stringify({ results });
    }
    return JSON.stringify({ records: await looked(request.body as LookupBody) });
  };

  /** Resolves after `ms`, or never once the receiver closes. */
  const wait = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        pending.delete(timer);
        resolve();
      }, ms);
      pending.add(timer);
    });

  const send = async (
    res: ServerResponse,
    finished: () => void,
    status: number,
    headers: Record<string, string>,
    text: string,
    trickleMs = 0,
  ): Promise<void> => {
    if (res.destroyed || res.writableEnded) return;
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    if (trickleMs > 0) {
      // The status and headers at once, then the body a tenth at a time: never silent for long.
      res.flushHeaders();
      const step = Math.max(1, Math.ceil(text.length / 10));
      const pieces: string[] = [];
      for (let i = 0; i < text.length; i += step) pieces.push(text.slice(i, i + step));
      const last = pieces.pop() ?? '';
      for (const piece of pieces) {
        if (res.destroyed) return;
        res.write(piece);
        await wait(trickleMs);
      }
      text = last;
      if (res.destroyed) return;
    }
    // Noted before the answer leaves: a request the client sends once it has it arrives later.
    finished();
    res.end(text);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const bytes = await readBody(req);
    const raw = bytes.toString('utf8');
    const request: ReceivedRequest = {
      path: req.url ?? '',
      method: req.method ?? '',
      headers: req.headers,
      raw,
      body: parsed(raw),
      at: performance.now(),
      ...(o.secret === undefined
        ? {}
        : { signed: signatureHolds(req.headers[SIGNATURE_HEADER], bytes, o.secret) }),
    };
    requests.push(request);
    inFlight++;
    most = Math.max(most, inFlight);
    let done = false;
    const finished = () => {
      if (done) return;
      done = true;
      inFlight--;
      request.answeredAt = performance.now();
    };
    res.on('close', finished);
    try {
      if (request.signed === false) return await send(res, finished, 401, {}, 'signature does not match');
      if (req.method !== 'POST' || (request.path !== '/apply' && request.path !== '/lookup'))
        return await send(res, finished, 404, {}, `no ${req.method ?? ''} ${request.path} here`);
      const answer = scriptedFor(request);
      if (answer.delayMs !== undefined && answer.delayMs > 0) await wait(answer.delayMs);
      const status = answer.status ?? 200;
      const own = answer.body !== undefined;
      const works = status >= 200 && status < 300 && (!own || answer.apply === true);
      const text = works ? await answered(request, answer) : '';
      await send(
        res,
        finished,
        status,
        { ...answer.headers },
        own ? (answer.body ?? '') : text,
        answer.trickleMs,
      );
    } catch (error) {
      const why = error instanceof Error ? error.message : String(error);
      await send(res, finished, 500, {}, `the test receiver failed: ${why}`);
    }
  };

  const server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    records,
    mostInFlight: () => most,
    script: {
      next: (path, answer, times = 1) => {
        const queue = queued.get(path) ?? [];
        for (let i = 0; i < times; i++) queue.push(answer);
        queued.set(path, queue);
      },
      always: (path, answer) => {
        if (answer === undefined) standing.delete(path);
        else standing.set(path, answer);
      },
    },
    close: async () => {
      for (const timer of pending) clearTimeout(timer);
      pending.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
};

/** A URL on 127.0.0.1 where nothing listens: a port taken, then let go. */
export const refusingUrl = async (): Promise<string> => {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
};
