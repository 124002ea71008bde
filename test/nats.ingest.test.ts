// `syncline ingest --from nats://…` against the real NATS JetStream server: given messages in a
// stream, when ingested, then each event is stored once, bad ones set aside, whatever killed a reader.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import * as E from 'fp-ts/lib/Either.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jetstream } from '@nats-io/jetstream';
import { openSqliteStore } from '../adapters/stores/sqlite/store.js';
import { v5 } from '../domain/ids.js';
import type { StoredEvent } from '../engine/ports.js';
import { CLI_PATH, runCli, tempDir } from './support/cli.js';
import { NATS_URL, natsAnswers, testStreams, type TestStreams } from './support/nats.js';
import { spawn } from 'node:child_process';
import Database from 'better-sqlite3';

type Dir = Awaited<ReturnType<typeof tempDir>>;

const storedIn = async (dir: Dir): Promise<StoredEvent[]> => {
  const opened = openSqliteStore(join(dir.path, '.syncline', 'events.db'));
  if (E.isLeft(opened)) throw new Error(opened.left.message);
  const out: StoredEvent[] = [];
  try {
    for await (const e of opened.right.readAll()) out.push(e);
  } finally {
    await opened.right.close();
  }
  return out;
};

/** How many events the store holds, read beside a writer (0 before it exists). */
const countIn = (dir: Dir): number => {
  const path = join(dir.path, '.syncline', 'events.db');
  if (!existsSync(path)) return 0;
  try {
    const db = new Database(path, { readonly: true, fileMustExist: true });
    try {
      return (db.prepare('SELECT count(*) AS n FROM events').get() as { n: number }).n;
    } finally {
      db.close();
    }
  } catch {
    return 0; // made but not yet given its tables
  }
};

const created = (profileId: string, id?: string) => ({
  ...(id === undefined ? {} : { id }),
  type: 'ProfileCreated',
  data: { profileId, properties: { email: `${profileId}@x.io` } },
});

describe.skipIf(!natsAnswers)('syncline ingest --from', () => {
  let streams: TestStreams;
  beforeAll(async () => {
    streams = await testStreams();
  });
  afterAll(() => streams.close());

  const publishAll = async (subject: string, bodies: readonly { body: unknown; msgId?: string }[]) => {
    const js = jetstream(streams.nc);
    for (const { body, msgId } of bodies)
      await js.publish(
        subject,
        typeof body === 'string' ? body : JSON.stringify(body),
        msgId === undefined ? {} : { msgID: msgId },
      );
  };

  it('given good messages, a redelivery under another Nats-Msg-Id, a malformed one and one for an unknown group, when ingested, then the good are stored once and the bad set aside with their errors', async () => {
    const { name, prefix } = await streams.fresh();
    const dir = await tempDir();
    const ann = randomUUID();
    await publishAll(`${prefix}.events`, [
      { body: { type: 'GroupCreated', data: { groupId: 'vip', name: 'VIP' } }, msgId: 'g-1' },
      { body: created('ann', ann), msgId: 'm-1' },
      { body: created('ann', ann), msgId: 'm-1-again' },
      { body: 'not json {', msgId: 'bad-1' },
      { body: { type: 'ProfileJoinedGroup', data: { groupId: 'nope', profileId: 'ann' } }, msgId: 'j-1' },
      { body: { type: 'ProfileJoinedGroup', data: { groupId: 'vip', profileId: 'ann' } } },
    ]);
    const args = [
      'ingest',
      '--from',
      NATS_URL,
      '--stream',
      name,
      '--subject',
      `${prefix}.events`,
      '--reject-subject',
      `${prefix}.rejected`,
    ];
    const r = await runCli([...args, '--json'], { cwd: dir.path });
    expect([r.code, r.stderr]).toEqual([0, '']);
    expect(JSON.parse(r.stdout)).toStrictEqual({
      source: 'nats://127.0.0.1:4222',
      stream: name,
      received: 6,
      stored: 3,
      duplicates: 1,
      rejected: 2,
    });
    const stored = await storedIn(dir);
    expect(stored.map((e) => [e.id, e.type])).toStrictEqual([
      [v5('message:g-1'), 'GroupCreated'],
      [ann, 'ProfileCreated'],
      [v5(`message:${name}:6`), 'ProfileJoinedGroup'],
    ]);
    const rejected = (await streams.messages(name)).filter((m) => m.subject === `${prefix}.rejected`);
    expect(
      rejected.map((m) => [m.string(), m.header.get('Syncline-Error'), m.header.get('Syncline-Sequence')]),
    ).toStrictEqual([
      ['not json {', expect.stringMatching(/^not valid JSON/) as unknown, '4'],
      [
        JSON.stringify({ type: 'ProfileJoinedGroup', data: { groupId: 'nope', profileId: 'ann' } }),
        'data.groupId: group nope does not exist',
        '5',
      ],
    ]);
    // Every message was acknowledged: the durable consumer has nothing more to give.
    const again = await runCli([...args, '--json'], { cwd: dir.path });
    expect(JSON.parse(again.stdout)).toMatchObject({ received: 0, stored: 0 });
    await dir.remove();
  });

  it("given a backlog of thousands, when a follower is killed with SIGKILL at moments in it and ingest runs again, then the store holds every event exactly once, in the stream's order", async () => {
    const { name, prefix } = await streams.fresh();
    const dir = await tempDir();
    const n = 3000;
    // Even messages create a profile, half with ids of their own and half named only by Nats-Msg-Id;
    // odd ones update the profile created 99 messages before, most often in the batch before: were a
    // killed reader's batch stored after later ones, their updates would come first and be refused.
    const idOf = (i: number) => (i % 4 === 0 ? v5(`body-${i}`) : v5(`message:msg-${i}`));
    const bodies = Array.from({ length: n }, (_, i) => ({
      body:
        i % 2 === 0 || i < 99
          ? created(`p${i}`, i % 4 === 0 ? v5(`body-${i}`) : undefined)
          : { type: 'ProfilePropertiesChanged', data: { profileId: `p${i - 99}`, set: { seen: i } } },
      msgId: `msg-${i}`,
    }));
    await publishAll(`${prefix}.events`, bodies);
    const args = [
      'ingest',
      '--from',
      NATS_URL,
      '--stream',
      name,
      '--subject',
      `${prefix}.events`,
      '--reject-subject',
      `${prefix}.rejected`,
      '--batch',
      '100',
    ];
    // Killed once it has stored some of the backlog, a few milliseconds on: most often in the middle
    // of a batch it fetched and has not acknowledged.
    for (const [atLeast, waitMs] of [
      [300, 7],
      [1200, 23],
    ] as const) {
      const child = spawn(process.execPath, [CLI_PATH, ...args, '--follow'], {
        cwd: dir.path,
        stdio: 'ignore',
      });
      while (countIn(dir) < atLeast) await new Promise((resolve) => setTimeout(resolve, 5));
      await new Promise((resolve) => setTimeout(resolve, waitMs));
      child.kill('SIGKILL');
      await new Promise((resolve) => child.once('exit', resolve));
    }
    const rest = await runCli([...args, '--json'], { cwd: dir.path });
    expect([rest.code, rest.stderr]).toEqual([0, '']);
    expect(JSON.parse(rest.stdout)).toMatchObject({ rejected: 0 });
    const stored = (await storedIn(dir)).filter((e) => e.type !== 'ConfigApplied');
    expect(stored.map((e) => e.id)).toStrictEqual(Array.from({ length: n }, (_, i) => idOf(i)));
    expect((await streams.messages(name)).filter((m) => m.subject === `${prefix}.rejected`)).toEqual([]);
    await dir.remove();
  }, 90_000);

  it('given a follower, when it gets SIGTERM, then it ends its batch, says what it stored and exits 0', async () => {
    const { name, prefix } = await streams.fresh();
    const dir = await tempDir();
    await publishAll(`${prefix}.events`, [{ body: created('solo', randomUUID()) }]);
    const child = spawn(
      process.execPath,
      [CLI_PATH, 'ingest', '--from', NATS_URL, '--stream', name, '--follow'],
      {
        cwd: dir.path,
      },
    );
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    for (let i = 0; i < 100 && (await storedIn(dir).catch(() => [])).length === 0; i++)
      await new Promise((resolve) => setTimeout(resolve, 50));
    child.kill('SIGTERM');
    const code = await new Promise((resolve) => child.once('exit', resolve));
    expect(code).toBe(0);
    expect(out).toBe(
      `ingesting from nats://127.0.0.1:4222, stream ${name}; Ctrl-C to stop\ningested 1 event from nats://127.0.0.1:4222, stream ${name}\n`,
    );
    await dir.remove();
  });

  it('given no server there, when ingested from it, then it fails naming the URL, and no store is made', async () => {
    const dir = await tempDir();
    const r = await runCli(['ingest', '--from', 'nats://127.0.0.1:4299', '--stream', 'ANY'], {
      cwd: dir.path,
    });
    expect([r.code, r.stdout, r.stderr]).toEqual([
      1,
      '',
      'syncline: cannot reach NATS at nats://127.0.0.1:4299: connection refused\n',
    ]);
    expect(existsSync(join(dir.path, '.syncline'))).toBe(false);
    await dir.remove();
  });

  it('given no such stream, or no --stream, or a file beside --from, then it says so', async () => {
    const dir = await tempDir();
    const none = await runCli(['ingest', '--from', NATS_URL, '--stream', 'SYNCLINE_NO_SUCH_STREAM'], {
      cwd: dir.path,
    });
    expect([none.code, none.stderr]).toEqual([
      1,
      'syncline: no JetStream stream SYNCLINE_NO_SUCH_STREAM at nats://127.0.0.1:4222\n',
    ]);
    expect((await runCli(['ingest', '--from', NATS_URL], { cwd: dir.path })).code).toBe(2);
    expect(
      (await runCli(['ingest', 'x.jsonl', '--from', NATS_URL, '--stream', 'S'], { cwd: dir.path })).code,
    ).toBe(2);
    await dir.remove();
  });
});
