// The example receiver for the http destination (examples/http-receiver) as a spec: the protocol it
// answers, the Destination contract it keeps over it, its signature checks, and how it runs as a program.
import { spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

const RECEIVER = fileURLToPath(new URL('../examples/http-receiver/receiver.mjs', import.meta.url));

type Value = string | number | boolean | null | (string | number | boolean | null)[];
type Receiver = { url: string; close: () => Promise<void>; db: Database.Database };
type ReceiverOptions = {
  port?: number;
  host?: string;
  database: string;
  secret?: string;
  toleranceSeconds?: number;
};
// Plain JavaScript, imported by path: the type is what the example's JSDoc promises.
const { startReceiver } = (await import(RECEIVER)) as {
  startReceiver: (options: ReceiverOptions) => Promise<Receiver>;
};

const SECRET = 'whsec-example-1';
const DAY = 24 * 60 * 60;

let dir: string;
let receiver: Receiver;
let started: Receiver[] = [];
const start = async (options: Omit<ReceiverOptions, 'database'> = { secret: SECRET }) => {
  const r = await startReceiver({ database: join(dir, `receiver-${started.length}.db`), ...options });
  started.push(r);
  return r;
};
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'syncline-receiver-'));
  receiver = await start();
});
afterEach(async () => {
  await Promise.all(started.map((r) => r.close()));
  started = [];
  rmSync(dir, { recursive: true, force: true });
});

const nowSeconds = () => Math.floor(Date.now() / 1000);
const mac = (body: string, t: number, secret = SECRET) =>
  createHmac('sha256', secret).update(`${t}.${body}`).digest('hex');
const signature = (body: string, t = nowSeconds(), secret = SECRET) => `t=${t},v1=${mac(body, t, secret)}`;

type Sent = { status: number; body: unknown; headers: Headers };
/** Posts `body` (JSON-encoded unless already text), signed with SECRET unless `headers` says otherwise. */
const send = async (
  path: string,
  body: unknown,
  options: { headers?: Record<string, string>; method?: string; to?: Receiver } = {},
): Promise<Sent> => {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  const headers = options.headers ?? { 'syncline-signature': signature(text) };
  const method = options.method ?? 'POST';
  const answer = await fetch(`${(options.to ?? receiver).url}${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...headers },
    ...(method === 'GET' || method === 'HEAD' ? {} : { body: text }),
  });
  const answered = await answer.text();
  return {
    status: answer.status,
    body: answered === '' ? undefined : JSON.parse(answered),
    headers: answer.headers,
  };
};

type Change = { set?: Record<string, Value>; unset?: string[]; add?: string[]; remove?: string[] };
type Command = {
  commandId: string;
  operation: 'create' | 'update' | 'delete';
  key: string;
  fields: { set: Record<string, Value>; unset: string[] };
  groups: { add: string[]; remove: string[] };
};
let sequence = 0;
const command = (operation: Command['operation'], key: string, change: Change = {}): Command => ({
  commandId: `cmd-${++sequence}`,
  operation,
  key,
  fields: { set: change.set ?? {}, unset: change.unset ?? [] },
  groups: { add: change.add ?? [], remove: change.remove ?? [] },
});
const create = (key: string, change: Change = {}) =>
  command('create', key, { ...change, set: { email: key, ...change.set } });
const update = (key: string, change: Change = {}) => command('update', key, change);
const remove = (key: string) => command('delete', key);

const applyBody = (commands: Command[]) => ({ destinationId: 'receiver', keyField: 'email', commands });
const apply = async (...commands: Command[]) => {
  const answer = await send('/apply', applyBody(commands));
  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  return (answer.body as { results: unknown[] }).results;
};
const ok = (c: Command) => ({ commandId: c.commandId, ok: true });
const failed = (c: Command, error: string) => ({
  commandId: c.commandId,
  ok: false,
  error,
  retryable: false,
});
const applyOk = async (...commands: Command[]) => {
  expect(await apply(...commands)).toStrictEqual(commands.map(ok));
};
const lookup = async (...keys: string[]) => {
  const answer = await send('/lookup', { keys });
  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  return (answer.body as { records: unknown[] }).records;
};
const record = (key: string, fields: Record<string, Value>, groups: string[]) => ({
  key,
  fields: { email: key, ...fields },
  groups,
});

/** How often each command id was applied, from the receiver's own table. */
const timesApplied = (r: Receiver = receiver): Record<string, number> =>
  Object.fromEntries(
    r.db
      .prepare('SELECT command_id, times FROM applied')
      .raw()
      .all()
      .map((row) => row as [string, number]),
  );
const recordCount = (r: Receiver = receiver) => r.db.prepare('SELECT count(*) FROM records').pluck().get();

describe('create, then lookup', () => {
  it('given a create, when its key is looked up, then every field comes back with its type, the key field too, and the groups sorted once each', async () => {
    await applyOk(
      create('ada@example.com', {
        set: { first_name: 'Ada', ltv: 1200.5, code: '100', vip: true, big: Number.MAX_SAFE_INTEGER },
        add: ['VIP', 'Zeta', 'alpha', 'Écoles', 'VIP'],
      }),
    );
    expect(await lookup('ada@example.com')).toStrictEqual([
      record(
        'ada@example.com',
        { first_name: 'Ada', ltv: 1200.5, code: '100', vip: true, big: Number.MAX_SAFE_INTEGER },
        // code-unit order, as syncline sorts (not the locale's: that would put alpha first)
        ['VIP', 'Zeta', 'alpha', 'Écoles'],
      ),
    ]);
  });

  it('given values of every kind, when looked up, then null, lists, unicode and a field named __proto__ come back as written', async () => {
    const set = JSON.parse(
      '{"note": null, "tags": ["red", 1, true, null], "none": [], "name": "Zoë 张伟 🚀", "__proto__": "a field"}',
    ) as Record<string, Value>;
    await applyOk(create('zoë@exämple.com', { set, add: ['Clients fidèles ★'] }));
    expect(await lookup('zoë@exämple.com')).toStrictEqual([
      { key: 'zoë@exämple.com', fields: { email: 'zoë@exämple.com', ...set }, groups: ['Clients fidèles ★'] },
    ]);
    const [found] = (await lookup('zoë@exämple.com')) as { fields: Record<string, Value> }[];
    expect(Object.hasOwn(found?.fields ?? {}, '__proto__')).toBe(true);
  });

  it('given a create of a key that exists, then it sets the fields it names and keeps the other fields and groups', async () => {
    await applyOk(create('a@example.com', { set: { first_name: 'Ada', code: 'A' }, add: ['VIP'] }));
    await applyOk(create('a@example.com', { set: { first_name: 'Ida' }, add: ['Newsletter'] }));
    expect(await lookup('a@example.com')).toStrictEqual([
      record('a@example.com', { first_name: 'Ida', code: 'A' }, ['Newsletter', 'VIP']),
    ]);
  });
});

describe('lookup', () => {
  it('given keys never written, when looked up, then nothing is found, and no keys find nothing', async () => {
    expect(await lookup('nobody@example.com', 'ghost@example.com')).toStrictEqual([]);
    expect(await lookup()).toStrictEqual([]);
  });

  it('given three records, when two are asked for (one twice) with a missing key, then each of the two comes once', async () => {
    await applyOk(create('a@example.com'), create('b@example.com'), create('c@example.com'));
    const found = await lookup('c@example.com', 'a@example.com', 'c@example.com', 'missing@example.com');
    expect(found).toStrictEqual([record('c@example.com', {}, []), record('a@example.com', {}, [])]);
  });
});

describe('update', () => {
  const key = 'ada@example.com';
  beforeEach(() => applyOk(create(key, { set: { first_name: 'Ada', ltv: 100, code: 'A' }, add: ['VIP'] })));

  it('given a record, when an update sets, unsets, adds and removes, then exactly those fields and groups change', async () => {
    await applyOk(update(key, { set: { ltv: '100', note: 'hi' }, unset: ['code'], add: ['Partners'] }));
    await applyOk(update(key, { add: ['Newsletter'], remove: ['VIP', 'Absent'] }));
    expect(await lookup(key)).toStrictEqual([
      record(key, { first_name: 'Ada', ltv: '100', note: 'hi' }, ['Newsletter', 'Partners']),
    ]);
  });

  it('given no record under a key, when it is updated, then that command fails terminally and the rest of the request applies', async () => {
    const commands = [
      update(key, { set: { note: 'before' } }),
      update('missing@example.com', { set: { note: 'x' } }),
      create('b@example.com'),
    ];
    expect(await apply(...commands)).toStrictEqual([
      ok(commands[0] as Command),
      failed(commands[1] as Command, 'no record with key missing@example.com'),
      ok(commands[2] as Command),
    ]);
    expect(await lookup(key, 'missing@example.com', 'b@example.com')).toStrictEqual([
      record(key, { first_name: 'Ada', ltv: 100, code: 'A', note: 'before' }, ['VIP']),
      record('b@example.com', {}, []),
    ]);
  });

  it('given a record, when an update unsets the key field or sets it to no value, then it fails and changes nothing', async () => {
    const unsetting = update(key, { unset: ['email'], set: { note: 'x' } });
    const emptying = update(key, { set: { email: '', note: 'y' } });
    expect(await apply(unsetting, emptying)).toStrictEqual([
      failed(unsetting, 'cannot unset the key field email'),
      failed(emptying, 'cannot set the key field email to no value'),
    ]);
    expect(await lookup(key)).toStrictEqual([
      record(key, { first_name: 'Ada', ltv: 100, code: 'A' }, ['VIP']),
    ]);
  });
});

describe('rename (an update that sets the key field)', () => {
  beforeEach(() =>
    applyOk(create('old@example.com', { set: { first_name: 'Ada', code: 'A' }, add: ['VIP', 'Partners'] })),
  );
  const rename = () =>
    update('old@example.com', {
      set: { email: 'new@example.com', first_name: 'Ada L.' },
      add: ['Newsletter'],
    });

  it('given a record with groups, when renamed, then it moves to the new key with every group and the rest of the update', async () => {
    await applyOk(rename());
    expect(await lookup('old@example.com', 'new@example.com')).toStrictEqual([
      record('new@example.com', { first_name: 'Ada L.', code: 'A' }, ['Newsletter', 'Partners', 'VIP']),
    ]);
  });

  it('given a rename already applied, when it comes again under another command id, then the rest of it applies at the new key', async () => {
    await applyOk(rename());
    const again = update('old@example.com', {
      set: { email: 'new@example.com', note: 'again' },
      remove: ['VIP'],
    });
    await applyOk(again);
    expect(await lookup('old@example.com', 'new@example.com')).toStrictEqual([
      record('new@example.com', { first_name: 'Ada L.', code: 'A', note: 'again' }, [
        'Newsletter',
        'Partners',
      ]),
    ]);
  });

  it('given another record under the new key, when renamed onto it, then the rename fails and neither record changes', async () => {
    await applyOk(create('new@example.com', { set: { code: 'N' } }));
    const onto = rename();
    expect(await apply(onto)).toStrictEqual([
      failed(onto, 'cannot rename old@example.com to new@example.com: that key is taken'),
    ]);
    expect(await lookup('old@example.com', 'new@example.com')).toStrictEqual([
      record('old@example.com', { first_name: 'Ada', code: 'A' }, ['Partners', 'VIP']),
      record('new@example.com', { code: 'N' }, []),
    ]);
  });
});

describe('delete', () => {
  it('given a record with groups, when deleted, then it is gone, and a create under its key starts with no groups', async () => {
    await applyOk(create('d@example.com', { set: { note: 'x' }, add: ['VIP', 'Partners'] }));
    await applyOk(remove('d@example.com'));
    expect(await lookup('d@example.com')).toStrictEqual([]);
    await applyOk(create('d@example.com'));
    expect(await lookup('d@example.com')).toStrictEqual([record('d@example.com', {}, [])]);
  });

  it('given no record under a key, when it is deleted, then that is ok', async () => {
    await applyOk(remove('nobody@example.com'));
    expect(recordCount()).toBe(0);
  });
});

describe('idempotence by command id', () => {
  it('given a command applied, when its id comes again after a later change, then it is answered ok and not applied again', async () => {
    const first = create('i@example.com', { set: { note: 'first' }, add: ['VIP'] });
    const later = update('i@example.com', { set: { note: 'later' }, remove: ['VIP'] });
    await applyOk(first);
    await applyOk(later);
    // applied again, the create would bring back note "first" and the group VIP
    await applyOk(first);
    expect(await lookup('i@example.com')).toStrictEqual([record('i@example.com', { note: 'later' }, [])]);
    expect(timesApplied()).toStrictEqual({ [first.commandId]: 1, [later.commandId]: 1 });
  });

  it('given a command twice in one request, then both are answered ok and it is applied once', async () => {
    const c = create('i@example.com', { set: { note: 'once' } });
    const u = update('i@example.com', { set: { note: 'after' } });
    await applyOk(c, u, c);
    expect(await lookup('i@example.com')).toStrictEqual([record('i@example.com', { note: 'after' }, [])]);
    expect(timesApplied()).toStrictEqual({ [c.commandId]: 1, [u.commandId]: 1 });
  });

  it('given a command that failed, then its id is not remembered, and when it comes again and can apply, it is applied', async () => {
    const u = update('late@example.com', { set: { note: 'now' } });
    expect(await apply(u)).toStrictEqual([failed(u, 'no record with key late@example.com')]);
    expect(timesApplied()).toStrictEqual({});
    const c = create('late@example.com');
    await applyOk(c);
    await applyOk(u);
    expect(await lookup('late@example.com')).toStrictEqual([record('late@example.com', { note: 'now' }, [])]);
    expect(timesApplied()).toStrictEqual({ [c.commandId]: 1, [u.commandId]: 1 });
  });

  it('given a whole request sent twice (its answer lost), then every command id in it was applied once', async () => {
    const commands = [
      create('a@example.com', { add: ['VIP'] }),
      create('b@example.com'),
      update('a@example.com', { set: { email: 'a2@example.com' } }),
      remove('b@example.com'),
      update('b@example.com', { set: { note: 'gone' } }),
    ];
    const first = await apply(...commands);
    expect(await apply(...commands)).toStrictEqual(first);
    expect(timesApplied()).toStrictEqual(
      Object.fromEntries(commands.slice(0, 4).map((c) => [c.commandId, 1])),
    );
  });

  it('given a request that SQLite cannot finish, then it answers 503, and neither its changes nor its ids are kept', async () => {
    receiver.db.exec(
      "CREATE TRIGGER boom BEFORE INSERT ON records WHEN NEW.key = 'boom@example.com' BEGIN SELECT RAISE(ABORT, 'disk on fire'); END",
    );
    const kept = create('a@example.com');
    // the receiver logs the failure on stderr: kept out of the test's output, and checked
    const logged = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    let said: string[];
    let answer: Sent;
    try {
      answer = await send('/apply', applyBody([kept, create('boom@example.com')]));
    } finally {
      said = logged.mock.calls.map(([chunk]) => String(chunk));
      logged.mockRestore();
    }
    expect(said).toStrictEqual([expect.stringMatching(/^SqliteError: disk on fire\n {4}at /)]);
    expect(answer.status).toBe(503);
    expect(answer.body).toStrictEqual({ error: expect.stringContaining('disk on fire') as unknown });
    expect(answer.headers.get('retry-after')).toBe('1');
    expect(recordCount()).toBe(0);
    expect(timesApplied()).toStrictEqual({});
    receiver.db.exec('DROP TRIGGER boom');
    await applyOk(kept);
    expect(timesApplied()).toStrictEqual({ [kept.commandId]: 1 });
  });
});

describe('signatures', () => {
  const body = JSON.stringify(applyBody([create('s@example.com')]));
  const nothingWritten = () => {
    expect(recordCount()).toBe(0);
    expect(timesApplied()).toStrictEqual({});
  };
  const refused = async (headers: Record<string, string>, error: RegExp, text = body) => {
    const answer = await send('/apply', text, { headers });
    expect(answer.status).toBe(401);
    expect(answer.body).toStrictEqual({ error: expect.stringMatching(error) as unknown });
    nothingWritten();
  };

  it('given a request signed with the secret, when posted, then it is applied', async () => {
    const answer = await send('/apply', body, { headers: { 'syncline-signature': signature(body) } });
    expect(answer.status).toBe(200);
    expect(recordCount()).toBe(1);
  });

  it('given a request signed with another secret, then it is refused with 401 and nothing is written', () =>
    refused({ 'syncline-signature': signature(body, nowSeconds(), 'not-the-secret') }, /does not match/));

  it('given a body changed after it was signed, then it is refused with 401', () =>
    refused(
      { 'syncline-signature': signature(body) },
      /does not match/,
      body.replace('s@example', 't@example'),
    ));

  it.each([
    ['six minutes old', -360],
    ['six minutes ahead', 360],
    ['a day old', -DAY],
  ])('given a signature %s (beyond the 300 s tolerance), then it is refused with 401', (_, offset) =>
    refused({ 'syncline-signature': signature(body, nowSeconds() + offset) }, /timestamp/),
  );

  it.each([
    ['four minutes old', -240],
    ['four minutes ahead', 240],
  ])('given a signature %s (within the tolerance), then it is accepted', async (_, offset) => {
    const answer = await send('/apply', body, {
      headers: { 'syncline-signature': signature(body, nowSeconds() + offset) },
    });
    expect(answer.status).toBe(200);
  });

  it('given a receiver with a tolerance of 10 s, then a signature a minute old is refused', async () => {
    const strict = await start({ secret: SECRET, toleranceSeconds: 10 });
    const answer = await send('/apply', body, {
      to: strict,
      headers: { 'syncline-signature': signature(body, nowSeconds() - 60) },
    });
    expect(answer.status).toBe(401);
    expect(recordCount(strict)).toBe(0);
  });

  it('given no signature header, then it is refused with 401 and nothing is written', () =>
    refused({}, /missing Syncline-Signature/));

  it.each([
    ['no v1', () => `t=${nowSeconds()}`],
    ['no t', () => `v1=${mac(body, nowSeconds())}`],
    ['uppercase hex', () => `t=${nowSeconds()},v1=${mac(body, nowSeconds()).toUpperCase()}`],
    ['a short MAC', () => `t=${nowSeconds()},v1=${mac(body, nowSeconds()).slice(2)}`],
    ['a time that is not a number', () => `t=now,v1=${mac(body, nowSeconds())}`],
    ['two times', () => `t=${nowSeconds()},t=${nowSeconds()},v1=${mac(body, nowSeconds())}`],
    ['no name=value', () => `${signature(body)},garbage`],
  ])('given a malformed header (%s), then it is refused with 401 and nothing is written', (_, header) =>
    refused({ 'syncline-signature': header() }, /malformed/),
  );

  it.each([
    ['the valid one first', (t: number) => `t=${t},v1=${mac(body, t)},v1=${mac(body, t, 'old-secret')}`],
    ['the valid one second', (t: number) => `t=${t},v1=${mac(body, t, 'old-secret')},v1=${mac(body, t)}`],
  ])('given two v1 entries during a secret rotation, %s, then the request is accepted', async (_, header) => {
    const answer = await send('/apply', body, { headers: { 'syncline-signature': header(nowSeconds()) } });
    expect(answer.status).toBe(200);
    expect(recordCount()).toBe(1);
  });

  it('given two v1 entries, neither made with the secret, then the request is refused', () => {
    const t = nowSeconds();
    return refused(
      { 'syncline-signature': `t=${t},v1=${mac(body, t, 'a')},v1=${mac(body, t, 'b')}` },
      /does not match/,
    );
  });

  it('given a lookup without a signature, then it is refused with 401 too', async () => {
    const answer = await send('/lookup', { keys: ['a@example.com'] }, { headers: {} });
    expect(answer.status).toBe(401);
  });

  it('given a receiver started without a secret, then unsigned requests are applied', async () => {
    const open = await start({});
    const answer = await send('/apply', body, { to: open, headers: {} });
    expect(answer.status).toBe(200);
    expect(recordCount(open)).toBe(1);
  });
});

describe('requests it refuses', () => {
  it('given a body that is not JSON, then it answers 400 saying so', async () => {
    const answer = await send('/apply', '{"destinationId": "receiver",');
    expect(answer.status).toBe(400);
    expect(answer.body).toStrictEqual({ error: expect.stringMatching(/^body is not JSON/) as unknown });
  });

  const valid = () => create('a@example.com');
  const withCommand = (changed: Record<string, unknown>) => applyBody([valid(), { ...valid(), ...changed }]);
  it.each<[string, unknown, string]>([
    ['a list for a body', [], 'body must be an object'],
    ['no destinationId', { keyField: 'email', commands: [] }, 'destinationId must be a string'],
    [
      'an empty keyField',
      { destinationId: 'r', keyField: '', commands: [] },
      'keyField must be a non-empty string',
    ],
    [
      'commands not a list',
      { destinationId: 'r', keyField: 'email', commands: {} },
      'commands must be an array',
    ],
    [
      'a command that is not an object',
      applyBody([valid(), 'create' as unknown as Command]),
      'commands[1] must be an object',
    ],
    [
      'an unknown operation',
      withCommand({ operation: 'upsert' }),
      'commands[1].operation must be create, update or delete',
    ],
    [
      'an empty command id',
      withCommand({ commandId: '' }),
      'commands[1].commandId must be a non-empty string',
    ],
    ['a key that is a number', withCommand({ key: 7 }), 'commands[1].key must be a non-empty string'],
    ['no fields', withCommand({ fields: undefined }), 'commands[1].fields must be an object'],
    [
      'an object as a value',
      withCommand({ fields: { set: { note: { nested: true } }, unset: [] } }),
      'commands[1].fields.set["note"] must be a string, number, boolean, null, or an array of those',
    ],
    [
      'unset not a list',
      withCommand({ fields: { set: {}, unset: 'code' } }),
      'commands[1].fields.unset must be an array',
    ],
    [
      'a group that is not a string',
      withCommand({ groups: { add: ['VIP', 1], remove: [] } }),
      'commands[1].groups.add[1] must be a string',
    ],
    ['no groups.remove', withCommand({ groups: { add: [] } }), 'commands[1].groups.remove must be an array'],
  ])(
    'given an apply with %s, then it answers 400 naming the place, and applies none of it',
    async (_, body, error) => {
      const answer = await send('/apply', body);
      expect(answer.status).toBe(400);
      expect(answer.body).toStrictEqual({ error });
      expect(recordCount()).toBe(0);
    },
  );

  it.each<[string, unknown, string]>([
    ['no keys', {}, 'keys must be an array'],
    ['a key that is not a string', { keys: ['a@example.com', null] }, 'keys[1] must be a string'],
  ])('given a lookup with %s, then it answers 400 naming the place', async (_, body, error) => {
    const answer = await send('/lookup', body);
    expect(answer.status).toBe(400);
    expect(answer.body).toStrictEqual({ error });
  });

  it('given a path it does not serve, then it answers 404', async () => {
    const answer = await send('/apply/extra', applyBody([valid()]));
    expect(answer.status).toBe(404);
    expect(answer.body).toStrictEqual({ error: 'no such path: /apply/extra' });
    expect(recordCount()).toBe(0);
  });

  it.each([
    ['GET', '/apply'],
    ['PUT', '/apply'],
    ['DELETE', '/lookup'],
  ])('given %s %s, then it answers 405 and allows POST', async (method, path) => {
    const answer = await send(path, applyBody([valid()]), { method });
    expect(answer.status).toBe(405);
    expect(answer.headers.get('allow')).toBe('POST');
    expect(recordCount()).toBe(0);
  });

  it('given a body over 16 MiB, then it answers 413 and applies nothing', async () => {
    const big = JSON.stringify(
      applyBody([create('a@example.com', { set: { note: 'x'.repeat(17 * 1024 * 1024) } })]),
    );
    const answer = await send('/apply', big);
    expect(answer.status).toBe(413);
    expect(recordCount()).toBe(0);
  });
});

describe('the program: node examples/http-receiver/receiver.mjs', () => {
  type Ran = { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string };
  const run = (args: string[], env: NodeJS.ProcessEnv) => {
    const child = spawn(process.execPath, [RECEIVER, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const output = { stdout: '', stderr: '' };
    child.stdout.on('data', (chunk: Buffer) => (output.stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output.stderr += chunk.toString()));
    const ended = new Promise<Ran>((resolve) =>
      child.on('close', (code, signal) => resolve({ code, signal, ...output })),
    );
    /** the URL from its listening line, once printed (or what it said instead, if it ended) */
    const listening = async (): Promise<string> => {
      for (const deadline = Date.now() + 15_000; Date.now() < deadline;) {
        const line = /^receiver listening on (http:\/\/127\.0\.0\.1:\d+)\n$/.exec(output.stdout);
        if (line?.[1] !== undefined) return line[1];
        if (child.exitCode !== null) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      throw new Error(`no listening line; stdout ${output.stdout}, stderr ${output.stderr}`);
    };
    return { child, ended, listening };
  };
  const { RECEIVER_SECRET: _inherited, ...env } = process.env;
  const database = () => join(dir, 'program.db');

  it('given no RECEIVER_SECRET and no --insecure, then it refuses to start: a non-zero exit, the reason on stderr, no database', async () => {
    const { ended } = run(['--port', '0', '--database', database()], env);
    const ran = await ended;
    expect(ran.code).not.toBe(0);
    expect(ran.code).not.toBeNull();
    expect(ran.stderr).toMatch(/RECEIVER_SECRET is not set/);
    expect(ran.stdout).toBe('');
    expect(existsSync(database())).toBe(false);
  });

  it('given an option it does not know, then it refuses to start', async () => {
    const ran = await run(['--port', '0', '--databse', database()], { ...env, RECEIVER_SECRET: SECRET })
      .ended;
    expect(ran.code).not.toBe(0);
    expect(ran.stderr).toMatch(/databse/);
  });

  it.each<NodeJS.Signals>(['SIGTERM', 'SIGINT'])(
    'given RECEIVER_SECRET, then it prints the listening line, answers signed requests, and on %s stops cleanly',
    async (signal) => {
      const { child, ended, listening } = run(['--port', '0', '--database', database()], {
        ...env,
        RECEIVER_SECRET: SECRET,
      });
      const url = await listening();
      const text = JSON.stringify({ keys: ['a@example.com'] });
      const signed = await fetch(`${url}/lookup`, {
        method: 'POST',
        headers: { 'syncline-signature': signature(text) },
        body: text,
      });
      expect(signed.status).toBe(200);
      expect(await signed.json()).toStrictEqual({ records: [] });
      const unsigned = await fetch(`${url}/lookup`, { method: 'POST', body: text });
      expect(unsigned.status).toBe(401);
      child.kill(signal);
      expect(await ended).toMatchObject({ code: 0, signal: null, stderr: '' });
      expect(existsSync(database())).toBe(true);
    },
  );

  it('given --insecure and no RECEIVER_SECRET, then it starts with a warning and accepts unsigned requests', async () => {
    const { child, ended, listening } = run(['--port', '0', '--database', database(), '--insecure'], env);
    const url = await listening();
    const unsigned = await fetch(`${url}/lookup`, { method: 'POST', body: JSON.stringify({ keys: [] }) });
    expect(unsigned.status).toBe(200);
    child.kill('SIGTERM');
    const ran = await ended;
    expect(ran.code).toBe(0);
    expect(ran.stderr).toMatch(/warning: --insecure/);
  });
});
