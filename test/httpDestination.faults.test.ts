// Fault injection, the http destination: a programmable receiver (support/httpTestReceiver.ts) answers
// with rate limits, server errors, silence, refusals, per-command failures and bodies that break the
// protocol, and the destination turns each into the outcome the protocol says, which the engine's
// delivery then waits out, retries or stops at. Every request is signed, and no message, however a
// receiver answers, holds a value read from a variable.
import { createHmac } from 'node:crypto';
import * as E from 'fp-ts/lib/Either.js';
import { describe, expect, it, onTestFinished } from 'vitest';
import type { Command, CommandOutcome } from '../domain/command.js';
import type { DestinationConfig } from '../domain/destination.js';
import { streamOf } from '../domain/events.js';
import { resultsOf, syncStream, type CommandResult } from '../domain/syncEvents.js';
import { httpDestinationType } from '../adapters/destinations/http/destination.js';
import { resolveDestination } from '../adapters/destinations/registry.js';
import { openMemoryEventStore } from '../adapters/stores/memory.js';
import { applyConfig } from '../engine/input/configure.js';
import { defaultDelivery, deliver, type DeliveryOptions } from '../engine/sync/deliver.js';
import { defaultSyncOptions, syncDestination } from '../engine/sync/run.js';
import { initialState } from '../engine/state/engineState.js';
import type { Destination } from '../engine/ports.js';
import { contractConfig, create, remove, update } from './contract/destinationHelpers.js';
import { created } from './support/given.js';
import {
  refusingUrl,
  startTestReceiver,
  type ReceivedRequest,
  type TestReceiver,
} from './support/httpTestReceiver.js';

const SECRET = 's3cret-value';
const TOKEN = 'Bearer tok-9f8e7d6c5b4a3928';
const ENV = { HOOK_SECRET: SECRET };

const httpConfig = (url: string, options: Record<string, unknown> = {}): DestinationConfig => ({
  ...contractConfig,
  destinationId: 'hook',
  type: 'http',
  options: { url, secret: { env: 'HOOK_SECRET' }, timeoutMs: 2000, ...options },
});

/** A receiver for this test alone, closed when it ends. */
const receiver = async (o: { secret?: string } = { secret: SECRET }): Promise<TestReceiver> => {
  const r = await startTestReceiver(o);
  onTestFinished(() => r.close());
  return r;
};

/** The destination as the engine gets it, closed when the test ends. */
const opened = async (config: DestinationConfig, env: NodeJS.ProcessEnv = ENV): Promise<Destination> => {
  const d = await httpDestinationType.open(config, env)();
  if (E.isLeft(d)) throw new Error(`the destination did not open: ${d.left.message}`);
  onTestFinished(() => d.right.close());
  return d.right;
};

const applied = async (d: Destination, commands: readonly Command[]): Promise<readonly CommandOutcome[]> => {
  const r = await d.apply(commands)();
  if (E.isLeft(r)) throw new Error(`the apply failed as a whole: ${r.left.message}`);
  return r.right;
};

/** Delivery whose sleeps are noted and not slept: the waits and backoffs a run would make. */
const delivery = (): { opts: DeliveryOptions; slept: number[] } => {
  const slept: number[] = [];
  return {
    slept,
    opts: {
      ...defaultDelivery,
      sleep: (ms) => {
        slept.push(ms);
        return Promise.resolve();
      },
    },
  };
};

const applies = (r: TestReceiver): ReceivedRequest[] => r.requests.filter((q) => q.path === '/apply');
const lookups = (r: TestReceiver): ReceivedRequest[] => r.requests.filter((q) => q.path === '/lookup');
const commandsOf = (q: ReceivedRequest): { commandId: string; key: string }[] =>
  (q.body as { commands: { commandId: string; key: string }[] }).commands;
const keysAsked = (q: ReceivedRequest): string[] => (q.body as { keys: string[] }).keys;

const failure = (o: CommandOutcome | undefined) => {
  if (o?.status !== 'error') throw new Error(`expected a failed outcome, got ${JSON.stringify(o)}`);
  return o;
};

/** Every piece of `secret` `size` characters long: none may show in a message, not even cut short. */
const piecesOf = (secret: string, size = 8): string[] =>
  Array.from({ length: secret.length - size + 1 }, (_, i) => secret.slice(i, i + size));

describe('rate limits: 429 and 503 with Retry-After are waits, not attempts', () => {
  it('given a receiver answering 429 with Retry-After: 2, when a command is applied, then its outcome is retryable and carries retryAfterMs 2000', async () => {
    const r = await receiver();
    r.script.next('/apply', { status: 429, headers: { 'retry-after': '2' }, body: 'slow down' });
    const d = await opened(httpConfig(r.url));
    const [outcome] = await applied(d, [create('ann@x.io')]);
    expect(failure(outcome)).toMatchObject({ retryable: true, retryAfterMs: 2000 });
    expect(failure(outcome).message).toMatch(/answered 429/);
    expect(r.records.records()).toStrictEqual([]);
  });

  it('given a receiver answering 429 with Retry-After: 2 then 200, when delivered, then 2000 ms are slept and the command ends ok at attempt 1', async () => {
    const r = await receiver();
    r.script.next('/apply', { status: 429, headers: { 'retry-after': '2' } });
    const d = await opened(httpConfig(r.url));
    const { opts, slept } = delivery();
    const [result] = await deliver(d, [create('ann@x.io', { set: { first_name: 'Ann' } })], opts);
    expect(result).toMatchObject({ status: 'ok', attempts: 1 });
    expect(slept).toStrictEqual([2000]);
    expect(applies(r)).toHaveLength(2);
    expect(r.records.records().map((x) => x.key)).toStrictEqual(['ann@x.io']);
  });

  it('given a receiver answering 429 with Retry-After as an HTTP date 3 s ahead, when delivered, then about that long is slept, not counted', async () => {
    const r = await receiver();
    r.script.next('/apply', () => ({
      status: 429,
      headers: { 'retry-after': new Date(Date.now() + 3000).toUTCString() },
    }));
    const d = await opened(httpConfig(r.url));
    const [outcome] = await applied(d, [create('ann@x.io')]);
    const ms = failure(outcome).retryAfterMs ?? -1;
    // An HTTP date has whole seconds: 3 s ahead is 2 to 3 s away, less the time the answer took.
    expect(ms).toBeGreaterThan(1500);
    expect(ms).toBeLessThanOrEqual(3000);

    r.script.next('/apply', () => ({
      status: 429,
      headers: { 'retry-after': new Date(Date.now() + 3000).toUTCString() },
    }));
    const { opts, slept } = delivery();
    const [result] = await deliver(d, [create('bob@x.io')], opts);
    expect(result).toMatchObject({ status: 'ok', attempts: 1 });
    expect(slept).toHaveLength(1);
    expect(slept[0]).toBeGreaterThan(1500);
    expect(slept[0]).toBeLessThanOrEqual(3000);
  });

  it('given a receiver answering 503 with Retry-After: 1 then 200, when delivered, then 1000 ms are slept and the command ends ok at attempt 1', async () => {
    const r = await receiver();
    r.script.next('/apply', { status: 503, headers: { 'retry-after': '1' }, body: 'maintenance' });
    const d = await opened(httpConfig(r.url));
    const [outcome] = await applied(d, [create('ann@x.io')]);
    expect(failure(outcome)).toMatchObject({ retryable: true, retryAfterMs: 1000 });

    r.script.next('/apply', { status: 503, headers: { 'retry-after': '1' } });
    const { opts, slept } = delivery();
    const [result] = await deliver(d, [create('bob@x.io')], opts);
    expect(result).toMatchObject({ status: 'ok', attempts: 1 });
    expect(slept).toStrictEqual([1000]);
  });

  it('given a receiver answering 429 without Retry-After then 200, when delivered, then it is an ordinary retryable failure: backed off and counted', async () => {
    const r = await receiver();
    r.script.next('/apply', { status: 429 });
    const d = await opened(httpConfig(r.url));
    const [outcome] = await applied(d, [create('ann@x.io')]);
    expect(failure(outcome)).toMatchObject({ retryable: true });
    expect(failure(outcome)).not.toHaveProperty('retryAfterMs');

    r.script.next('/apply', { status: 429 });
    const { opts, slept } = delivery();
    const [result] = await deliver(d, [create('bob@x.io')], opts);
    expect(result).toMatchObject({ status: 'ok', attempts: 2 });
    expect(slept).toStrictEqual([opts.backoffMs]);
  });

  it('given a receiver answering 429 with a Retry-After that is neither seconds nor a date (1.5), when delivered, then it is never resent without a wait', async () => {
    const r = await receiver();
    r.script.next('/apply', { status: 429, headers: { 'retry-after': '1.5' } }, 2);
    const d = await opened(httpConfig(r.url));
    const { opts, slept } = delivery();
    const [result] = await deliver(d, [create('ann@x.io')], opts);
    expect(result).toMatchObject({ status: 'ok' });
    expect(slept).toHaveLength(2);
    expect(slept).not.toContain(0);
  });

  it('given a receiver answering 429 with Retry-After: 1 then 200, when a whole run syncs, then the records arrive and the run records attempt 1 with no failure', async () => {
    const r = await receiver();
    const config = httpConfig(r.url);
    const store = openMemoryEventStore();
    const state = initialState();
    const configured = await applyConfig(store, state, [config], false);
    if (E.isLeft(configured)) throw new Error(JSON.stringify(configured.left));
    for (const e of [
      created('p1', { email: 'ann@x.io', firstName: 'Ann' }),
      created('p2', { email: 'bob@x.io', firstName: 'Bob' }),
    ]) {
      const res = await store.append([{ stream: streamOf(e), events: [e], expected: 'any' }])();
      if (E.isLeft(res)) throw new Error(JSON.stringify(res.left));
    }
    r.script.next('/apply', { status: 429, headers: { 'retry-after': '1' } });
    const { opts, slept } = delivery();
    const run = await syncDestination(store, state, 'hook', await opened(config), {
      ...defaultSyncOptions,
      delivery: opts,
    });
    if (E.isLeft(run)) throw new Error(`the run did not finish: ${JSON.stringify(run.left)}`);
    expect(run.right.totals).toMatchObject({ created: 2, failed: 0 });
    expect(slept).toStrictEqual([1000]);
    expect(r.records.records().map((x) => x.key)).toStrictEqual(['ann@x.io', 'bob@x.io']);
    const results: CommandResult[] = [];
    for await (const e of store.readStream(syncStream('hook')))
      if (e.type === 'BatchApplied') results.push(...resultsOf(e.data as Parameters<typeof resultsOf>[0]));
    expect(results.map((x) => [x.status, x.attempts])).toStrictEqual([
      ['ok', 1],
      ['ok', 1],
    ]);
  });
});

describe('server errors, silence and refusals are retried', () => {
  it('given a receiver answering 500 once then 200, when delivered, then the command is retried and ends ok at attempt 2', async () => {
    const r = await receiver();
    r.script.next('/apply', { status: 500, body: 'database is restarting' });
    const d = await opened(httpConfig(r.url));
    const { opts, slept } = delivery();
    const [result] = await deliver(d, [create('ann@x.io')], opts);
    expect(result).toMatchObject({ status: 'ok', attempts: 2 });
    expect(slept).toStrictEqual([opts.backoffMs]);
    expect(applies(r)).toHaveLength(2);
    expect(r.records.records().map((x) => x.key)).toStrictEqual(['ann@x.io']);
  });

  it('given a receiver answering 500, when a command is applied, then it fails retryable with the status and the start of the body', async () => {
    const r = await receiver();
    r.script.next('/apply', { status: 500, body: 'database is restarting' });
    const d = await opened(httpConfig(r.url));
    const [outcome] = await applied(d, [create('ann@x.io')]);
    expect(failure(outcome)).toMatchObject({
      retryable: true,
      message: `POST ${r.url}/apply answered 500: database is restarting`,
    });
  });

  it('given a receiver that answers later than timeoutMs 200, when a command is applied, then it fails retryable with no answer within 200 ms', async () => {
    const r = await receiver();
    r.script.next('/apply', { delayMs: 3000 });
    const d = await opened(httpConfig(r.url, { timeoutMs: 200 }));
    const started = performance.now();
    const [outcome] = await applied(d, [create('ann@x.io')]);
    expect(failure(outcome)).toMatchObject({
      retryable: true,
      message: `POST ${r.url}/apply: no answer within 200 ms`,
    });
    // It gave up rather than waiting for the answer.
    expect(performance.now() - started).toBeLessThan(2500);
  });

  it('given timeoutMs 200 and a receiver that never answers in time, when a command is applied, then it gives up after about 200 ms, not a second', async () => {
    const r = await receiver();
    r.script.next('/apply', { delayMs: 3000 });
    const d = await opened(httpConfig(r.url, { timeoutMs: 200 }));
    const started = performance.now();
    await applied(d, [create('ann@x.io')]);
    const took = performance.now() - started;
    expect(took).toBeGreaterThanOrEqual(190);
    expect(took).toBeLessThan(200 + 250);
  });

  it('given a receiver that sends its answer a piece at a time for 1.5 s, when applied with timeoutMs 300, then the request counts as failed, retryable', async () => {
    const r = await receiver();
    r.script.next('/apply', { trickleMs: 150 });
    const d = await opened(httpConfig(r.url, { timeoutMs: 300 }));
    const started = performance.now();
    const [outcome] = await applied(d, [create('ann@x.io'), create('bob@x.io')]);
    const took = performance.now() - started;
    expect(outcome).toMatchObject({
      status: 'error',
      retryable: true,
      message: `POST ${r.url}/apply: no answer within 300 ms`,
    });
    expect(took).toBeLessThan(1000);
  });

  it('given a receiver that is slow once, when delivered, then the command is retried and ends ok at attempt 2', async () => {
    const r = await receiver();
    r.script.next('/apply', { delayMs: 3000 });
    const d = await opened(httpConfig(r.url, { timeoutMs: 200 }));
    const { opts } = delivery();
    const [result] = await deliver(d, [create('ann@x.io')], opts);
    expect(result).toMatchObject({ status: 'ok', attempts: 2 });
  });

  it('given a receiver that is slow to a lookup, when keys are looked up, then the lookup fails as DestinationUnavailable, retryable', async () => {
    const r = await receiver();
    r.script.next('/lookup', { delayMs: 3000 });
    const d = await opened(httpConfig(r.url, { timeoutMs: 200 }));
    const found = await d.lookup(['ann@x.io'])();
    expect(found).toStrictEqual(
      E.left({
        _tag: 'DestinationUnavailable',
        retryable: true,
        message: `POST ${r.url}/lookup: no answer within 200 ms`,
      }),
    );
  });

  it('given a URL where nothing listens, when a command is applied, then it fails retryable naming the URL and a refused connection', async () => {
    const url = await refusingUrl();
    const d = await opened(httpConfig(url));
    const [outcome] = await applied(d, [create('ann@x.io'), update('bob@x.io')]);
    expect(failure(outcome)).toMatchObject({ retryable: true });
    expect(failure(outcome).message).toContain(`${url}/apply`);
    expect(failure(outcome).message).toMatch(/connection refused/);
  });

  it('given a URL where nothing listens, when keys are looked up, then the lookup fails as DestinationUnavailable, retryable, naming the URL', async () => {
    const url = await refusingUrl();
    const d = await opened(httpConfig(url));
    const found = await d.lookup(['ann@x.io'])();
    if (E.isRight(found)) throw new Error('the lookup of a receiver that is not there succeeded');
    expect(found.left).toMatchObject({ _tag: 'DestinationUnavailable', retryable: true });
    expect(found.left.message).toContain(`${url}/lookup`);
    expect(found.left.message).toMatch(/connection refused/);
  });

  it('given a URL where nothing listens, when delivered, then every attempt is made and the command ends retryable at maxAttempts', async () => {
    const url = await refusingUrl();
    const d = await opened(httpConfig(url));
    const { opts, slept } = delivery();
    const [result] = await deliver(d, [create('ann@x.io')], opts);
    expect(result).toMatchObject({ status: 'error', retryable: true, attempts: opts.maxAttempts });
    expect(slept).toStrictEqual([200, 400, 800, 1600]);
  });
});

describe('refusals: other 4xx are terminal', () => {
  it('given a receiver answering 400 with a body, when delivered, then the command fails terminally at once with the status and the body', async () => {
    const r = await receiver();
    r.script.next('/apply', { status: 400, body: 'bad field x: first_name is not a column here' });
    const d = await opened(httpConfig(r.url));
    const { opts, slept } = delivery();
    const [result] = await deliver(d, [create('ann@x.io')], opts);
    expect(result).toMatchObject({
      status: 'error',
      retryable: false,
      attempts: 1,
      message: `POST ${r.url}/apply answered 400: bad field x: first_name is not a column here`,
    });
    expect(slept).toStrictEqual([]);
    expect(applies(r)).toHaveLength(1);
  });

  it('given a receiver answering 400 with a long body, when applied, then the message quotes its first 200 characters and an ellipsis', async () => {
    const r = await receiver();
    const body = Array.from({ length: 120 }, (_, i) => `e${i}`).join(' ');
    r.script.next('/apply', { status: 400, body });
    const d = await opened(httpConfig(r.url));
    const [outcome] = await applied(d, [create('ann@x.io')]);
    expect(failure(outcome)).toMatchObject({
      retryable: false,
      message: `POST ${r.url}/apply answered 400: ${body.slice(0, 200)}…`,
    });
  });

  it('given a receiver answering 422 to a lookup, when keys are looked up, then the lookup fails terminally', async () => {
    const r = await receiver();
    r.script.next('/lookup', { status: 422, body: 'keys must be emails' });
    const d = await opened(httpConfig(r.url));
    expect(await d.lookup(['ann@x.io'])()).toStrictEqual(
      E.left({
        _tag: 'DestinationUnavailable',
        retryable: false,
        message: `POST ${r.url}/lookup answered 422: keys must be emails`,
      }),
    );
  });
});

describe('per-command results', () => {
  it('given a receiver failing one command retryably, when delivered, then only that command is resent and both end ok', async () => {
    const r = await receiver();
    const ann = create('ann@x.io');
    const bob = create('bob@x.io');
    r.script.next('/apply', {
      results: (c) =>
        c.key === 'ann@x.io'
          ? { commandId: c.commandId, ok: false, error: 'record locked', retryable: true }
          : 'apply',
    });
    const d = await opened(httpConfig(r.url));
    const { opts, slept } = delivery();
    const results = await deliver(d, [ann, bob], opts);
    expect(results).toMatchObject([
      { commandId: ann.commandId, status: 'ok', attempts: 2 },
      { commandId: bob.commandId, status: 'ok', attempts: 1 },
    ]);
    expect(slept).toStrictEqual([opts.backoffMs]);
    expect(applies(r).map((q) => commandsOf(q).map((c) => c.key))).toStrictEqual([
      ['ann@x.io', 'bob@x.io'],
      ['ann@x.io'],
    ]);
  });

  it('given a receiver failing one command terminally, when delivered, then it fails with the receiver message and is not resent', async () => {
    const r = await receiver();
    const ann = create('ann@x.io');
    const bob = create('bob@x.io');
    r.script.next('/apply', {
      results: (c) =>
        c.key === 'ann@x.io'
          ? { commandId: c.commandId, ok: false, error: 'field code is too long', retryable: false }
          : 'apply',
    });
    const d = await opened(httpConfig(r.url));
    const { opts } = delivery();
    const results = await deliver(d, [ann, bob], opts);
    expect(results).toMatchObject([
      {
        commandId: ann.commandId,
        status: 'error',
        retryable: false,
        attempts: 1,
        message: 'field code is too long',
      },
      { commandId: bob.commandId, status: 'ok', attempts: 1 },
    ]);
    expect(applies(r)).toHaveLength(1);
  });

  it('given a receiver leaving out one command result, when applied, then that command is retryable and the others ok', async () => {
    const r = await receiver();
    const ann = create('ann@x.io');
    const bob = create('bob@x.io');
    r.script.next('/apply', { results: (c) => (c.key === 'bob@x.io' ? 'omit' : 'apply') });
    const d = await opened(httpConfig(r.url));
    const outcomes = await applied(d, [ann, bob]);
    expect(outcomes[0]).toStrictEqual({ commandId: ann.commandId, status: 'ok' });
    expect(failure(outcomes[1])).toMatchObject({ commandId: bob.commandId, retryable: true });
    expect(failure(outcomes[1]).message).toMatch(/no result for this command/);
  });

  it('given a 2xx whose body is not JSON, when applied, then every command is retryable with a message saying so', async () => {
    const r = await receiver();
    r.script.next('/apply', { status: 200, body: '<html>OK</html>' });
    const d = await opened(httpConfig(r.url));
    const outcomes = await applied(d, [create('ann@x.io'), create('bob@x.io')]);
    expect(outcomes).toHaveLength(2);
    for (const o of outcomes) {
      expect(failure(o)).toMatchObject({ retryable: true });
      expect(failure(o).message).toMatch(/not JSON/);
    }
  });

  it('given a 2xx with an empty body, when applied, then every command is ok', async () => {
    const r = await receiver();
    r.script.next('/apply', { status: 204, body: '', apply: true });
    const d = await opened(httpConfig(r.url));
    const commands = [create('ann@x.io'), create('bob@x.io')];
    expect(await applied(d, commands)).toStrictEqual(
      commands.map((c) => ({ commandId: c.commandId, status: 'ok' })),
    );
  });

  it('given a 2xx whose results do not follow the protocol, when applied, then every command is retryable with a message saying so', async () => {
    const r = await receiver();
    r.script.next('/apply', { status: 200, body: JSON.stringify({ results: [{ id: 'x', done: true }] }) });
    const d = await opened(httpConfig(r.url));
    const outcomes = await applied(d, [create('ann@x.io')]);
    expect(failure(outcomes[0])).toMatchObject({ retryable: true });
    expect(failure(outcomes[0]).message).toMatch(/does not follow the protocol/);
  });
});

describe('signing and secrets', () => {
  it('given a secret, when commands and lookups are sent, then every request carries a valid Syncline-Signature for its raw body', async () => {
    const r = await receiver();
    const d = await opened(httpConfig(r.url, { batchSize: 2 }));
    // Characters outside ASCII: the signature is over the bytes sent, not over UTF-16 code units.
    await applied(d, [
      create('zoë@x.io', { set: { first_name: 'Zoë 🚀', note: 'naïve "quoted" \\ text' } }),
      create('ann@x.io'),
      update('zoë@x.io', { set: { ltv: 12.5 } }),
    ]);
    await d.lookup(['zoë@x.io', 'ann@x.io', 'nobody@x.io'])();
    expect(r.requests.length).toBeGreaterThanOrEqual(3);
    const now = Date.now() / 1000;
    for (const q of r.requests) {
      const header = q.headers['syncline-signature'];
      expect(header).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
      const [, t = ''] = /^t=(\d+),/.exec(String(header)) ?? [];
      expect(Math.abs(now - Number(t))).toBeLessThan(30);
      const mac = createHmac('sha256', SECRET)
        .update(`${t}.`)
        .update(Buffer.from(q.raw, 'utf8'))
        .digest('hex');
      expect(header).toBe(`t=${t},v1=${mac}`);
      expect(q.signed).toBe(true);
    }
    expect(r.records.records().find((x) => x.key === 'zoë@x.io')?.fields).toStrictEqual({
      email: 'zoë@x.io',
      first_name: 'Zoë 🚀',
      note: 'naïve "quoted" \\ text',
      ltv: 12.5,
    });
  });

  it('given the wrong secret in the environment, when delivered, then the 401 is terminal and no message holds the secret', async () => {
    const r = await receiver();
    const wrong = 'wrong-secret-value';
    const d = await opened(httpConfig(r.url), { HOOK_SECRET: wrong });
    const { opts, slept } = delivery();
    const [result] = await deliver(d, [create('ann@x.io')], opts);
    expect(result).toMatchObject({ status: 'error', retryable: false, attempts: 1 });
    expect(result?.message).toMatch(/answered 401/);
    expect(result?.message).not.toContain(wrong);
    expect(slept).toStrictEqual([]);
    expect(r.requests.map((q) => q.signed)).toStrictEqual([false]);
    const found = await d.lookup(['ann@x.io'])();
    expect(found).toMatchObject(E.left({ _tag: 'DestinationUnavailable', retryable: false }));
    expect(JSON.stringify(found)).not.toContain(wrong);
  });

  const withToken = (url: string, options: Record<string, unknown> = {}) =>
    httpConfig(url, { headers: { Authorization: { env: 'HOOK_TOKEN' }, 'X-Team': 'growth' }, ...options });
  const ENV_WITH_TOKEN = { ...ENV, HOOK_TOKEN: TOKEN };
  const SECRET_LABEL = 'options.secret (from env HOOK_SECRET)';
  const TOKEN_LABEL = 'options.headers.Authorization (from env HOOK_TOKEN)';

  /** A receiver that answers `status` quoting the token it was sent and the secret it checks with. */
  const echoing = (status: number) => (q: ReceivedRequest) => ({
    status,
    body: `refused: authorization=${String(q.headers.authorization)} secret=${SECRET} team=${String(q.headers['x-team'])}`,
  });

  it('given a header read from a variable, when requests are sent, then it carries the value and the literal header too', async () => {
    const r = await receiver();
    const d = await opened(withToken(r.url), ENV_WITH_TOKEN);
    await applied(d, [create('ann@x.io')]);
    expect(r.requests[0]?.headers).toMatchObject({ authorization: TOKEN, 'x-team': 'growth' });
  });

  it('given a receiver that echoes the token and the secret in a 400, when applied and looked up, then the messages hold labels, never the values', async () => {
    const r = await receiver();
    r.script.always('/apply', echoing(400));
    r.script.always('/lookup', echoing(400));
    const d = await opened(withToken(r.url), ENV_WITH_TOKEN);
    const { opts } = delivery();
    const [result] = await deliver(d, [create('ann@x.io')], opts);
    expect(result?.message).toBe(
      `POST ${r.url}/apply answered 400: refused: authorization=${TOKEN_LABEL} secret=${SECRET_LABEL} team=growth`,
    );
    const found = await d.lookup(['ann@x.io'])();
    if (E.isRight(found)) throw new Error('the lookup of a refusing receiver succeeded');
    expect(found.left.message).toContain(TOKEN_LABEL);
    expect(found.left.message).toContain(SECRET_LABEL);
    const said = JSON.stringify([result, found, d.describe(), httpDestinationType.description]);
    expect(said).not.toContain(TOKEN);
    expect(said).not.toContain(SECRET);
  });

  it('given a receiver that echoes the whole request headers in a 400, when applied, then no message holds the token or the secret', async () => {
    const r = await receiver();
    r.script.always('/apply', (q) => ({ status: 400, body: JSON.stringify(q.headers) }));
    const d = await opened(withToken(r.url), ENV_WITH_TOKEN);
    const outcomes = await applied(d, [create('ann@x.io')]);
    const said = JSON.stringify(outcomes);
    expect(said).not.toContain(TOKEN);
    expect(said).not.toContain(SECRET);
  });

  it('given a receiver whose echo of the token straddles the 200-character cut, when applied, then no piece of the token shows', async () => {
    const r = await receiver();
    // Padding so that the quote of the body is cut in the middle of the token.
    r.script.always('/apply', (q) => ({
      status: 400,
      body: `${'x'.repeat(181)}${String(q.headers.authorization)} and then some`,
    }));
    r.script.always('/lookup', () => ({ status: 400, body: `${'y'.repeat(190)}${SECRET} was expected` }));
    const d = await opened(withToken(r.url), ENV_WITH_TOKEN);
    const outcomes = await applied(d, [create('ann@x.io')]);
    const found = await d.lookup(['ann@x.io'])();
    const said = JSON.stringify([outcomes, found]);
    for (const piece of [...piecesOf(TOKEN), ...piecesOf(SECRET)]) expect(said).not.toContain(piece);
  });

  it('given a failure to reach the receiver, when applied with secrets set, then neither value is in the message', async () => {
    const url = await refusingUrl();
    const d = await opened(withToken(url, { timeoutMs: 200 }), ENV_WITH_TOKEN);
    const said = JSON.stringify([await applied(d, [create('ann@x.io')]), await d.lookup(['ann@x.io'])()]);
    expect(said).not.toContain(TOKEN);
    expect(said).not.toContain(SECRET);
  });

  it('given a URL with credentials read from a variable, when the receiver cannot be reached, then the password is in no message', async () => {
    const url = await refusingUrl();
    const password = 'pa55-w0rd-from-env';
    // As an operator might write it: the scheme in capitals, which a URL parser writes in lower case.
    const withCredentials = url.replace('http://', `HTTP://hook:${password}@`);
    const d = await opened(httpConfig(url, { url: { env: 'HOOK_URL' } }), {
      ...ENV,
      HOOK_URL: withCredentials,
    });
    const said = JSON.stringify([await applied(d, [create('ann@x.io')]), await d.lookup(['ann@x.io'])()]);
    expect(said).not.toContain(password);
  });
});

describe('batching and concurrency', () => {
  it('given 1,050 commands and batchSize 500, when applied, then 3 requests carry 500, 500 and 50 commands and all are ok', async () => {
    const r = await receiver();
    const d = await opened(httpConfig(r.url, { batchSize: 500 }));
    const commands = Array.from({ length: 1050 }, (_, i) => create(`p${i}@x.io`));
    const outcomes = await applied(d, commands);
    // The requests go side by side, so they may arrive in any order: each is one slice, in order.
    const ids = (cs: readonly { commandId: string }[]) => cs.map((c) => c.commandId).join(',');
    expect(
      applies(r)
        .map((q) => ids(commandsOf(q)))
        .sort(),
    ).toStrictEqual(
      [commands.slice(0, 500), commands.slice(500, 1000), commands.slice(1000)].map(ids).sort(),
    );
    expect(outcomes.map((o) => o.commandId)).toStrictEqual(commands.map((c) => c.commandId));
    expect(outcomes.every((o) => o.status === 'ok')).toBe(true);
    expect(r.records.records()).toHaveLength(1050);
  });

  it('given concurrency 2 and a slow receiver, when six batches are applied, then at most 2 requests are in flight at once, and 2 are', async () => {
    const r = await receiver();
    r.script.always('/apply', { delayMs: 150 });
    const d = await opened(httpConfig(r.url, { batchSize: 5, concurrency: 2 }));
    const outcomes = await applied(
      d,
      Array.from({ length: 30 }, (_, i) => create(`p${i}@x.io`)),
    );
    expect(outcomes.every((o) => o.status === 'ok')).toBe(true);
    expect(applies(r)).toHaveLength(6);
    expect(r.mostInFlight()).toBe(2);
  });

  it('given two updates of one key among others, when applied side by side, then the two are never in flight together and go in order', async () => {
    const r = await receiver({ secret: SECRET });
    r.records.seed([{ key: 'ann@x.io', fields: { email: 'ann@x.io' }, groups: [] }]);
    r.script.always('/apply', { delayMs: 100 });
    const d = await opened(httpConfig(r.url, { batchSize: 1, concurrency: 4 }));
    const first = update('ann@x.io', { set: { first_name: 'Ann' } });
    const second = update('ann@x.io', { set: { first_name: 'Annie' } });
    const commands = [first, create('bob@x.io'), create('cy@x.io'), second, create('dee@x.io')];
    const outcomes = await applied(d, commands);
    expect(outcomes.map((o) => [o.commandId, o.status])).toStrictEqual(
      commands.map((c) => [c.commandId, 'ok']),
    );
    const carrying = (c: Command) =>
      applies(r).find((q) => commandsOf(q).some((x) => x.commandId === c.commandId));
    const [one, two] = [carrying(first), carrying(second)];
    if (one === undefined || two === undefined) throw new Error('an update of ann@x.io was never sent');
    expect(one).not.toBe(two);
    expect(two.at).toBeGreaterThanOrEqual(one.answeredAt ?? Infinity);
    expect(r.records.records().find((x) => x.key === 'ann@x.io')?.fields).toMatchObject({
      first_name: 'Annie',
    });
    // The others still went side by side.
    expect(r.mostInFlight()).toBeGreaterThan(1);
  });

  it('given two updates of one key in one batch size, when applied, then they go in two requests one after the other', async () => {
    const r = await receiver();
    r.records.seed([{ key: 'ann@x.io', fields: { email: 'ann@x.io' }, groups: [] }]);
    r.script.always('/apply', { delayMs: 50 });
    const d = await opened(httpConfig(r.url, { batchSize: 500 }));
    const commands = [
      update('ann@x.io', { set: { first_name: 'Ann' } }),
      update('ann@x.io', { set: { ltv: 3 } }),
    ];
    await applied(d, commands);
    const [one, two] = applies(r);
    expect(applies(r).map((q) => commandsOf(q).map((c) => c.commandId))).toStrictEqual(
      commands.map((c) => [c.commandId]),
    );
    expect(two?.at).toBeGreaterThanOrEqual(one?.answeredAt ?? Infinity);
  });

  it('given a rename to a key that a later command creates, when applied, then the two are never in flight together', async () => {
    const r = await receiver();
    r.records.seed([{ key: 'ann@x.io', fields: { email: 'ann@x.io' }, groups: [] }]);
    r.script.always('/apply', { delayMs: 50 });
    const d = await opened(httpConfig(r.url, { batchSize: 1 }));
    const rename = update('ann@x.io', { set: { email: 'ann@y.io' } });
    const after = update('ann@y.io', { set: { first_name: 'Ann' } });
    const outcomes = await applied(d, [rename, remove('zed@x.io'), after]);
    expect(outcomes.every((o) => o.status === 'ok')).toBe(true);
    const carrying = (c: Command) =>
      applies(r).find((q) => commandsOf(q).some((x) => x.commandId === c.commandId));
    const [one, three] = [carrying(rename), carrying(after)];
    if (one === undefined || three === undefined) throw new Error('a command on ann@ was never sent');
    expect(one).not.toBe(three);
    expect(three.at).toBeGreaterThanOrEqual(one.answeredAt ?? Infinity);
    expect(r.records.records().map((x) => [x.key, x.fields])).toStrictEqual([
      ['ann@y.io', { email: 'ann@y.io', first_name: 'Ann' }],
    ]);
  });
});

describe('lookups', () => {
  it('given duplicate keys and batchSize 2, when looked up, then each key is asked once, in batches of at most 2', async () => {
    const r = await receiver();
    r.records.seed([
      { key: 'a@x.io', fields: { email: 'a@x.io' }, groups: ['VIP'] },
      { key: 'c@x.io', fields: { email: 'c@x.io' }, groups: [] },
    ]);
    const d = await opened(httpConfig(r.url, { batchSize: 2 }));
    const found = await d.lookup(['a@x.io', 'b@x.io', 'a@x.io', 'c@x.io', 'd@x.io', 'e@x.io', 'c@x.io'])();
    const asked = lookups(r).map(keysAsked);
    expect(asked).toHaveLength(3);
    expect(asked.every((keys) => keys.length <= 2)).toBe(true);
    expect(asked.flat().sort()).toStrictEqual(['a@x.io', 'b@x.io', 'c@x.io', 'd@x.io', 'e@x.io']);
    if (E.isLeft(found)) throw new Error(found.left.message);
    expect([...found.right].sort((x, y) => x.key.localeCompare(y.key))).toStrictEqual([
      { key: 'a@x.io', fields: { email: 'a@x.io' }, groups: ['VIP'] },
      { key: 'c@x.io', fields: { email: 'c@x.io' }, groups: [] },
    ]);
  });

  it('given no keys, when looked up, then nothing is asked', async () => {
    const r = await receiver();
    const d = await opened(httpConfig(r.url));
    expect(await d.lookup([])()).toStrictEqual(E.right([]));
    expect(r.requests).toHaveLength(0);
  });

  it('given a receiver answering records not asked for and a key twice, when looked up, then those are dropped and each key kept once', async () => {
    const r = await receiver();
    r.script.next('/lookup', {
      body: JSON.stringify({
        records: [
          { key: 'a@x.io', fields: { email: 'a@x.io', first_name: 'First' }, groups: [] },
          { key: 'zz@x.io', fields: { email: 'zz@x.io' }, groups: [] },
          { key: 'a@x.io', fields: { email: 'a@x.io', first_name: 'Second' }, groups: [] },
          { key: 'b@x.io', fields: { email: 'b@x.io' }, groups: ['VIP'] },
        ],
      }),
    });
    const d = await opened(httpConfig(r.url));
    expect(await d.lookup(['a@x.io', 'b@x.io'])()).toStrictEqual(
      E.right([
        { key: 'a@x.io', fields: { email: 'a@x.io', first_name: 'First' }, groups: [] },
        { key: 'b@x.io', fields: { email: 'b@x.io' }, groups: ['VIP'] },
      ]),
    );
  });

  it('given a receiver answering a lookup 429 with Retry-After: 1, when looked up, then the wait is made inside the lookup and it is answered', async () => {
    const r = await receiver();
    r.records.seed([{ key: 'a@x.io', fields: { email: 'a@x.io' }, groups: [] }]);
    r.script.next('/lookup', { status: 429, headers: { 'retry-after': '1' } });
    const d = await opened(httpConfig(r.url));
    const started = performance.now();
    const found = await d.lookup(['a@x.io'])();
    expect(found).toStrictEqual(E.right([{ key: 'a@x.io', fields: { email: 'a@x.io' }, groups: [] }]));
    expect(performance.now() - started).toBeGreaterThanOrEqual(990);
    const [one, two] = lookups(r);
    expect(lookups(r)).toHaveLength(2);
    expect((two?.at ?? 0) - (one?.at ?? Infinity)).toBeGreaterThanOrEqual(990);
  });

  it('given a receiver answering a lookup 503 without Retry-After, when looked up, then it fails retryable without waiting', async () => {
    const r = await receiver();
    r.script.next('/lookup', { status: 503, body: 'overloaded' });
    const d = await opened(httpConfig(r.url));
    expect(await d.lookup(['a@x.io'])()).toStrictEqual(
      E.left({
        _tag: 'DestinationUnavailable',
        retryable: true,
        message: `POST ${r.url}/lookup answered 503: overloaded`,
      }),
    );
    expect(lookups(r)).toHaveLength(1);
  });

  it('given a lookup answer that is not JSON, when looked up, then it fails retryable saying so', async () => {
    const r = await receiver();
    r.script.next('/lookup', { body: 'not json' });
    const d = await opened(httpConfig(r.url));
    const found = await d.lookup(['a@x.io'])();
    expect(found).toMatchObject(E.left({ _tag: 'DestinationUnavailable', retryable: true }));
    expect(JSON.stringify(found)).toMatch(/not JSON/);
  });
});

describe('options', () => {
  const problemsOf = (options: Record<string, unknown>, syncMode: DestinationConfig['syncMode'] = 'sync') => {
    const r = resolveDestination({ ...httpConfig('http://127.0.0.1:9/hooks', {}), syncMode, options });
    return E.isLeft(r) ? r.left.problems.join('\n') : '';
  };
  const good = { url: 'https://hooks.example.com/syncline', secret: { env: 'HOOK_SECRET' } };

  it('given a valid config, when resolved, then it is accepted', () => {
    expect(problemsOf(good)).toBe('');
    expect(
      problemsOf({
        ...good,
        lookup: false,
        batchSize: 10_000,
        timeoutMs: 500,
        concurrency: 8,
        headers: { Authorization: { env: 'HOOK_TOKEN' }, 'X-Team': 'growth' },
      }),
    ).toBe('');
    expect(problemsOf({ url: 'http://127.0.0.1:8080' }, 'enrich')).toBe('');
  });

  it('given a literal secret, when resolved, then it is refused, saying to use {"env"}', () => {
    const problems = problemsOf({ ...good, secret: 'literal-s3cret' });
    expect(problems).toMatch(/options\.secret: .*\{"env": "NAME"\}/);
    expect(problems).not.toContain('literal-s3cret');
  });

  it('given a URL with credentials, when resolved, then it is refused', () => {
    const problems = problemsOf({ ...good, url: 'https://user:hunter2@hooks.example.com/' });
    expect(problems).toMatch(/options\.url: .*credentials/);
    expect(problems).not.toContain('hunter2');
  });

  it.each([
    ['not a URL', 'hooks.example.com'],
    ['another scheme', 'ftp://hooks.example.com/'],
    ['a query', 'https://hooks.example.com/?token=1'],
  ])('given a URL that is %s, when resolved, then it is refused', (_what, url) => {
    expect(problemsOf({ ...good, url })).toMatch(/options\.url: /);
  });

  it('given no URL, when resolved, then it is refused as required', () => {
    expect(problemsOf({ secret: { env: 'HOOK_SECRET' } })).toMatch(/options\.url: is required/);
  });

  it.each([
    ['batchSize', 0],
    ['batchSize', 10_001],
    ['batchSize', 1.5],
    ['timeoutMs', 0],
    ['concurrency', 0],
    ['concurrency', 65],
  ])('given %s %s, when resolved, then it is refused', (name, value) => {
    expect(problemsOf({ ...good, [name]: value })).toMatch(
      new RegExp(`options\\.${name}: must be a whole number`),
    );
  });

  it.each(['Syncline-Signature', 'syncline-signature', 'Content-Type', 'Host'])(
    'given a header named %s, when resolved, then it is refused as one syncline sets',
    (name) => {
      expect(problemsOf({ ...good, headers: { [name]: 'x' } })).toMatch(
        /set by syncline and cannot be given/,
      );
    },
  );

  it('given a header value with a line break, or a header name that is not a token, when resolved, then each is refused', () => {
    expect(problemsOf({ ...good, headers: { 'X-A': 'one\r\nX-B: two' } })).toMatch(/line break/);
    expect(problemsOf({ ...good, headers: { 'X A': 'x' } })).toMatch(/not a valid header name/);
  });

  it('given syncMode enrich with lookup false, when resolved, then it is refused, saying enrich needs lookups', () => {
    const problems = problemsOf({ ...good, lookup: false }, 'enrich');
    expect(problems).toMatch(/enrich needs/);
    expect(problems).toMatch(/lookup false/);
    expect(problemsOf({ ...good, lookup: false }, 'additive')).toBe('');
  });

  it('given the type, when described, then it lists every option with its default', () => {
    expect(httpDestinationType.description.type).toBe('http');
    expect(
      httpDestinationType.description.options.map((o) => [
        o.name,
        o.required,
        'default' in o ? o.default : '-',
      ]),
    ).toStrictEqual([
      ['url', true, '-'],
      ['secret', false, '-'],
      ['lookup', false, true],
      ['batchSize', false, 500],
      ['timeoutMs', false, 10_000],
      ['concurrency', false, 4],
      ['headers', false, '-'],
    ]);
    expect(httpDestinationType.description.options.every((o) => o.description !== '')).toBe(true);
  });

  it('given the secret variable not set, when opened, then it fails naming the variable', async () => {
    const d = await httpDestinationType.open(httpConfig('http://127.0.0.1:9'), {})();
    expect(d).toMatchObject(E.left({ _tag: 'OpenFailed' }));
    expect(JSON.stringify(d)).toMatch(/HOOK_SECRET is not set/);
  });
});
