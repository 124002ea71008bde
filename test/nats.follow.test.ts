// A follower of a JetStream stream as a pipeline sees it: given a quiet stream, when a lone event is
// published, then it is stored at once, not when a fetch of a whole batch gives up waiting.
import * as E from 'fp-ts/lib/Either.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jetstream } from '@nats-io/jetstream';
import { natsServerOf } from '../adapters/nats/connection.js';
import { consumeEvents } from '../adapters/nats/consume.js';
import { openMemoryEventStore } from '../adapters/stores/memory.js';
import { initialState } from '../engine/state/engineState.js';
import { NATS_URL, natsAnswers, testStreams, type TestStreams } from './support/nats.js';

const server = natsServerOf(NATS_URL);
if (E.isLeft(server)) throw new Error(server.left);

describe.skipIf(!natsAnswers)('consumeEvents, following', () => {
  let streams: TestStreams;
  beforeAll(async () => {
    streams = await testStreams();
  });
  afterAll(() => streams.close());

  it('given a follower on a quiet stream, when lone events come one after another, then each is stored well within the second a fetch of a batch would wait', async () => {
    const { name, prefix } = await streams.fresh();
    const store = openMemoryEventStore();
    const stop = new AbortController();
    let stored = 0;
    const following = consumeEvents(store, initialState(), streams.nc, server.right, {
      stream: name,
      durable: 'lone',
      rejectSubject: `${prefix}.rejected`,
      batch: 500,
      follow: true,
      signal: stop.signal,
      checkDestination: () => [],
      onBatch: (c) => (stored = c.stored),
    });
    const js = jetstream(streams.nc);
    const latencies: number[] = [];
    for (let i = 1; i <= 5; i++) {
      // At a different moment of the follower's wait each time.
      await new Promise((r) => setTimeout(r, 70 * i));
      const sent = Date.now();
      await js.publish(
        `${prefix}.events`,
        JSON.stringify({ type: 'GroupCreated', data: { groupId: `g${i}`, name: `G${i}` } }),
      );
      while (stored < i && Date.now() - sent < 3_000) await new Promise((r) => setTimeout(r, 5));
      latencies.push(Date.now() - sent);
    }
    stop.abort();
    const ended = await following;
    expect(E.isRight(ended) && ended.right).toStrictEqual({
      received: 5,
      stored: 5,
      duplicates: 0,
      rejected: 0,
    });
    // A fetch of 500 would return a lone message only when its one-second wait ran out.
    expect(latencies.filter((ms) => ms >= 400)).toStrictEqual([]);
  });
});
