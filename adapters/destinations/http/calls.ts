// An apply or a lookup as requests to the receiver: cut into batches, sent side by side (never two
// commands on one key at once), and each answer read by the protocol's rules into outcomes or records.
import * as E from 'fp-ts/lib/Either.js';
import type * as t from 'io-ts';
import type { Command, CommandOutcome } from '../../../domain/command.js';
import { reportErrors } from '../../../domain/codec.js';
import type { ObservedRecord } from '../../../domain/decision.js';
import { keyOf } from '../../../domain/values.js';
import type { DestinationError } from '../../../engine/ports.js';
import type { Client, Posted } from './client.js';
import { ApplyAnswer, LookupAnswer, type ApplyRequest, type WireCommand } from './protocol.js';

/** How much of a refusing answer's body a message quotes. */
const BODY_START = 200;

export type CallSettings = {
  readonly destinationId: string;
  readonly keyField: string;
  readonly batchSize: number;
  /** waits a lookup makes itself when asked to (an apply hands them to the engine's delivery) */
  readonly maxWaits: number;
  readonly sleep: (ms: number) => Promise<void>;
};

/** What an answer means for the commands or keys of its request. */
type Verdict =
  | { readonly _tag: 'Answer'; readonly text: string }
  | { readonly _tag: 'Wait'; readonly ms: number; readonly message: string }
  | { readonly _tag: 'Failed'; readonly retryable: boolean; readonly message: string };

const bodyStart = (text: string): string => {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > BODY_START ? `${flat.slice(0, BODY_START)}…` : flat;
};

/**
 * The protocol's rules: a 2xx is an answer; 429 and 503 with `Retry-After` are waits, not attempts;
 * other 5xx, timeouts and refused connections are retryable; any other status fails the request's
 * commands, with the status and the start of the body.
 */
export const verdictOf = (posted: Posted, shown: string): Verdict => {
  if (posted._tag === 'NoAnswer')
    return { _tag: 'Failed', retryable: true, message: `${shown}: ${posted.message}` };
  const { status, text } = posted;
  if (status >= 200 && status < 300) return { _tag: 'Answer', text };
  const said = text.trim() === '' ? '' : `: ${bodyStart(text)}`;
  if ((status === 429 || status === 503) && posted.retryAfterMs !== undefined)
    return {
      _tag: 'Wait',
      ms: posted.retryAfterMs,
      message: `${shown} answered ${status}, retry after ${Math.ceil(posted.retryAfterMs / 1000)} s${said}`,
    };
  const retryable = status >= 500 || status === 429 || status === 408;
  return { _tag: 'Failed', retryable, message: `${shown} answered ${status}${said}` };
};

const parsedAs = <A>(codec: t.Decoder<unknown, A>, text: string, shown: string): E.Either<string, A> => {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return E.left(`${shown} answered with a body that is not JSON: ${bodyStart(text)}`);
  }
  return E.mapLeft(
    (errors: t.Errors) =>
      `${shown} answered with a body that does not follow the protocol: ${reportErrors(errors).slice(0, 3).join('; ')}`,
  )(codec.decode(json));
};

const chunked = <A>(xs: readonly A[], size: number): A[][] => {
  const out: A[][] = [];
  for (let i = 0; i < xs.length; i += size) out.push(xs.slice(i, i + size));
  return out;
};

/**
 * Runs of commands that touch no key twice (a rename's new key counts): the requests of one run can
 * be in flight together, as the receiver may apply them in any order; the runs go one after another.
 */
export const segmentsOf = (commands: readonly Command[], keyField: string): Command[][] => {
  const out: Command[][] = [];
  let current: Command[] = [];
  let keys = new Set<string>();
  for (const c of commands) {
    const renamed = Object.hasOwn(c.fields.set, keyField) ? keyOf(c.fields.set[keyField]) : undefined;
    const touched = renamed === undefined ? [c.key] : [c.key, renamed];
    if (touched.some((k) => keys.has(k))) {
      out.push(current);
      current = [];
      keys = new Set();
    }
    current.push(c);
    for (const k of touched) keys.add(k);
  }
  if (current.length > 0) out.push(current);
  return out;
};

const wire = (c: Command): WireCommand => ({
  commandId: c.commandId,
  operation: c.operation,
  key: c.key,
  fields: c.fields,
  groups: c.groups,
});

const failedAll = (
  commands: readonly Command[],
  retryable: boolean,
  message: string,
  retryAfterMs?: number,
) =>
  commands.map((c): CommandOutcome =>
    retryAfterMs === undefined
      ? { commandId: c.commandId, status: 'error', retryable, message }
      : { commandId: c.commandId, status: 'error', retryable, message, retryAfterMs },
  );

/** The outcomes of one request's commands, in their order. */
const applyBatch = async (client: Client, s: CallSettings, commands: readonly Command[]) => {
  const body: ApplyRequest = {
    destinationId: s.destinationId,
    keyField: s.keyField,
    commands: commands.map(wire),
  };
  const shown = client.shown('/apply');
  const verdict = verdictOf(await client.post('/apply', JSON.stringify(body)), shown);
  if (verdict._tag === 'Wait') return failedAll(commands, true, verdict.message, verdict.ms);
  if (verdict._tag === 'Failed') return failedAll(commands, verdict.retryable, verdict.message);
  // An empty 2xx says every command succeeded.
  if (verdict.text.trim() === '')
    return commands.map((c): CommandOutcome => ({ commandId: c.commandId, status: 'ok' }));
  const answer = parsedAs(ApplyAnswer, verdict.text, shown);
  // The receiver may have applied them: resending is safe, since it knows the command ids.
  if (E.isLeft(answer)) return failedAll(commands, true, answer.left);
  const byId = new Map(answer.right.results.map((r) => [r.commandId, r]));
  return commands.map((c): CommandOutcome => {
    const r = byId.get(c.commandId);
    if (r === undefined)
      return {
        commandId: c.commandId,
        status: 'error',
        retryable: true,
        message: `${shown} gave no result for this command`,
      };
    if (r.ok) return { commandId: c.commandId, status: 'ok' };
    const message = r.error === '' ? 'failed' : r.error;
    return r.retryAfterMs === undefined
      ? { commandId: c.commandId, status: 'error', retryable: r.retryable, message }
      : {
          commandId: c.commandId,
          status: 'error',
          retryable: r.retryable,
          message,
          retryAfterMs: r.retryAfterMs,
        };
  });
};

/** Every command's outcome: requests of batchSize, side by side within a segment. */
export const applyCommands = async (
  client: Client,
  s: CallSettings,
  commands: readonly Command[],
): Promise<CommandOutcome[]> => {
  const outcomes: CommandOutcome[] = [];
  for (const segment of segmentsOf(commands, s.keyField)) {
    const answered = await Promise.all(
      chunked(segment, s.batchSize).map((batch) => applyBatch(client, s, batch)),
    );
    for (const part of answered) outcomes.push(...part);
  }
  return outcomes;
};

const unavailable = (message: string, retryable: boolean): DestinationError => ({
  _tag: 'DestinationUnavailable',
  message,
  retryable,
});

/** The records of one request's keys; a wait the receiver asks for is made here, up to maxWaits. */
const lookupBatch = async (
  client: Client,
  s: CallSettings,
  keys: readonly string[],
): Promise<E.Either<DestinationError, readonly ObservedRecord[]>> => {
  const shown = client.shown('/lookup');
  for (let waits = 0; ; waits++) {
    const verdict = verdictOf(await client.post('/lookup', JSON.stringify({ keys })), shown);
    if (verdict._tag === 'Wait' && waits < s.maxWaits) {
      await s.sleep(verdict.ms);
      continue;
    }
    if (verdict._tag !== 'Answer')
      return E.left(unavailable(verdict.message, verdict._tag === 'Wait' || verdict.retryable));
    const answer = parsedAs(LookupAnswer, verdict.text, shown);
    return E.bimap(
      (m: string) => unavailable(m, true),
      (a: LookupAnswer) => a.records,
    )(answer);
  }
};

/** The records under `keys`, each once; a record under a key not asked for is not the run's business. */
export const lookupKeys = async (
  client: Client,
  s: CallSettings,
  keys: readonly string[],
): Promise<E.Either<DestinationError, readonly ObservedRecord[]>> => {
  const wanted = [...new Set(keys)];
  if (wanted.length === 0) return E.right([]);
  const asked = new Set(wanted);
  const answers = await Promise.all(
    chunked(wanted, s.batchSize).map((batch) => lookupBatch(client, s, batch)),
  );
  const records = new Map<string, ObservedRecord>();
  for (const answer of answers) {
    if (E.isLeft(answer)) return answer;
    for (const r of answer.right) if (asked.has(r.key) && !records.has(r.key)) records.set(r.key, r);
  }
  return E.right([...records.values()]);
};
