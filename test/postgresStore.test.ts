// What the PostgreSQL store adds to the EventStore contract: its URL, its schema and migrations, its
// failures (never a password), and total order without gaps while appends from many connections race.
import * as E from 'fp-ts/lib/Either.js';
import { afterAll, describe, expect, it } from 'vitest';
import type { EventStore, StoredEvent, StreamWrite } from '../engine/ports.js';
import { openPostgresStore } from '../adapters/stores/postgres/store.js';
import { parsePostgresUrl, type PostgresLocation } from '../adapters/stores/postgres/url.js';
import { SCHEMA_VERSION } from '../adapters/stores/postgres/schema.js';
import { collect, success, within } from './contract/eventStoreHelpers.js';
import { runCli, tempDir } from './support/cli.js';
import { dropSchemas, freshSchema, onServer, postgresAnswers, postgresStoreUrl } from './support/postgres.js';

const located = (url: string, env: NodeJS.ProcessEnv = {}): PostgresLocation => {
  const parsed = parsePostgresUrl(url, env);
  if (E.isLeft(parsed)) throw new Error(parsed.left);
  return parsed.right;
};

describe('reading a postgres:// store URL', () => {
  it('given a full URL, then the driver gets it without the schema parameter, and people see it without the password', () => {
    const l = located('postgres://alice:s3cr%40t@db.internal:6432/crm?schema=audit&sslmode=disable');
    expect(l.schema).toBe('audit');
    expect(l.shown).toBe('postgres://alice@db.internal:6432/crm');
    expect(l.connectionString).toBe('postgres://alice:s3cr%40t@db.internal:6432/crm?sslmode=disable');
    expect(l.secret).toBe('s3cr@t');
  });

  it('given only a host and a database, then the schema is syncline and user and port are the driver defaults', () => {
    const l = located('postgresql://db.internal/crm', { USER: 'bob' });
    expect(l.schema).toBe('syncline');
    expect(l.shown).toBe('postgres://bob@db.internal:5432/crm');
    expect(l.secret).toBeUndefined();
    expect(located('postgres://db.internal/crm', { PGUSER: 'carol', PGPASSWORD: 'pw1' }).secret).toBe('pw1');
  });

  it.each([
    ['postgres://host', 'names no database'],
    ['postgres://host/db?schema=Audit', 'is not a plain name'],
    ['postgres://host/db?schema=a-b', 'is not a plain name'],
    ['postgres://host/db?schema=a&schema=b', 'more than one schema'],
    ['postgres://u:hunter2@[bad/db', 'cannot be read'],
  ])('given %s, then it is refused saying it %s, never repeating a password', (url, problem) => {
    const parsed = parsePostgresUrl(url, {});
    expect(E.isLeft(parsed) && parsed.left).toContain(problem);
    expect(JSON.stringify(parsed)).not.toContain('hunter2');
  });
});

describe('a server that does not answer', () => {
  it('given a URL with a password to a port nothing listens on, when a command runs, then it says it cannot reach the store, naming it without the password, and exits 1', async () => {
    const tmp = await tempDir();
    try {
      const r = await runCli(['status', '--store', 'postgres://alice:hunter2@127.0.0.1:1/crm'], {
        cwd: tmp.path,
      });
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(
        'syncline: cannot reach the store at postgres://alice@127.0.0.1:1/crm: connect ECONNREFUSED 127.0.0.1:1\n',
      );
      expect(r.stdout + r.stderr).not.toContain('hunter2');
    } finally {
      await tmp.remove();
    }
  });
});

describe.skipIf(!postgresAnswers)('on the PostgreSQL server', () => {
  afterAll(() => dropSchemas());

  const open = async (url: string, create = true, pollIntervalMs = 50): Promise<EventStore> => {
    const opened = await openPostgresStore(located(url), { create, pollIntervalMs });
    if (E.isLeft(opened)) throw new Error(opened.left.message);
    return opened.right;
  };
  const refusal = async (url: string, create = true): Promise<string> => {
    const opened = await openPostgresStore(located(url), { create });
    if (E.isRight(opened)) {
      await opened.right.close();
      throw new Error('expected the store to be refused');
    }
    return opened.left.message;
  };

  describe('the schema', () => {
    it('given a schema that does not exist, when a command that only reads opens it, then it is refused and nothing is made', async () => {
      const schema = freshSchema();
      expect(await refusal(postgresStoreUrl(schema), false)).toMatch(
        /^there is no syncline store in the schema/,
      );
      expect(await onServer('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema])).toEqual([]);
    });

    it('given two processes opening a new schema at once, then it is made once, and each step is recorded', async () => {
      const url = postgresStoreUrl();
      const stores = await Promise.all([open(url), open(url), open(url)]);
      await Promise.all(stores.map((s) => s.close()));
      const schema = located(url).schema;
      const steps = await onServer<{ step: number }>(`SELECT step FROM "${schema}".migrations ORDER BY step`);
      expect(steps.map((r) => r.step)).toEqual(Array.from({ length: SCHEMA_VERSION }, (_, i) => i + 1));
    });

    it('given a schema a newer syncline migrated, when opened, then it is refused naming both versions', async () => {
      const url = postgresStoreUrl();
      await (await open(url)).close();
      const schema = located(url).schema;
      await onServer(`INSERT INTO "${schema}".migrations (step, description) VALUES (99, 'from the future')`);
      expect(await refusal(url)).toContain(
        `has schema version 99, but this syncline understands versions up to ${SCHEMA_VERSION}`,
      );
    });

    it("given a schema holding another program's tables, when a writer opens it, then it is refused and left as it was", async () => {
      const schema = freshSchema();
      await onServer(`CREATE SCHEMA "${schema}"; CREATE TABLE "${schema}".orders (id int)`);
      expect(await refusal(postgresStoreUrl(schema))).toContain('holds tables that are not syncline');
      const tables = await onServer<{ tablename: string }>(
        'SELECT tablename FROM pg_tables WHERE schemaname = $1',
        [schema],
      );
      expect(tables.map((t) => t.tablename)).toEqual(['orders']);
    });
  });

  describe('total order without gaps', () => {
    const write = (stream: string, data: unknown): StreamWrite[] => [
      { stream, expected: 'any', events: [{ type: 'E', data }] },
    ];

    it('given one append held open in its transaction, when another process appends and a follower reads, then the second waits for the first, and the follower sees both in position order', async () => {
      const url = postgresStoreUrl();
      const [holder, other, follower] = [await open(url), await open(url), await open(url)];
      const seen: StoredEvent[] = [];
      const stop = new AbortController();
      const following = (async () => {
        for await (const e of follower.subscribe(0, stop.signal)) {
          seen.push(e);
          if (seen.length === 3) stop.abort();
        }
      })();
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      async function* held(): AsyncGenerator<readonly StreamWrite[]> {
        yield write('a', 'first, batch 1');
        await gate;
        yield write('a', 'first, batch 2');
      }
      const first = holder.appendAll(held())();
      await new Promise((resolve) => setTimeout(resolve, 200));
      let secondDone = false;
      const second = other
        .append(write('b', 'second'))()
        .then((r) => ((secondDone = true), r));
      await new Promise((resolve) => setTimeout(resolve, 300));
      // Neither is visible yet, and the second has not taken a position ahead of the open one.
      expect(secondDone).toBe(false);
      expect(await collect(follower.readAll(0))).toEqual([]);
      release();
      expect(E.isRight(await first) && E.isRight(await second)).toBe(true);
      await within(5000, 'the follower seeing all three', following);
      expect(seen.map((e) => [e.position, e.data])).toEqual([
        [1, 'first, batch 1'],
        [2, 'first, batch 2'],
        [3, 'second'],
      ]);
      await Promise.all([holder, other, follower].map((s) => s.close()));
    });

    it('given ten connections appending to shared and own streams at once, then positions are 1..N with none missing, every stream has dense revisions, and a follower saw every event once in order', async () => {
      const url = postgresStoreUrl();
      const writers = await Promise.all(Array.from({ length: 10 }, () => open(url)));
      const follower = await open(url);
      const stop = new AbortController();
      const seen: number[] = [];
      const TOTAL = 10 * 20 * 2;
      const following = (async () => {
        for await (const e of follower.subscribe(0, stop.signal)) {
          seen.push(e.position);
          if (seen.length === TOTAL) stop.abort();
        }
      })();
      await Promise.all(
        writers.map(async (w, i) => {
          for (let n = 0; n < 20; n++)
            await success(
              w.append([
                { stream: 'shared', expected: 'any', events: [{ type: 'E', data: [i, n] }] },
                {
                  stream: `own-${i}`,
                  expected: n === 0 ? 'no-stream' : n - 1,
                  events: [{ type: 'E', data: n }],
                },
              ]),
            );
        }),
      );
      await within(10_000, 'the follower seeing every event', following);
      expect(seen).toEqual(Array.from({ length: TOTAL }, (_, i) => i + 1));
      const all = await collect(follower.readAll(0));
      expect(all.map((e) => e.position)).toEqual(seen);
      const shared = all.filter((e) => e.stream === 'shared').map((e) => e.revision);
      expect(shared).toEqual(Array.from({ length: 200 }, (_, i) => i));
      await Promise.all([...writers, follower].map((s) => s.close()));
    });

    it('given two connections appending to one stream at the same expected revision, then exactly one succeeds and the other gets WrongExpectedRevision', async () => {
      const url = postgresStoreUrl();
      const [a, b] = [await open(url), await open(url)];
      await success(a.append([{ stream: 's', expected: 'no-stream', events: [{ type: 'E', data: 0 }] }]));
      const results = await Promise.all(
        [a, b].map((st) => st.append([{ stream: 's', expected: 0, events: [{ type: 'E', data: 1 }] }])()),
      );
      const lefts = results.filter(E.isLeft).map((r) => r.left._tag);
      expect(lefts).toEqual(['WrongExpectedRevision']);
      expect((await collect(a.readStream('s'))).map((e) => e.revision)).toEqual([0, 1]);
      await Promise.all([a.close(), b.close()]);
    });

    it('given a follower polling only every ten seconds, when another process appends, then the notification wakes it at once', async () => {
      const url = postgresStoreUrl();
      const writer = await open(url);
      const follower = await open(url, true, 10_000);
      const stop = new AbortController();
      const first = (async () => {
        for await (const e of follower.subscribe(0, stop.signal)) {
          stop.abort();
          return e.data;
        }
        return undefined;
      })();
      // Let the follower reach its wait before the append.
      await new Promise((resolve) => setTimeout(resolve, 300));
      await success(writer.append(write('s', 'hello')));
      expect(await within(3000, 'the notification waking the follower', first)).toBe('hello');
      await Promise.all([writer.close(), follower.close()]);
    });
  });

  describe('the demo, then every command, on a PostgreSQL store', () => {
    it('given `demo --store postgres://…`, when each command of its hints runs in its directory, then each works on the store the config file names, and a second demo empties the schema the first made', async () => {
      const tmp = await tempDir();
      try {
        const url = postgresStoreUrl();
        const schema = located(url).schema;
        const demo = await runCli(['demo', 'd', '--store', url, '--json'], { cwd: tmp.path });
        expect(demo.code).toBe(0);
        const runs = (
          JSON.parse(demo.stdout) as { runs: { destinations: { totals: { failed: number } }[] }[] }
        ).runs;
        expect(runs.flatMap((r) => r.destinations.map((d) => d.totals.failed))).toEqual([0, 0, 0, 0, 0, 0]);
        const dir = `${tmp.path}/d`;
        const runsStarted = async (): Promise<number> =>
          (
            await onServer<{ n: number }>(
              `SELECT count(*)::int AS n FROM "${schema}".events WHERE type = 'RunStarted'`,
            )
          )[0]?.n ?? 0;
        // three destinations, two rounds
        expect(await runsStarted()).toBe(6);
        for (const args of [
          ['status', '--check'],
          ['plan', '--destination', 'crm'],
          ['log', '--destination', 'crm', '--profile', 'p0000015'],
          ['explain', '--destination', 'crm', '--profile', 'p0000015'],
          ['replay', '--destination', 'warehouse', '--verify'],
          ['retry', '--destination', 'crm'],
        ]) {
          const r = await runCli(args, { cwd: dir });
          expect({ args, code: r.code, stderr: r.stderr }).toStrictEqual({ args, code: 0, stderr: '' });
        }
        const sync = await runCli(['sync', '--json'], { cwd: dir });
        expect(sync.code).toBe(0);
        const considered = (JSON.parse(sync.stdout) as { destinations: { considered: number }[] })
          .destinations;
        expect(considered.map((d) => d.considered)).toEqual([0, 0, 0]);
        const again = await runCli(['demo', 'd', '--store', url, '--json'], { cwd: tmp.path });
        expect(again.code).toBe(0);
        // The second demo began again in an emptied schema: its own six runs, none of the first's.
        expect(await runsStarted()).toBe(6);
      } finally {
        await tmp.remove();
      }
    });

    it("given a schema holding another program's store, when the demo is pointed at it, then it refuses and drops nothing", async () => {
      const tmp = await tempDir();
      try {
        const url = postgresStoreUrl();
        await tmp.write('none.json', { destinations: [] });
        const applied = await runCli(['apply', '--store', url, '--config', 'none.json'], { cwd: tmp.path });
        expect(applied.code).toBe(0);
        const r = await runCli(['demo', 'd', '--store', url], { cwd: tmp.path });
        expect(r.code).toBe(1);
        expect(r.stderr).toContain('holds a store the demo did not make');
        const schema = located(url).schema;
        expect(await onServer('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema])).toHaveLength(1);
      } finally {
        await tmp.remove();
      }
    });
  });

  describe('status --check', () => {
    it('given a stream whose revisions skip because a row was deleted past syncline, when checked, then the finding names the stream', async () => {
      const url = postgresStoreUrl();
      const store = await open(url);
      await success(
        store.append([
          { stream: 's', expected: 'any', events: [1, 2, 3].map((d) => ({ type: 'E', data: d })) },
        ]),
      );
      const sound = await store.checkIntegrity()();
      expect(E.isRight(sound) && sound.right.findings).toEqual([]);
      await onServer(`DELETE FROM "${located(url).schema}".events WHERE revision = 1`);
      const checked = await store.checkIntegrity()();
      expect(E.isRight(checked) && checked.right.findings).toEqual([
        'stream s holds revisions 0 to 2 but 2 events',
        'positions run to 3 but 2 events hold them',
      ]);
      await store.close();
    });
  });

  describe('the config file naming the store through a variable', () => {
    it('given {"env": NAME} as the store, when the variable holds a PostgreSQL URL, then commands use that store; when it is unset, they say which variable is missing', async () => {
      const tmp = await tempDir();
      try {
        await tmp.write('syncline.config.json', { store: { env: 'CRM_STORE' }, destinations: [] });
        const url = postgresStoreUrl();
        const applied = await runCli(['apply'], { cwd: tmp.path, env: { CRM_STORE: url } });
        expect(applied.code).toBe(0);
        const schema = located(url).schema;
        expect(await onServer(`SELECT count(*)::int AS n FROM "${schema}".migrations`)).toEqual([
          { n: SCHEMA_VERSION },
        ]);
        const unset = await runCli(['status'], { cwd: tmp.path });
        expect(unset.code).toBe(1);
        expect(unset.stderr).toBe(
          'syncline: syncline.config.json takes its store from the environment variable CRM_STORE, which is not set\n',
        );
      } finally {
        await tmp.remove();
      }
    });
  });
});
