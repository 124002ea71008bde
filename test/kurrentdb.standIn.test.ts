// The KurrentDB stand-in, driven by the real @kurrent/kurrentdb-client over gRPC: appends and their
// expected states, idempotent retries, atomic multi-stream appends and appendRecords, reads, links,
// $all filters, subscriptions.
import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  AppendConsistencyViolationError,
  BACKWARDS,
  END,
  FORWARDS,
  KurrentDBClient,
  NO_STREAM,
  START,
  STREAM_EXISTS,
  STREAM_STATE,
  StreamNotFoundError,
  UnknownError,
  UnsupportedError,
  WrongExpectedVersionError,
  binaryEvent,
  eventTypeFilter,
  excludeSystemEvents,
  jsonEvent,
  streamNameFilter,
  type AllStreamResolvedEvent,
  type ResolvedEvent,
} from '@kurrent/kurrentdb-client';
import { startStandIn, type StandIn } from './kurrentdb/standIn.js';

let standIn: StandIn;
let client: KurrentDBClient;

const open = async (options?: Parameters<typeof startStandIn>[0]) => {
  standIn = await startStandIn(options);
  // The client's Rust bridge waits discoveryInterval (500 ms by default) before its first connection,
  // even to a single node; a short one keeps these specs quick without changing what they check.
  client = KurrentDBClient.connectionString(`${standIn.url}&discoveryInterval=10`);
};
const close = async () => {
  await client.dispose();
  await standIn.close();
};

const event = (type: string, data: Record<string, unknown> = {}, id = randomUUID()) =>
  jsonEvent({ id, type, data });

async function collect(events: AsyncIterable<ResolvedEvent>) {
  const out: ResolvedEvent[] = [];
  for await (const resolved of events) out.push(resolved);
  return out;
}

const types = (events: ResolvedEvent[]) => events.map((e) => e.event?.type);

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the promise to reject');
}

describe('the KurrentDB stand-in, given a server with multi-stream append and appendRecords (26.1)', () => {
  beforeEach(() => open());
  afterEach(close);

  it('when events are appended to a new stream, then they read back forwards with revisions and growing positions', async () => {
    const first = await client.appendToStream(
      'order-1',
      [event('Placed', { n: 1 }), event('Paid', { n: 2 })],
      {
        streamState: 'no_stream',
      },
    );
    expect(first.nextExpectedRevision).toBe(1n);
    const read = await collect(client.readStream('order-1'));
    expect(types(read)).toEqual(['Placed', 'Paid']);
    expect(read.map((e) => e.event?.revision)).toEqual([0n, 1n]);
    expect(read[0]?.event?.data).toEqual({ n: 1 });
    const [a, b] = read.map((e) => e.event!.position!.commit);
    expect(a! < b!).toBe(true);
    expect(first.position?.commit).toBe(b);
  });

  it('when the client appends then reads, then each half asks ServerFeatures first and appends go through BatchAppend', async () => {
    await client.appendToStream('hello', event('Hi'));
    await collect(client.readStream('hello'));
    expect(standIn.calls).toEqual([
      'ServerFeatures/GetSupportedMethods',
      'Streams/BatchAppend',
      'ServerFeatures/GetSupportedMethods',
      'Streams/Read',
    ]);
  });

  it('when an append carries per-call credentials, then the client uses Streams.Append with the same expectation rules', async () => {
    const credentials = { username: 'admin', password: 'changeit' };
    await client.appendToStream('unary', [event('A'), event('B')], { streamState: 'no_stream', credentials });
    const error = await rejection(
      client.appendToStream('unary', event('C'), { streamState: 0n, credentials }),
    );
    expect(error).toMatchObject({ streamName: 'unary', expectedState: 0n, actualState: 1n });
    const next = await client.appendToStream('unary', event('C'), { streamState: 1n, credentials });
    expect(next.nextExpectedRevision).toBe(2n);
    expect(standIn.calls.filter((c) => c === 'Streams/Append')).toHaveLength(3);
  });

  it('when an append expects a revision the stream is not at, then it fails with WrongExpectedVersionError and writes nothing', async () => {
    await client.appendToStream('order-2', event('Placed'), { streamState: 'no_stream' });
    const error = await rejection(client.appendToStream('order-2', event('Paid'), { streamState: 5n }));
    expect(error).toBeInstanceOf(WrongExpectedVersionError);
    expect(error).toMatchObject({ streamName: 'order-2', expectedState: 5n, actualState: 0n });
    const again = await rejection(
      client.appendToStream('order-2', event('Paid'), { streamState: 'no_stream' }),
    );
    expect(again).toMatchObject({ expectedState: 'no_stream', actualState: 0n });
    const missing = await rejection(
      client.appendToStream('order-x', event('Paid'), { streamState: 'stream_exists' }),
    );
    expect(missing).toMatchObject({ expectedState: 'stream_exists', actualState: 'no_stream' });
    expect(types(await collect(client.readStream('order-2')))).toEqual(['Placed']);
  });

  it('when the same events are appended again, then the retry succeeds and the stream holds them once', async () => {
    const events = [event('Placed'), event('Paid')];
    const first = await client.appendToStream('order-3', events, { streamState: 'no_stream' });
    const retry = await client.appendToStream('order-3', events, { streamState: 'no_stream' });
    const retryAny = await client.appendToStream('order-3', events);
    expect(retry.nextExpectedRevision).toBe(1n);
    expect(retry.position).toEqual(first.position);
    expect(retryAny.nextExpectedRevision).toBe(1n);
    expect(types(await collect(client.readStream('order-3')))).toEqual(['Placed', 'Paid']);
  });

  it('when multiStreamAppend writes two streams, then both land with one commit position and their revisions', async () => {
    const result = await client.multiStreamAppend([
      { streamName: 'cart-1', expectedState: 'no_stream', events: [event('Added'), event('Added')] },
      { streamName: 'stock-1', expectedState: 'any', events: [event('Reserved')] },
    ]);
    expect(result.responses).toEqual([
      { streamName: 'cart-1', revision: 1n },
      { streamName: 'stock-1', revision: 0n },
    ]);
    const last = await collect(client.readAll({ direction: BACKWARDS, fromPosition: END, maxCount: 1 }));
    expect(last[0]?.event?.position?.commit).toBe(result.position);
  });

  it('when one stream of a multiStreamAppend fails its expectation, then nothing is written and the error names that stream', async () => {
    await client.appendToStream('stock-2', event('Reserved'));
    const error = await rejection(
      client.multiStreamAppend([
        { streamName: 'cart-2', expectedState: 'no_stream', events: [event('Added')] },
        { streamName: 'stock-2', expectedState: 'no_stream', events: [event('Reserved')] },
      ]),
    );
    expect(error).toBeInstanceOf(WrongExpectedVersionError);
    expect(error).toMatchObject({ streamName: 'stock-2', expectedState: 'no_stream', actualState: 0n });
    expect(await rejection(collect(client.readStream('cart-2')))).toBeInstanceOf(StreamNotFoundError);
    expect(types(await collect(client.readStream('stock-2')))).toEqual(['Reserved']);
  });

  it('when a multiStreamAppend is retried with the same event ids, then it succeeds without writing again', async () => {
    const requests = [
      { streamName: 'cart-3', expectedState: 'no_stream' as const, events: [event('Added')] },
      { streamName: 'stock-3', expectedState: 'no_stream' as const, events: [event('Reserved')] },
    ];
    const first = await client.multiStreamAppend(requests);
    const retry = await client.multiStreamAppend(requests);
    expect(retry).toEqual(first);
    expect(types(await collect(client.readStream('cart-3')))).toEqual(['Added']);
  });

  it('when multiStreamAppend carries metadata, then a read shows it with the schema properties the server adds', async () => {
    await client.multiStreamAppend([
      {
        streamName: 'cart-4',
        expectedState: 'any',
        events: [jsonEvent({ id: randomUUID(), type: 'Added', data: { sku: 'a' }, metadata: { by: 'me' } })],
      },
    ]);
    const [read] = await collect(client.readStream('cart-4'));
    expect(read?.event?.data).toEqual({ sku: 'a' });
    expect(read?.event?.metadata).toEqual({ by: 'me', '$schema.name': 'Added', '$schema.format': 'Json' });
  });

  it('when a stream is read backwards, from a revision, or with maxCount, then it yields the documented slices', async () => {
    await client.appendToStream('log-1', [event('A'), event('B'), event('C'), event('D')]);
    expect(
      types(await collect(client.readStream('log-1', { direction: BACKWARDS, fromRevision: END }))),
    ).toEqual(['D', 'C', 'B', 'A']);
    expect(
      types(
        await collect(client.readStream('log-1', { direction: BACKWARDS, fromRevision: END, maxCount: 1 })),
      ),
    ).toEqual(['D']);
    expect(types(await collect(client.readStream('log-1', { fromRevision: 2n })))).toEqual(['C', 'D']);
    expect(
      types(await collect(client.readStream('log-1', { direction: BACKWARDS, fromRevision: 1n }))),
    ).toEqual(['B', 'A']);
    expect(
      types(
        await collect(client.readStream('log-1', { direction: FORWARDS, fromRevision: START, maxCount: 2 })),
      ),
    ).toEqual(['A', 'B']);
  });

  it('when a stream that does not exist is read, then the read fails with StreamNotFoundError', async () => {
    const error = await rejection(collect(client.readStream('nobody')));
    expect(error).toBeInstanceOf(StreamNotFoundError);
  });

  it('when $all is read with a stream-name prefix filter, then only those streams come back in commit order', async () => {
    await client.appendToStream('app-a', event('One'));
    await client.appendToStream('other-a', event('Noise'));
    await client.multiStreamAppend([
      { streamName: 'app-b', expectedState: 'any', events: [event('Two')] },
      { streamName: 'app-a', expectedState: 'any', events: [event('Three')] },
    ]);
    const all = await collect(client.readAll({ filter: streamNameFilter({ prefixes: ['app-'] }) }));
    expect(all.map((e) => `${e.event?.streamId}:${e.event?.type}`)).toEqual([
      'app-a:One',
      'app-b:Two',
      'app-a:Three',
    ]);
    const commits = all.map((e) => e.event!.position!.commit);
    expect([...commits].sort((x, y) => (x < y ? -1 : 1))).toEqual(commits);
    expect(new Set(commits).size).toBe(commits.length);
    const from = await collect(
      client.readAll({
        fromPosition: all[1]!.event!.position!,
        filter: streamNameFilter({ prefixes: ['app-'] }),
      }),
    );
    expect(types(from)).toEqual(['Two', 'Three']);
  });

  it('when $all is read without a filter, then system events are there, and excludeSystemEvents or an event-type filter removes them', async () => {
    await client.appendToStream('app-c', [event('One'), event('Two')]);
    const everything = await collect(client.readAll());
    expect(everything.some((e) => e.event?.streamId.startsWith('$'))).toBe(true);
    expect(types(await collect(client.readAll({ filter: excludeSystemEvents() })))).toEqual(['One', 'Two']);
    expect(types(await collect(client.readAll({ filter: eventTypeFilter({ prefixes: ['Tw'] }) })))).toEqual([
      'Two',
    ]);
    expect(types(await collect(client.readAll({ filter: streamNameFilter({ regex: '^app-' }) })))).toEqual([
      'One',
      'Two',
    ]);
  });

  it('when the newest event of $all is read backwards, then it is the last one appended', async () => {
    await client.appendToStream('app-d', [event('Old'), event('New')]);
    const [newest] = await collect(client.readAll({ direction: BACKWARDS, fromPosition: END, maxCount: 1 }));
    expect(newest?.event?.type).toBe('New');
    const before = await collect(
      client.readAll({ direction: BACKWARDS, fromPosition: newest!.event!.position!, maxCount: 1 }),
    );
    expect(types(before)).toEqual(['Old']);
  });

  it('when a stream has $maxCount metadata, then a read returns only its newest events', async () => {
    await client.appendToStream('capped', [event('A'), event('B'), event('C')]);
    await client.setStreamMetadata('capped', { maxCount: 2 });
    expect(types(await collect(client.readStream('capped')))).toEqual(['B', 'C']);
  });

  it('when a filtered catch-up subscription to $all is open, then it gets the history, a caught-up signal, and later appends', async () => {
    await client.appendToStream('sub-a', event('Before'));
    await client.appendToStream('elsewhere', event('Ignored'));
    const received: AllStreamResolvedEvent[] = [];
    const checkpoints: bigint[] = [];
    const subscription = client.subscribeToAll({
      fromPosition: START,
      filter: streamNameFilter({
        prefixes: ['sub-'],
        checkpointReached: (_s, p) => void checkpoints.push(p.commit),
      }),
    });
    const caughtUp = new Promise((resolve) => subscription.once('caughtUp', resolve));
    const twoEvents = (async () => {
      for await (const resolved of subscription) {
        received.push(resolved);
        if (received.length === 2) break;
      }
    })();
    await caughtUp;
    await client.appendToStream('sub-b', event('After'));
    await twoEvents;
    await subscription.unsubscribe();
    expect(received.map((e) => `${e.event?.streamId}:${e.event?.type}`)).toEqual([
      'sub-a:Before',
      'sub-b:After',
    ]);
    expect(checkpoints.length).toBeGreaterThan(0);
  });

  it('when a subscription starts from a position, then it receives only the events after it', async () => {
    const first = await client.appendToStream('from-a', event('Seen'));
    await client.appendToStream('from-a', event('Next'));
    const subscription = client.subscribeToAll({ fromPosition: first.position! });
    for await (const resolved of subscription) {
      expect(resolved.event?.type).toBe('Next');
      break;
    }
    await subscription.unsubscribe();
  });
});

describe('the KurrentDB stand-in, given a server older than 25.1', () => {
  beforeEach(() => open({ multiStreamAppend: false }));
  afterEach(close);

  it('when multiStreamAppend or appendRecords is called, then the client refuses it naming 25.1 or 26.1, and appendToStream still works', async () => {
    const error = await rejection(
      client.multiStreamAppend([{ streamName: 'x', expectedState: 'any', events: [event('A')] }]),
    );
    expect(error).toBeInstanceOf(UnsupportedError);
    expect(error).toMatchObject({ minimumVersion: '25.1' });
    const records = await rejection(client.appendRecords([{ streamName: 'x', record: event('A') }]));
    expect(records).toMatchObject({ feature: 'appendRecords', minimumVersion: '26.1' });
    await client.appendToStream('x', event('A'));
    expect(types(await collect(client.readStream('x')))).toEqual(['A']);
  });
});

describe('the KurrentDB stand-in, given a 25.1 server (AppendSession, no AppendRecords)', () => {
  beforeEach(() => open({ appendRecords: false }));
  afterEach(close);

  it('when appendRecords is called, then the client refuses it naming 26.1 without calling, and multiStreamAppend still works', async () => {
    const error = await rejection(client.appendRecords([{ streamName: 'y', record: event('A') }]));
    expect(error).toBeInstanceOf(UnsupportedError);
    expect(error).toMatchObject({ feature: 'appendRecords', minimumVersion: '26.1' });
    await client.multiStreamAppend([{ streamName: 'y', expectedState: 'no_stream', events: [event('A')] }]);
    expect(types(await collect(client.readStream('y')))).toEqual(['A']);
    expect(standIn.calls).not.toContain('StreamsService/AppendRecords');
  });
});

describe('the KurrentDB stand-in, given appendRecords (26.1)', () => {
  beforeEach(() => open());
  afterEach(close);

  const record = (streamName: string, type: string, id = randomUUID()) => ({
    streamName,
    record: event(type, { type }, id),
  });

  it('when records for several streams are interleaved, then $all keeps their order and revisions continue per stream', async () => {
    await client.appendToStream('acct-1', event('Opened'));
    const before = standIn.log.all.length;
    const result = await client.appendRecords(
      [
        record('acct-1', 'Debited'),
        record('ledger-1', 'Posted'),
        record('acct-1', 'Credited'),
        record('audit-1', 'Noted'),
        record('ledger-1', 'Posted2'),
      ],
      [
        { type: STREAM_STATE, streamName: 'acct-1', expectedState: 0n },
        { type: STREAM_STATE, streamName: 'ledger-1', expectedState: NO_STREAM },
        { type: STREAM_STATE, streamName: 'policy-1', expectedState: NO_STREAM },
      ],
    );
    // one entry per stream written, in order of first record; the check-only stream is not listed
    expect(result.responses).toEqual([
      { streamName: 'acct-1', revision: 2n },
      { streamName: 'ledger-1', revision: 1n },
      { streamName: 'audit-1', revision: 0n },
    ]);
    const written = standIn.log.all.slice(before);
    expect(written.map((e) => `${e.stream}@${e.revision}:${e.type}`)).toEqual([
      'acct-1@1:Debited',
      'ledger-1@0:Posted',
      'acct-1@2:Credited',
      'audit-1@0:Noted',
      'ledger-1@1:Posted2',
    ]);
    expect(result.position).toBe(BigInt(written[written.length - 1]!.position));
    const [newest] = await collect(client.readAll({ direction: BACKWARDS, fromPosition: END, maxCount: 1 }));
    expect(newest?.event?.position?.commit).toBe(result.position);
    expect(types(await collect(client.readStream('acct-1')))).toEqual(['Opened', 'Debited', 'Credited']);
    expect(await rejection(collect(client.readStream('policy-1')))).toBeInstanceOf(StreamNotFoundError);
    expect(standIn.calls).toContain('StreamsService/AppendRecords');
  });

  it('when checks fail, then nothing is written and AppendConsistencyViolationError lists every failing check', async () => {
    await client.appendToStream('cart-9', [event('Added'), event('Added')]);
    await client.appendToStream('policy-9', event('Set'));
    const before = standIn.log.all.length;
    const error = await rejection(
      client.appendRecords(
        [record('cart-9', 'Checkout'), record('order-9', 'Placed')],
        [
          { type: STREAM_STATE, streamName: 'cart-9', expectedState: 0n },
          { type: STREAM_STATE, streamName: 'policy-9', expectedState: 0n },
          { type: STREAM_STATE, streamName: 'limits-9', expectedState: STREAM_EXISTS },
          { type: STREAM_STATE, streamName: 'order-9', expectedState: NO_STREAM },
        ],
      ),
    );
    expect(error).toBeInstanceOf(AppendConsistencyViolationError);
    expect((error as AppendConsistencyViolationError).violations).toEqual([
      { checkIndex: 0, streamName: 'cart-9', expectedState: 0n, actualState: 1n },
      { checkIndex: 2, streamName: 'limits-9', expectedState: 'stream_exists', actualState: 'no_stream' },
    ]);
    expect((error as Error).message).toContain('Append failed due to consistency violations.');
    expect((error as Error).message).toContain("Stream 'cart-9' is at revision 1, expected revision 0.");
    expect(standIn.log.all.length).toBe(before);
    expect(await rejection(collect(client.readStream('order-9')))).toBeInstanceOf(StreamNotFoundError);

    const existing = await rejection(
      client.appendRecords(
        [record('order-9', 'Placed')],
        [{ type: STREAM_STATE, streamName: 'policy-9', expectedState: NO_STREAM }],
      ),
    );
    expect((existing as AppendConsistencyViolationError).violations).toEqual([
      { checkIndex: 0, streamName: 'policy-9', expectedState: 'no_stream', actualState: 0n },
    ]);
  });

  it('when the same records are sent again, then the retry succeeds as the first did and writes nothing', async () => {
    const records = [record('pay-1', 'Authorized'), record('fee-1', 'Charged'), record('pay-1', 'Captured')];
    const checks = [{ type: STREAM_STATE, streamName: 'pay-1', expectedState: NO_STREAM }] as const;
    const first = await client.appendRecords(records, [...checks]);
    const count = standIn.log.all.length;
    const retry = await client.appendRecords(records, [...checks]);
    expect(retry).toEqual(first);
    expect(standIn.log.all.length).toBe(count);
    // same ids with a new record in one stream: not a retry, reported as a violation of that stream
    const mixed = await rejection(client.appendRecords([records[1]!, record('fee-1', 'Refunded')]));
    expect((mixed as AppendConsistencyViolationError).violations).toEqual([
      { checkIndex: 0, streamName: 'fee-1', expectedState: 'any', actualState: 0n },
    ]);
    const moreNew = await client.appendRecords([record('fee-1', 'Refunded')]);
    expect(moreNew.responses).toEqual([{ streamName: 'fee-1', revision: 1n }]);
  });

  it('when a record stream differs from a check only in case, then it is the same stream, as the check spells it', async () => {
    const result = await client.appendRecords(
      [record('Case-1', 'A'), record('case-1', 'B')],
      [{ type: STREAM_STATE, streamName: 'CASE-1', expectedState: NO_STREAM }],
    );
    expect(result.responses).toEqual([{ streamName: 'CASE-1', revision: 1n }]);
    expect(types(await collect(client.readStream('CASE-1')))).toEqual(['A', 'B']);
  });

  it('when a check expects any, or names a stream twice, then the server rejects the request as invalid and writes nothing', async () => {
    const before = standIn.log.all.length;
    const any = await rejection(
      client.appendRecords(
        [record('z-1', 'A')],
        [{ type: STREAM_STATE, streamName: 'z-1', expectedState: 'any' }],
      ),
    );
    expect(any).toBeInstanceOf(UnknownError);
    expect((any as Error).message).toContain('Any (-2) is not allowed.');
    const twice = await rejection(
      client.appendRecords(
        [record('z-1', 'A')],
        [
          { type: STREAM_STATE, streamName: 'z-1', expectedState: NO_STREAM },
          { type: STREAM_STATE, streamName: 'Z-1', expectedState: NO_STREAM },
        ],
      ),
    );
    expect((twice as Error).message).toContain('Each stream can only appear once in consistency checks.');
    expect(await rejection(client.appendRecords([]))).toBeInstanceOf(UnknownError);
    expect(standIn.log.all.length).toBe(before);
  });
});

describe('the KurrentDB stand-in, given link events ("$>" records "<revision>@<stream>")', () => {
  beforeEach(() => open());
  afterEach(close);

  const link = (target: string) => binaryEvent({ type: '$>', data: Buffer.from(target, 'utf8') });

  it('when a stream of links is read with resolveLinkTos, then each link comes as its target with the link alongside', async () => {
    await client.appendToStream('order-7', [event('Placed', { n: 1 }), event('Paid', { n: 2 })]);
    await client.appendToStream('$et-demo', [
      link('1@order-7'),
      link('0@order-7'),
      link('5@order-7'),
      link('0@nowhere'),
      link('x@order-7'),
    ]);
    const resolved = await collect(client.readStream('$et-demo', { resolveLinkTos: true }));
    const [paid, placed, beyond, nowhere, notALink] = resolved;
    expect(paid?.event).toMatchObject({ streamId: 'order-7', revision: 1n, type: 'Paid', data: { n: 2 } });
    expect(paid?.link).toMatchObject({ streamId: '$et-demo', revision: 0n, type: '$>' });
    const target = standIn.log.stream('order-7')![1]!;
    expect(paid?.event?.position).toEqual({
      commit: BigInt(target.position),
      prepare: BigInt(target.position),
    });
    expect(placed?.event).toMatchObject({ streamId: 'order-7', revision: 0n, type: 'Placed' });
    // a link whose target does not exist: the link alone, event unset
    expect(beyond?.event).toBeUndefined();
    expect(beyond?.link).toMatchObject({ streamId: '$et-demo', revision: 2n, type: '$>' });
    expect(nowhere?.event).toBeUndefined();
    expect(nowhere?.link?.revision).toBe(3n);
    // "$>" data without a revision is no link: the record itself
    expect(notALink?.event).toMatchObject({ streamId: '$et-demo', type: '$>' });
    expect(notALink?.link).toBeUndefined();

    const raw = await collect(client.readStream('$et-demo', { maxCount: 1 }));
    expect(raw[0]?.event).toMatchObject({ streamId: '$et-demo', type: '$>' });
    expect(raw[0]?.link).toBeUndefined();
  });

  it('when $all is read with resolveLinkTos, then links resolve there too, at the position of the link', async () => {
    await client.appendToStream('item-1', event('Made'));
    const appended = await client.appendToStream('links-1', link('0@item-1'));
    const [one] = await collect(
      client.readAll({ resolveLinkTos: true, filter: streamNameFilter({ prefixes: ['links-'] }) }),
    );
    expect(one?.event).toMatchObject({ streamId: 'item-1', type: 'Made' });
    expect(one?.link).toMatchObject({ streamId: 'links-1', position: appended.position });
    const [plain] = await collect(client.readAll({ filter: streamNameFilter({ prefixes: ['links-'] }) }));
    expect(plain?.event).toMatchObject({ streamId: 'links-1', type: '$>' });
  });

  it('when a subscription to $all asks resolveLinkTos, then links resolve in catch-up and live', async () => {
    await client.appendToStream('item-2', [event('Made'), event('Sold')]);
    await client.appendToStream('links-2', link('0@item-2'));
    const subscription = client.subscribeToAll({
      fromPosition: START,
      resolveLinkTos: true,
      filter: streamNameFilter({ prefixes: ['links-'] }),
    });
    const received: AllStreamResolvedEvent[] = [];
    const caughtUp = new Promise((resolve) => subscription.once('caughtUp', resolve));
    const two = (async () => {
      for await (const resolved of subscription) {
        received.push(resolved);
        if (received.length === 2) break;
      }
    })();
    await caughtUp;
    await client.appendToStream('links-2', link('1@item-2'));
    await two;
    await subscription.unsubscribe();
    expect(received.map((e) => `${e.event?.streamId}:${e.event?.type}<-${e.link?.streamId}`)).toEqual([
      'item-2:Made<-links-2',
      'item-2:Sold<-links-2',
    ]);
  });
});
