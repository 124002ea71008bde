// Crash safety on an `http` destination (docs/architecture.md, "Failure semantics"): a sync into the
// example receiver killed with SIGKILL just after the receiver applied its Nth request (the answer never
// read) is continued by the next sync to the records of an uninterrupted run, no command id is applied
// twice however often it is sent, and replay verifies every run: a first sync killed early, half way and
// late, a round of changes, and a change undone after the crash; with lookups, and without them (the
// ledger standing for the receiver). The receiver runs in this process behind a gate, a small proxy
// that counts the commands it forwards, kills the CLI, and loses one answer to make the CLI resend.
import { createServer, type Server } from 'node:http';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { changes, population } from '../adapters/demo/people.js';
import type { InputEvent } from '../domain/events.js';
import { compareStrings } from '../domain/values.js';
import { expectRecovered, syncInBatches } from './support/crashTrials.js';
import { heldBy, startExampleReceiver, type ExampleReceiver } from './support/exampleReceiver.js';
import {
  CONFIG_FILE,
  NO_DIFFERENCE,
  createWorld,
  ingestEvents,
  launch,
  removeWorld,
  syncEventCounts,
  syncToEnd,
  tableDiff,
  warehouse,
  type FaultWorld,
  type Running,
  type Tables,
} from './support/faultWorld.js';

/** A few thousand profiles, 100 per batch, 50 commands per request: about 60 requests to land a kill after. */
const PROFILES = 3_000;
const SYNC = syncInBatches(100);
const REQUEST = 50;
const SECRET = 'crash-Secret-Never-Stored-41c9';
const VARIABLE = 'SYNCLINE_CRASH_RECEIVER_SECRET';

/**
 * In front of a receiver: forwards every request as it came (signature included), counts each command
 * id sent to /apply, kills `running` once the receiver has answered `killAfter` applies (before the CLI
 * reads that answer), and once `lose` is called answers the next apply with a 502 after the receiver
 * applied it, so that the CLI resends the same command ids.
 */
type Gate = {
  readonly url: string;
  readonly seen: Map<string, number>;
  readonly applies: () => number;
  readonly killAfter: (n: number, running: Running) => void;
  readonly lose: () => void;
  readonly close: () => Promise<void>;
};

const gate = async (target: string): Promise<Gate> => {
  const seen = new Map<string, number>();
  let answered = 0;
  let kill: { n: number; running: Running } | undefined;
  let armed = false;
  const server: Server = createServer((req, res) => {
    void (async () => {
      const losing = req.url === '/apply' && armed;
      if (losing) armed = false;
      const chunks: Buffer[] = [];
      for await (const chunk of req as AsyncIterable<Buffer>) chunks.push(chunk);
      const body = Buffer.concat(chunks);
      const answer = await fetch(`${target}${req.url ?? '/'}`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'syncline-signature': String(req.headers['syncline-signature']),
        },
        body,
      });
      const text = await answer.text();
      if (req.url === '/apply') {
        const { commands } = JSON.parse(body.toString('utf8')) as { commands: { commandId: string }[] };
        for (const { commandId } of commands) seen.set(commandId, (seen.get(commandId) ?? 0) + 1);
        if (++answered === kill?.n) kill.running.kill();
      }
      const status = losing ? 502 : answer.status;
      const retryAfter = answer.headers.get('retry-after');
      res.writeHead(status, {
        'content-type': 'application/json',
        ...(retryAfter ? { 'retry-after': retryAfter } : {}),
      });
      res.end(losing ? '{"error":"bad gateway"}' : text);
    })().catch(() => res.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    applies: () => answered,
    killAfter: (n, running) => (kill = { n, running }),
    lose: () => (armed = true),
    close: () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      return closed;
    },
  };
};

/** The receiver's records as the fault specs compare tables: a JSON line per record, a line per group. */
const tablesOf = (r: ExampleReceiver): Tables => {
  const held = heldBy(r);
  const fields = (f: unknown) => Object.entries(f as object).sort(([a], [b]) => compareStrings(a, b));
  return {
    rows: held.map((x) => JSON.stringify([x.key, fields(x.fields)])),
    groups: held.flatMap((x) => (x.groups as string[]).map((g) => `${x.key}\t${g}`)).sort(compareStrings),
  };
};
/** How often the receiver applied each command id it keeps (its `applied` table). */
const timesApplied = (r: ExampleReceiver): Map<string, number> =>
  new Map(r.db.prepare('SELECT command_id, times FROM applied').raw().all() as [string, number][]);

let closers: (() => Promise<void>)[] = [];
let referenceClosers: (() => Promise<void>)[] = [];
const report: string[] = [];
let people: readonly InputEvent[];
let round: readonly InputEvent[];

type Setup = { readonly receiver: ExampleReceiver; readonly gate: Gate; readonly world: FaultWorld };

/** A receiver behind its gate, and a world (3,000 profiles in its store) whose warehouse posts there. */
const setup = async (lookup: boolean, keep = closers): Promise<Setup> => {
  const receiver = await startExampleReceiver({ secret: SECRET });
  const g = await gate(receiver.url);
  const world = await createWorld(people, 'all');
  keep.push(() => removeWorld(world), g.close, receiver.close);
  const options = {
    url: g.url,
    secret: { env: VARIABLE },
    batchSize: REQUEST,
    ...(lookup ? {} : { lookup }),
  };
  const config = { ...warehouse('all'), type: 'http', options };
  await writeFile(
    join(world.dir, CONFIG_FILE),
    JSON.stringify({ store: world.storeUrl, destinations: [config] }),
  );
  const applied = await launch(world, ['apply']).exit;
  expect([applied.code, applied.stderr]).toEqual([0, '']);
  return { receiver, gate: g, world };
};

type Reference = {
  readonly first: Tables;
  readonly second: Tables;
  readonly applies: readonly [number, number];
};
/** An uninterrupted first sync, then one of the round of changes: the records after each. */
const reference = async (lookup: boolean): Promise<Reference> => {
  const { receiver, gate: g, world } = await setup(lookup, referenceClosers);
  await syncToEnd(world, SYNC.slice(1));
  const [first, applies] = [tablesOf(receiver), g.applies()];
  await ingestEvents(world, round);
  await syncToEnd(world, SYNC.slice(1));
  return { first, second: tablesOf(receiver), applies: [applies, g.applies() - applies] };
};

type ReplayJson = {
  verified: boolean;
  runs: { decisions: number; matched: number | null; mismatches: unknown[] }[];
};
/** `syncline replay --verify` of every run the world recorded: each decision follows from its inputs. */
const expectEveryRunVerifies = async (w: FaultWorld): Promise<void> => {
  const replayed = await launch(w, ['replay', '--destination', 'warehouse', '--verify', '--json']).exit;
  expect(replayed.code, replayed.stderr).toBe(0);
  const r = JSON.parse(replayed.stdout) as ReplayJson;
  expect(r.verified).toBe(true);
  expect(r.runs).toHaveLength((await syncEventCounts(w)).RunStarted);
  for (const run of r.runs) expect(run).toMatchObject({ matched: run.decisions, mismatches: [] });
};

/**
 * Kills a sync of `s` once the receiver answered `after` applies, then syncs again until nothing is
 * left, and checks the recovery against `expected`. The answer to the killed run's first apply is
 * lost, and if the kill came before the CLI resent it, the resumed run's first: some ids come twice.
 */
const killAndRecover = async (s: Setup, after: number, expected: Tables, what: string): Promise<void> => {
  const before = s.gate.applies();
  const running = launch(s.world, SYNC);
  s.gate.killAfter(before + after, running);
  s.gate.lose();
  const exit = await running.exit;
  expect(exit.signal).toBe('SIGKILL');
  const counts = await syncEventCounts(s.world);
  report.push(
    `${what}: killed after apply ${after} (${timesApplied(s.receiver).size} commands applied); ` +
      `the store held ${counts.BatchDecided} BatchDecided, ${counts.BatchApplied} BatchApplied`,
  );
  if (![...s.gate.seen.values()].some((n) => n > 1)) s.gate.lose();
  // expectRecovered checks the store, every outcome and that a further sync decides nothing; its
  // table check reads an SQLite warehouse these worlds do not have (empty on both sides): see below.
  await expectRecovered(s.world, { rows: [], groups: [] }, SYNC, report);
  expect(tableDiff(tablesOf(s.receiver), expected)).toEqual(NO_DIFFERENCE);
  // The resent commands reached the receiver twice, and were applied once; as was every other.
  const twice = [...s.gate.seen].filter(([, n]) => n > 1).map(([id]) => id);
  expect(twice.length).toBeGreaterThan(0);
  const times = timesApplied(s.receiver);
  expect(twice.map((id) => times.get(id))).toEqual(twice.map(() => 1));
  expect([...times.values()].filter((n) => n !== 1)).toEqual([]);
  await expectEveryRunVerifies(s.world);
};

describe('a sync into an http destination killed with SIGKILL', () => {
  let withLookup: Reference;
  let withoutLookup: Reference;

  beforeAll(async () => {
    // `launch` passes this process's environment on: the secret reaches the CLI as a variable.
    process.env[VARIABLE] = SECRET;
    people = [...population(PROFILES)];
    round = changes(PROFILES, 0.05).events;
    [withLookup, withoutLookup] = await Promise.all([reference(true), reference(false)]);
  }, 120_000);

  afterEach(async () => {
    for (const close of closers.reverse()) await close();
    closers = [];
  });

  afterAll(async () => {
    // One line per trial: where each kill landed, for whoever reads the run's output.
    console.log(report.join('\n'));
    for (const close of referenceClosers.reverse()) await close();
    referenceClosers = [];
    delete process.env[VARIABLE];
  });

  it('given 3,000 profiles, when synced without interruption with and without lookups, then the receivers hold a record per profile and the same records, and the round of changes changes them', () => {
    expect(withLookup.first.rows).toHaveLength(PROFILES);
    expect(withLookup.first.groups.length).toBeGreaterThan(PROFILES / 2);
    expect(withLookup.applies[0]).toBeGreaterThanOrEqual(PROFILES / REQUEST);
    expect(withLookup.applies[1]).toBeGreaterThan(2);
    expect(tableDiff(withoutLookup.first, withLookup.first)).toEqual(NO_DIFFERENCE);
    expect(tableDiff(withoutLookup.second, withLookup.second)).toEqual(NO_DIFFERENCE);
    expect(withLookup.second).not.toEqual(withLookup.first);
  });

  const trials = [
    { when: 'early, after its first apply', part: 0 },
    { when: 'half way through', part: 0.5 },
    { when: 'late, after its last apply but one', part: 1 },
  ];
  it.each(trials)(
    'given a first sync of 3,000 profiles killed $when, when sync runs again until it finishes, then the receiver holds the records of the uninterrupted run row by row, no command id was applied twice, every decision has an outcome, a further sync decides nothing and replay --verify passes',
    async ({ when, part }) => {
      const s = await setup(true);
      const all = withLookup.applies[0];
      const after = Math.max(1, Math.min(all - 1, Math.round(part * all)));
      await killAndRecover(s, after, withLookup.first, `first sync killed ${when}`);
    },
    60_000,
  );

  it('given a receiver without lookups and a first sync killed half way, when sync runs again until it finishes, then the receiver holds the records of the uninterrupted run, no command id was applied twice, and replay --verify passes', async () => {
    const s = await setup(false);
    await killAndRecover(
      s,
      Math.round(withoutLookup.applies[0] / 2),
      withoutLookup.first,
      'without lookups, first sync',
    );
  }, 60_000);

  it.each([true, false])(
    'given a synced receiver (lookups: %s) and a round of changes, when the sync of the changes is killed half way and sync runs again, then the receiver holds the records of the uninterrupted run with the same changes, no command id was applied twice, and replay --verify passes',
    async (lookup) => {
      const s = await setup(lookup);
      await syncToEnd(s.world, SYNC.slice(1));
      await ingestEvents(s.world, round);
      const ref = lookup ? withLookup : withoutLookup;
      await killAndRecover(s, Math.ceil(ref.applies[1] / 2), ref.second, `changes (lookups: ${lookup})`);
    },
    60_000,
  );

  // Without lookups the next run cannot see that the killed run's command was applied (bug: see the report).
  it.each([true, false])(
    'given a receiver (lookups: %s) and a sync of one change killed after the receiver applied it, when the change is undone before sync runs again, then the receiver holds the value undone to, as an uninterrupted sync leaves it',
    async (lookup) => {
      const s = await setup(lookup);
      await syncToEnd(s.world, SYNC.slice(1));
      const synced = tablesOf(s.receiver);
      const first = people.find((e) => e.type === 'ProfileCreated');
      if (first?.type !== 'ProfileCreated') throw new Error('the population has no profile');
      const { profileId, properties } = first.data;
      const plan = (value: unknown): InputEvent[] => [
        { type: 'ProfilePropertiesChanged', data: { profileId, set: { plan: value as string } } },
      ];
      await ingestEvents(s.world, plan('changed-then-undone'));
      const running = launch(s.world, SYNC);
      s.gate.killAfter(s.gate.applies() + 1, running);
      expect((await running.exit).signal).toBe('SIGKILL');
      const planAt = () =>
        (heldBy(s.receiver).find((x) => x.key === properties['email'])?.fields as { plan?: unknown })?.plan;
      expect(planAt()).toBe('changed-then-undone');
      await ingestEvents(s.world, plan(properties['plan']));
      await syncToEnd(s.world, SYNC.slice(1));
      await syncToEnd(s.world, ['--full']);
      expect([planAt(), tableDiff(tablesOf(s.receiver), synced)]).toEqual([
        properties['plan'],
        NO_DIFFERENCE,
      ]);
      await expectEveryRunVerifies(s.world);
    },
    60_000,
  );
});
