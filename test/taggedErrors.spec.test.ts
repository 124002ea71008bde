// Failures as tagged values: plan, retry, apply and the config file say what went wrong as data
// naming the destination or field (the CLI words them), never as a sentence to parse.
import * as E from 'fp-ts/lib/Either.js';
import { describe, expect, it } from 'vitest';
import { decodeConfig } from '../domain/config.js';
import { syncStream } from '../domain/syncEvents.js';
import { openMemoryEventStore } from '../adapters/stores/memory.js';
import { applyConfig } from '../engine/input/configure.js';
import type { DestinationError, EventStore } from '../engine/ports.js';
import { catchUp, initialState } from '../engine/state/engineState.js';
import { defaultDelivery } from '../engine/sync/deliver.js';
import { planDestination, type PlanOptions } from '../engine/sync/plan.js';
import { requestRetry } from '../engine/sync/retry.js';
import { givenEngine } from './support/engine.js';
import { created, destination } from './support/given.js';

const down: DestinationError = {
  _tag: 'DestinationUnavailable',
  message: 'connection refused',
  retryable: false,
};
const planOptions: PlanOptions = {
  batchSize: 10,
  full: false,
  delivery: { ...defaultDelivery, maxAttempts: 2, sleep: () => Promise.resolve() },
};

describe('plan', () => {
  it('given a destination that cannot be reached, when planned, then the error is LookupFailed naming it and carrying its error', async () => {
    const w = await givenEngine(destination({ mode: 'sync' }));
    await w.happen(created('p1', { email: 'ann@x.io' }));
    await catchUp(w.store, w.state);
    w.destination.failNextCalls('lookup', 5, down);
    const planned = await planDestination(w.state, 'crm', w.destination.destination(w.config), planOptions);
    expect(planned).toStrictEqual(E.left({ _tag: 'LookupFailed', destinationId: 'crm', failure: down }));
  });

  it('given a destination that fails once with a retryable error, when planned, then the retry makes the plan', async () => {
    const w = await givenEngine(destination({ mode: 'sync' }));
    await w.happen(created('p1', { email: 'ann@x.io' }));
    await catchUp(w.store, w.state);
    w.destination.failNextCalls('lookup', 1, { ...down, retryable: true });
    const planned = await planDestination(w.state, 'crm', w.destination.destination(w.config), planOptions);
    expect(E.isRight(planned) && planned.right.decisions.map((d) => d.operation)).toStrictEqual(['create']);
  });

  it('given a destination that is not configured, when planned, then the error is UnknownDestination naming it', async () => {
    const w = await givenEngine(destination({ mode: 'sync' }));
    const planned = await planDestination(
      w.state,
      'mailer',
      w.destination.destination(w.config),
      planOptions,
    );
    expect(planned).toStrictEqual(E.left({ _tag: 'UnknownDestination', destinationId: 'mailer' }));
  });
});

describe('retry', () => {
  it('given a destination that is not configured, when a retry is requested, then the error is UnknownDestination', async () => {
    const w = await givenEngine(destination({ mode: 'sync' }));
    expect(await requestRetry(w.store, w.state, 'mailer', undefined)).toStrictEqual(
      E.left({ _tag: 'UnknownDestination', destinationId: 'mailer' }),
    );
  });

  it('given a run of a live process holds the destination, when a retry is requested, then the error is Busy naming the run', async () => {
    const w = await givenEngine(destination({ mode: 'sync' }));
    await w.happen(created('p1', { email: 'ann@x.io' }));
    const run = await w.synced();
    // The run recorded as started and never finished, by an owner that is alive.
    await w.store.append([
      {
        stream: syncStream('crm'),
        expected: 'any',
        events: [
          {
            type: 'RunStarted',
            data: {
              runId: 'r2',
              destinationId: 'crm',
              position: 1,
              mode: 'sync',
              config: w.config,
              owner: { host: 'elsewhere', pid: 1 },
              startedAt: new Date().toISOString(),
            },
          },
        ],
      },
    ])();
    expect(run.runId).not.toBe('r2');
    const r = await requestRetry(w.store, w.state, 'crm', undefined, new Date(), () => true);
    expect(r).toStrictEqual(E.left({ _tag: 'Busy', destinationId: 'crm', runId: 'r2' }));
  });

  it('given the store refuses the append, when a retry is requested, then the error is RetryNotRecorded with the store error', async () => {
    const w = await givenEngine(destination({ mode: 'sync' }));
    await w.happen(created('p1', { email: 'ann@x.io' }));
    w.destination.failNextApplies('ann@x.io', 1, { retryable: false, message: 'invalid' });
    await w.synced();
    const refusing: EventStore = {
      ...w.store,
      append: () => () => Promise.resolve(E.left({ _tag: 'StoreUnavailable', message: 'disk full' })),
    };
    expect(await requestRetry(refusing, w.state, 'crm', undefined)).toStrictEqual(
      E.left({ _tag: 'RetryNotRecorded', failure: { _tag: 'StoreUnavailable', message: 'disk full' } }),
    );
  });
});

describe('apply', () => {
  it('given the store refuses the append, when a configuration is applied, then the error is ConfigNotRecorded with the store error', async () => {
    const store = openMemoryEventStore();
    const refusing: EventStore = {
      ...store,
      append: () => () => Promise.resolve(E.left({ _tag: 'StoreUnavailable', message: 'disk full' })),
    };
    expect(await applyConfig(refusing, initialState(), [destination({ mode: 'sync' })], false)).toStrictEqual(
      E.left({ _tag: 'ConfigNotRecorded', failure: { _tag: 'StoreUnavailable', message: 'disk full' } }),
    );
  });
});

describe('the config file', () => {
  it('given a destination without a key field, when decoded, then the refusal is ConfigInvalid naming the destination and field', () => {
    const { keyField: _, ...noKey } = destination({ mode: 'sync' });
    expect(decodeConfig({ destinations: [noKey] })).toStrictEqual(
      E.left({ _tag: 'ConfigInvalid', problems: ['destination crm: keyField: is required'] }),
    );
  });

  it('given a file that is not an object, when decoded, then the refusal is ConfigInvalid', () => {
    expect(decodeConfig([])).toStrictEqual(
      E.left({ _tag: 'ConfigInvalid', problems: ['[] is not an object'] }),
    );
  });
});
