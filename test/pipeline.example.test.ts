// The embedding example (examples/pipeline) as a spec, against the local NATS: given profile events
// published to a stream, the one process ingests them, syncs them on quiet periods and publishes its runs.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import * as E from 'fp-ts/lib/Either.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jetstream } from '@nats-io/jetstream';
import { openSqliteStore } from '../adapters/stores/sqlite/store.js';
import type { StoredEvent } from '../engine/ports.js';
import { tempDir } from './support/cli.js';
import { NATS_URL, natsAnswers, testStreams, type TestStreams } from './support/nats.js';

const PIPELINE = fileURLToPath(new URL('../examples/pipeline/pipeline.mjs', import.meta.url));

const CONFIG = {
  destinations: [
    {
      destinationId: 'warehouse',
      type: 'sqlite',
      syncMode: 'sync',
      collection: { kind: 'all' },
      keyField: 'email',
      mapping: { email: 'email', first_name: 'firstName' },
      groupMapping: { vip: 'VIP' },
      options: { path: 'warehouse.db', table: 'customers' },
    },
  ],
};

/** Polls until `ready` holds (or gives up after 20 s, leaving the expectations after it to fail). */
const eventually = async (ready: () => boolean | Promise<boolean>): Promise<void> => {
  for (let i = 0; i < 400 && !(await ready()); i++) await new Promise((r) => setTimeout(r, 50));
};

describe.skipIf(!natsAnswers)('examples/pipeline', () => {
  let streams: TestStreams;
  beforeAll(async () => {
    streams = await testStreams();
  });
  afterAll(() => streams.close());

  /** The example as a program in `dir`, on the test's own stream and subjects. */
  const startPipeline = (dir: string, name: string, prefix: string) => {
    const child: ChildProcessWithoutNullStreams = spawn(
      process.execPath,
      [
        PIPELINE,
        '--nats',
        NATS_URL,
        '--stream',
        name,
        '--subject',
        `${prefix}.profiles`,
        '--reject-subject',
        `${prefix}.rejected`,
        '--prefix',
        `${prefix}.out`,
        '--quiet-ms',
        '100',
      ],
      { cwd: dir },
    );
    const out = { stdout: '', stderr: '' };
    child.stdout.on('data', (b: Buffer) => (out.stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (out.stderr += b.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    /** SIGTERM, and how it exited with what it printed */
    const stop = async () => {
      child.kill('SIGTERM');
      const code = await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000, 'still running'))]);
      child.kill('SIGKILL');
      return { code, ...out };
    };
    return { stop, out };
  };

  /** The warehouse table's rows, or none before the pipeline made it. */
  const rowsIn = (dir: string) => {
    try {
      const db = new Database(join(dir, 'warehouse.db'), { readonly: true, fileMustExist: true });
      try {
        return db.prepare('SELECT email, first_name FROM customers ORDER BY email').all();
      } finally {
        db.close();
      }
    } catch {
      return [];
    }
  };

  it('given events published to a stream, when the pipeline runs, then the destination holds the profiles, its runs are published once each, a bad message is set aside, and SIGTERM stops it cleanly; started again, it goes on where it stopped', async () => {
    const { name, prefix } = await streams.fresh();
    const dir = await tempDir();
    writeFileSync(join(dir.path, 'syncline.config.json'), JSON.stringify(CONFIG));
    const js = jetstream(streams.nc);
    const send = async (...bodies: unknown[]) => {
      for (const b of bodies)
        await js.publish(`${prefix}.profiles`, typeof b === 'string' ? b : JSON.stringify(b));
    };
    const named = (firstName: string) => () =>
      rowsIn(dir.path).some((r) => (r as { first_name: string }).first_name === firstName);
    // Published the way `nats pub` publishes: no ids, no headers.
    await send(
      { type: 'GroupCreated', data: { groupId: 'vip', name: 'VIP' } },
      {
        type: 'ProfileCreated',
        data: { profileId: 'ada', properties: { email: 'ada@x.io', firstName: 'Ada' } },
      },
      {
        type: 'ProfileCreated',
        data: { profileId: 'bob', properties: { email: 'bob@x.io', firstName: 'Bob' } },
      },
      { type: 'ProfileJoinedGroup', data: { groupId: 'vip', profileId: 'ada' } },
      '{"type": "ProfileCreated", "data": {',
    );
    const first = startPipeline(dir.path, name, prefix);
    await eventually(() => rowsIn(dir.path).length === 2);
    expect(rowsIn(dir.path)).toStrictEqual([
      { email: 'ada@x.io', first_name: 'Ada' },
      { email: 'bob@x.io', first_name: 'Bob' },
    ]);
    // A change while it runs: synced on the next quiet period.
    await send({
      type: 'ProfilePropertiesChanged',
      data: { profileId: 'bob', set: { firstName: 'Robert' } },
    });
    await eventually(named('Robert'));
    const stopped = await first.stop();
    expect([stopped.code, stopped.stderr]).toStrictEqual([0, '']);
    expect(stopped.stdout).toMatch(/^pipeline: .* → warehouse → .*\n/);
    expect(stopped.stdout).toMatch(/ingested so far: 4 stored, 0 again, 1 refused\n/);
    expect(stopped.stdout).toMatch(/sync warehouse: 2 created, 0 updated, 0 deleted, 0 skipped, 0 failed\n/);
    expect(stopped.stdout).toMatch(/sync warehouse: 0 created, 1 updated, 0 deleted, 0 skipped, 0 failed\n/);
    expect(stopped.stdout).toMatch(/pipeline: stopped\n$/);

    // Started again: what it ingested and published before is not taken or sent again.
    await send({
      type: 'ProfilePropertiesChanged',
      data: { profileId: 'ada', set: { firstName: 'Augusta' } },
    });
    const second = startPipeline(dir.path, name, prefix);
    await eventually(named('Augusta'));
    const again = await second.stop();
    expect([again.code, again.stderr]).toStrictEqual([0, '']);
    expect(again.stdout).toMatch(/ingested so far: 1 stored, 0 again, 0 refused\n/);
    expect(rowsIn(dir.path)).toStrictEqual([
      { email: 'ada@x.io', first_name: 'Augusta' },
      { email: 'bob@x.io', first_name: 'Robert' },
    ]);

    const messages = await streams.messages(name);
    const rejected = messages.filter((m) => m.subject === `${prefix}.rejected`);
    expect(rejected.map((m) => [m.string(), m.header.get('Syncline-Error')])).toStrictEqual([
      ['{"type": "ProfileCreated", "data": {', expect.stringMatching(/^not valid JSON/) as unknown],
    ]);
    // Every event of the runs, out once, in store order, under <prefix>.out.<destination>.<type>.
    const opened = openSqliteStore(join(dir.path, '.syncline', 'events.db'));
    if (E.isLeft(opened)) throw new Error(opened.left.message);
    const stored: StoredEvent[] = [];
    for await (const e of opened.right.readAll()) stored.push(e);
    await opened.right.close();
    const runEvents = stored.filter((e) => e.stream === 'sync-warehouse');
    const out = messages.filter((m) => m.subject.startsWith(`${prefix}.out.`));
    expect(out.map((m) => [m.subject, m.json<{ id: string }>().id])).toStrictEqual(
      runEvents.map((e) => [`${prefix}.out.warehouse.${e.type}`, e.id]),
    );
    expect(runEvents.filter((e) => e.type === 'BatchApplied')).toHaveLength(3);
    expect(
      stored.filter((e) => !e.stream.startsWith('sync-') && e.type !== 'DestinationConfigured'),
    ).toHaveLength(6);
    await dir.remove();
  }, 90_000);
});
