// What the KurrentDB store adds to the EventStore contract: its URL and prefix, a server too old to
// append records to several streams at once refused by name, failures that never show a password.
import * as E from 'fp-ts/lib/Either.js';
import { describe, expect, it } from 'vitest';
import { openKurrentStore } from '../adapters/stores/kurrentdb/store.js';
import { parseKurrentUrl, type KurrentLocation } from '../adapters/stores/kurrentdb/url.js';
import { collect, success } from './contract/eventStoreHelpers.js';
import { startStandIn } from './kurrentdb/standIn.js';
import { runCli, tempDir } from './support/cli.js';

const located = (url: string): KurrentLocation => {
  const parsed = parseKurrentUrl(url);
  if (E.isLeft(parsed)) throw new Error(parsed.left);
  return parsed.right;
};

describe('reading a kurrentdb:// store URL', () => {
  it('given a URL with credentials, a prefix and client settings, then the client gets it without the prefix, and people see only scheme, host and port', () => {
    const l = located(
      'kurrentdb://admin:chang%3Dit@db.internal:2113?tls=false&prefix=crm-&keepAliveTimeout=10000',
    );
    expect(l).toStrictEqual({
      kind: 'kurrentdb',
      connectionString: 'kurrentdb://admin:chang%3Dit@db.internal:2113?tls=false&keepAliveTimeout=10000',
      prefix: 'crm-',
      shown: 'kurrentdb://db.internal:2113',
      secret: 'chang=it',
    });
  });

  it.each(['esdb://h:2113?tls=false', 'kurrentdb+discover://a:2113,b:2113?tls=false', 'kdb://h:2113'])(
    'given the client form %s, then it is a KurrentDB store with no prefix',
    (url) => {
      expect(located(url).prefix).toBe('');
      expect(located(url).connectionString).toBe(url);
    },
  );

  it.each([
    ['kurrentdb://?tls=false', 'names no host'],
    ['kurrentdb://h:2113?prefix=a&prefix=b', 'more than one prefix'],
    ['kurrentdb://h:2113?prefix=$all', 'cannot start with $'],
  ])('given %s, then it is refused saying it %s', (url, problem) => {
    const parsed = parseKurrentUrl(url);
    expect(E.isLeft(parsed) && parsed.left).toContain(problem);
  });
});

describe('servers the store refuses', () => {
  it.each([
    ['older than 25.1 (no multi-stream append at all)', { multiStreamAppend: false }],
    ['25.1 (multi-stream appends, but not of interleaved records)', { appendRecords: false }],
  ])(
    'given a server %s, when the store opens, then it is refused naming the version syncline needs, and nothing is appended stream by stream',
    async (_, options) => {
      const server = await startStandIn(options);
      try {
        const opened = await openKurrentStore(located(`${server.url}&discoveryInterval=10`));
        expect(E.isLeft(opened) && opened.left.message).toMatch(
          /syncline needs KurrentDB 26\.1 or later, and does not append stream by stream/,
        );
        expect(server.calls.filter((c) => /Append/.test(c))).toEqual([]);
      } finally {
        await server.close();
      }
    },
  );

  it('given a URL with a password to a port nothing listens on, when a command runs, then it says it cannot reach the store, without the password, and exits 1', async () => {
    const tmp = await tempDir();
    try {
      const r = await runCli(
        [
          'status',
          '--store',
          'kurrentdb://admin:hunter2@127.0.0.1:1?tls=false&discoveryInterval=10&maxDiscoverAttempts=1',
        ],
        {
          cwd: tmp.path,
        },
      );
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/^syncline: cannot reach the store at kurrentdb:\/\/127\.0\.0\.1:1: .+\n$/);
      expect(r.stdout + r.stderr).not.toContain('hunter2');
    } finally {
      await tmp.remove();
    }
  });
});

describe('checkpoints', () => {
  it('given a checkpoint moved fifteen times, when its stream is read, then it keeps only its last ten values, the last being the checkpoint', async () => {
    const server = await startStandIn();
    try {
      const opened = await openKurrentStore(located(`${server.url}&discoveryInterval=10&prefix=c-`));
      if (E.isLeft(opened)) throw new Error(opened.left.message);
      const store = opened.right;
      let value: number | null = null;
      for (let i = 1; i <= 15; i++) {
        await success(store.setCheckpoint('publish', value, i * 10));
        value = i * 10;
      }
      expect(await store.getCheckpoint('publish')).toBe(150);
      const kept = server.log.readable('c-syncline.checkpoint-publish') ?? [];
      expect(
        kept.map((e) => (JSON.parse(Buffer.from(e.data).toString('utf8')) as { value: number }).value),
      ).toEqual(Array.from({ length: 10 }, (_, i) => (i + 6) * 10));
      await store.close();
    } finally {
      await server.close();
    }
  });
});

describe('sharing a server with other streams', () => {
  it('given streams of other software and of another prefix, when syncline reads everything, then it reads only its own, and its index streams never show', async () => {
    const server = await startStandIn();
    const open = async (prefix: string) => {
      const opened = await openKurrentStore(located(`${server.url}&discoveryInterval=10&prefix=${prefix}`));
      if (E.isLeft(opened)) throw new Error(opened.left.message);
      return opened.right;
    };
    try {
      const ours = await open('crm-');
      const theirs = await open('billing-');
      await success(
        theirs.append([
          { stream: 'profile-a', expected: 'any', events: [{ id: 'x', type: 'T', data: 0, tags: ['t'] }] },
        ]),
      );
      await success(
        ours.append([
          { stream: 'profile-a', expected: 'any', events: [{ id: 'x', type: 'T', data: 1, tags: ['t'] }] },
        ]),
      );
      const all = await collect(ours.readAll());
      expect(all.map((e) => [e.stream, e.id, e.data])).toEqual([['profile-a', 'x', 1]]);
      expect((await collect(ours.readTagged('t'))).map((e) => e.data)).toEqual([1]);
      expect(await ours.head()).toBe(all[0]?.position);
      await Promise.all([ours.close(), theirs.close()]);
    } finally {
      await server.close();
    }
  });
});
