// Fault injection, snapshots: a snapshot the store cannot give back (an error, a throw, damaged rows
// or damaged pages of the store file) only costs time. Every command folds the whole store instead
// and answers as that fold does, with one warning line; `status --check` finds damaged pages.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import * as E from 'fp-ts/lib/Either.js';
import * as TE from 'fp-ts/lib/TaskEither.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { changes, population } from '../adapters/demo/people.js';
import type { EventStore, StoreError, StoredSnapshot } from '../engine/ports.js';
import { ignoredWords, resume, storeFailedOn } from '../engine/state/resume.js';

import { SNAPSHOT_FORMAT, snapshotParts } from '../engine/state/snapshot.js';
import { catchUp, initialState } from '../engine/state/engineState.js';
import { success } from './contract/eventStoreHelpers.js';
import { checkpointed, damagePage, pagesOf, type Page } from './support/damage.js';
import {
  copyWorld,
  createWorld,
  launch,
  readTables,
  removeWorld,
  syncToEnd,
  type FaultWorld,
  type Tables,
} from './support/faultWorld.js';
import { givenEngine } from './support/engine.js';
import { changed, created, destination, everyone, joined } from './support/given.js';

/** What resume folded, failing the spec if the store held an event that does not decode. */
const resumed = async (store: EventStore) => {
  const r = await resume(store);
  if (E.isLeft(r)) throw new Error(`the store was refused: ${JSON.stringify(r.left)}`);
  return r.right;
};

describe('resuming when the store cannot give its newest snapshot back', () => {
  const corrupt: StoreError = {
    _tag: 'StoreUnavailable',
    message: 'SQLite store unavailable (SQLITE_CORRUPT): database disk image is malformed',
  };

  /** A store with a history, a run, and a snapshot of the state kept at its end. */
  const givenKept = async () => {
    const w = await givenEngine(destination({ mode: 'sync', collection: everyone }));
    await w.happen(
      created('p1', { email: 'one@example.com' }),
      created('p2', { email: 'two@example.com' }),
      joined('p1', 'vip'),
    );
    await w.synced();
    await w.happen(changed('p2', { firstName: 'Two' }), created('p3', { email: 'three@example.com' }));
    await catchUp(w.store, w.state);
    let eventId = '';
    for await (const e of w.store.readAll(w.state.position - 1)) eventId = e.id;
    await success(
      w.store.snapshots.keep({
        format: SNAPSHOT_FORMAT,
        position: w.state.position,
        eventId,
        parts: snapshotParts(w.state),
      }),
    );
    const whole = await catchUp(w.store, initialState());
    if (E.isLeft(whole)) throw new Error(`the store was refused: ${JSON.stringify(whole.left)}`);
    return { store: w.store, whole: whole.right };
  };

  /** `store`, its newest snapshot as `change` makes it (or the failure `change` puts in its place). */
  const withLatest = (store: EventStore, change: (latest: StoredSnapshot) => StoredSnapshot): EventStore => ({
    ...store,
    snapshots: {
      ...store.snapshots,
      latest: (format) =>
        TE.map((latest: StoredSnapshot | null) => (latest === null ? null : change(latest)))(
          store.snapshots.latest(format),
        ),
    },
  });

  /** The snapshot's parts, the `at`th (from 1) and the rest replaced by what `fail` does there. */
  const partsFailingAt =
    (at: number, fail: () => E.Either<StoreError, string>) =>
    (latest: StoredSnapshot): StoredSnapshot => ({
      ...latest,
      parts: async function* () {
        let n = 0;
        for await (const part of latest.parts()) {
          if (++n === at) {
            yield fail();
            return;
          }
          yield part;
        }
      },
    });

  const failingToFind = (store: EventStore, latest: EventStore['snapshots']['latest']): EventStore => ({
    ...store,
    snapshots: { ...store.snapshots, latest },
  });

  it.each([
    [
      'finding it returns an error',
      (store: EventStore) => failingToFind(store, () => TE.left(corrupt)),
      `the store's newest snapshot cannot be found: ${corrupt.message}`,
    ],
    [
      'finding it throws',
      (store: EventStore) =>
        failingToFind(store, () => {
          throw new Error('disk I/O error');
        }),
      "the store's newest snapshot cannot be found: Error: disk I/O error",
    ],
    [
      'finding it rejects',
      (store: EventStore) => failingToFind(store, () => () => Promise.reject(new Error('disk I/O error'))),
      "the store's newest snapshot cannot be found: Error: disk I/O error",
    ],
    [
      'reading its third part returns an error',
      (store: EventStore) =>
        withLatest(
          store,
          partsFailingAt(3, () => E.left(corrupt)),
        ),
      `the snapshot taken at position 10 cannot be read: the store failed after 2 parts: ${corrupt.message}`,
    ],
    [
      'reading its third part throws',
      (store: EventStore) =>
        withLatest(
          store,
          partsFailingAt(3, () => {
            throw new Error('disk I/O error');
          }),
        ),
      'the snapshot taken at position 10 cannot be read: the store failed after 2 parts: Error: disk I/O error',
    ],
  ])(
    'given a snapshot kept, when %s, then the process folds the whole store and says why, as a failure of the store',
    async (_, failing, why) => {
      const { store, whole } = await givenKept();
      const r = await resumed(failing(store));
      expect(r.from).toBeNull();
      expect(r.folded).toBe(0);
      expect(r.ignored && ignoredWords(r.ignored)).toBe(why);
      expect(r.ignored && storeFailedOn(r.ignored)).toBe(true);
      expect(r.state).toEqual(whole);
    },
  );

  it.each([
    [
      'its second part does not parse',
      partsFailingAt(2, () => E.right('["profiles", [[')),
      /^the snapshot taken at position 10 cannot be read: part 2 is malformed: /,
    ],
    [
      'its head counts one profile more than its parts hold',
      (latest: StoredSnapshot): StoredSnapshot => ({
        ...latest,
        parts: async function* () {
          for await (const part of latest.parts()) {
            if (E.isRight(part) && part.right.startsWith('["head"')) {
              const [kind, head] = JSON.parse(part.right) as [string, { profiles: number }];
              yield E.right(JSON.stringify([kind, { ...head, profiles: head.profiles + 1 }]));
            } else yield part;
          }
        },
      }),
      /^the snapshot taken at position 10 cannot be read: it holds 3 profiles where its head says 4$/,
    ],
  ])(
    'given a snapshot kept, when %s, then the process folds the whole store and says why, the store being sound',
    async (_, change, why) => {
      const { store, whole } = await givenKept();
      const r = await resumed(withLatest(store, change));
      expect(r.from).toBeNull();
      expect(r.ignored && ignoredWords(r.ignored)).toMatch(why);
      expect(r.ignored && storeFailedOn(r.ignored)).toBe(false);
      expect(r.state).toEqual(whole);
    },
  );
});

/** Enough profiles that the first sync keeps a snapshot of several parts (see snapshotDue). */
const PROFILES = 6_000;
const ROUND = 'round.jsonl';

const worlds: FaultWorld[] = [];
const track = (w: FaultWorld): FaultWorld => (worlds.push(w), w);
afterAll(() => Promise.all(worlds.map(removeWorld)));

type Output = { readonly code: number | null; readonly stdout: string; readonly stderr: string };

const cli = async (w: FaultWorld, ...args: string[]): Promise<Output> => {
  const { code, stdout, stderr } = await launch(w, args).exit;
  return { code, stdout, stderr };
};

/** The output without status's line (or field) naming the snapshot it started from, and run ids. */
const comparable = (stdout: string): string => {
  const withoutRuns = stdout.replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, 'RUN');
  return withoutRuns.startsWith('{')
    ? JSON.stringify({ ...(JSON.parse(withoutRuns) as object), snapshot: 'apart' })
    : withoutRuns.replace(/^snapshot: .*$/m, 'snapshot: apart');
};

/** The commands that only read, each answering from the events alone. */
const READING: readonly (readonly string[])[] = [
  ['status'],
  ['status', '--json'],
  ['plan', '--json'],
  ['log', '--destination', 'warehouse', '--profile', 'p0000001', '--json'],
  ['explain', '--destination', 'warehouse', '--profile', 'p0000002'],
  ['replay', '--destination', 'warehouse', '--verify', '--json'],
];
/** The commands that write, in this order: a config applied again, a round ingested and synced, a retry. */
const WRITING: readonly (readonly string[])[] = [
  ['apply'],
  ['ingest', ROUND],
  ['sync', '--json'],
  ['retry', '--destination', 'warehouse'],
];

let synced: FaultWorld;
const reference = new Map<string, Output>();
let referenceTables: Tables;

/** How many rows each snapshot table holds, read through SQLite (which a damaged page stops). */
const snapshotRows = (w: FaultWorld): { snapshots: number; parts: number } => {
  const db = new Database(w.storePath, { readonly: true });
  try {
    return {
      snapshots: db.prepare('SELECT count(*) FROM snapshots').pluck().get() as number,
      parts: db.prepare('SELECT count(*) FROM snapshot_parts').pluck().get() as number,
    };
  } finally {
    db.close();
  }
};

beforeAll(async () => {
  synced = track(await createWorld([...population(PROFILES)], 'all'));
  await syncToEnd(synced);
  await writeFile(
    join(synced.dir, ROUND),
    changes(PROFILES, 0.02)
      .events.map((e) => JSON.stringify(e))
      .join('\n'),
  );
  checkpointed(synced.storePath);
  expect(snapshotRows(synced).snapshots).toBe(1);
  expect(snapshotRows(synced).parts).toBeGreaterThan(4);
  // What a fold of the whole store answers: the reading commands on the store as it is, the writing
  // ones on a copy, each with --no-snapshots.
  for (const args of READING) reference.set(args.join(' '), await cli(synced, '--no-snapshots', ...args));
  const copy = track(await copyWorld(synced));
  for (const args of WRITING) reference.set(args.join(' '), await cli(copy, '--no-snapshots', ...args));
  referenceTables = readTables(copy);
  expect([...reference].filter(([, r]) => r.stderr !== '' || r.code !== 0)).toEqual([]);
}, 180_000);

/** Exactly one line, the warning that the snapshot was not used. */
const ONE_WARNING = /^syncline: [^\n]+; folded the whole store instead[^\n]*\n$/;

/**
 * Every command answers on `w` as the whole fold did; each that `warns` with exactly one warning,
 * which matches `why`, and the others with none. By default the commands that start from a snapshot
 * warn: log, explain and replay never read one.
 */
const answersAsTheWholeFold = async (
  w: FaultWorld,
  why: RegExp,
  commands: readonly (readonly string[])[],
  warns = (args: readonly string[]) =>
    ['status', 'plan', 'apply', 'ingest', 'sync', 'retry'].includes(args[0] as string),
): Promise<void> => {
  for (const args of commands) {
    const command = args.join(' ');
    const r = await cli(w, ...args);
    const expected = reference.get(command) as Output;
    if (warns(args)) {
      expect.soft(r.stderr, command).toMatch(ONE_WARNING);
      expect.soft(r.stderr, command).toMatch(why);
    } else expect.soft(r.stderr, command).toBe('');
    expect.soft(r.code, command).toBe(expected.code);
    expect.soft(comparable(r.stdout), command).toBe(comparable(expected.stdout));
  }
};

const FOLDING = READING.filter((args) => ['status', 'plan'].includes(args[0] as string));

describe('a store file whose pages holding the snapshot are damaged', () => {
  const middle = (pages: readonly Page[]): Page => pages[Math.floor(pages.length / 2)] as Page;
  const leaves = (p: Page) => p.pagetype === 'leaf';

  // Every command in the first case; in the others, those that start from a snapshot (log, explain
  // and replay never read one, so the first case shows all there is to see of them).
  it.each<[string, (file: string) => void, RegExp, (readonly string[])[]?]>([
    [
      "the snapshots table's page",
      (file) => damagePage(file, (pagesOf(file, 'snapshots')[0] as Page).pageno),
      /the store's newest snapshot cannot be found: .*SQLITE_CORRUPT/,
      [...READING],
    ],
    [
      "the root page of the parts' table",
      (file) => damagePage(file, (pagesOf(file, 'snapshot_parts')[0] as Page).pageno),
      /cannot be read: the store failed after \d+ parts?: .*SQLITE_CORRUPT/,
    ],
    [
      "a leaf page in the middle of the parts' table",
      (file) => damagePage(file, middle(pagesOf(file, 'snapshot_parts').filter(leaves)).pageno),
      /cannot be read: the store failed after \d+ parts?: .*SQLITE_CORRUPT/,
    ],
    [
      "the index of the parts' table",
      (file) => damagePage(file, (pagesOf(file, 'sqlite_autoindex_snapshot_parts_1')[0] as Page).pageno),
      /cannot be read: the store failed after \d+ parts?: .*SQLITE_CORRUPT/,
    ],
    [
      'the chain of overflow pages holding a part',
      (file) =>
        damagePage(
          file,
          middle(pagesOf(file, 'snapshot_parts').filter((p) => p.pagetype === 'overflow')).pageno,
        ),
      /cannot be read: the store failed after \d+ parts?: .*SQLITE_CORRUPT/,
    ],
  ])(
    'given %s damaged, when every command runs, then each answers as a fold of the whole store, with one warning naming the failure',
    async (_, damage, why, reading = FOLDING) => {
      const w = track(await copyWorld(synced));
      checkpointed(w.storePath);
      damage(w.storePath);
      await answersAsTheWholeFold(w, why, reading);
      await answersAsTheWholeFold(w, why, WRITING);
      expect(readTables(w)).toEqual(referenceTables);
      // Still damaged, and no snapshot kept over it: commands go on folding, each with its one warning.
      const after = await cli(w, 'status', '--json');
      expect(after.stderr).toMatch(ONE_WARNING);
      expect(comparable(after.stdout)).toBe(
        comparable((await cli(w, '--no-snapshots', 'status', '--json')).stdout),
      );
    },
    120_000,
  );

  it('given the text of a part damaged in its overflow pages, when the commands run, then each answers as the whole fold, with one warning until the first that keeps a snapshot replaces it', async () => {
    const w = track(await copyWorld(synced));
    checkpointed(w.storePath);
    const overflow = pagesOf(w.storePath, 'snapshot_parts').filter((p) => p.pagetype === 'overflow');
    // Past the page's first four bytes, the number of the next page: only the part's text is hit.
    damagePage(w.storePath, middle(overflow).pageno, 100, 64);
    const why = /cannot be read: part \d+ is malformed: /;
    await answersAsTheWholeFold(w, why, FOLDING);
    // The store reads, the snapshot does not parse: the first command that keeps one replaces it.
    await answersAsTheWholeFold(w, why, WRITING, (args) => args[0] === 'apply');
    expect(readTables(w)).toEqual(referenceTables);
    const after = await cli(w, 'status', '--json');
    expect(after.stderr).toBe('');
    expect(comparable(after.stdout)).toBe(
      comparable((await cli(w, '--no-snapshots', 'status', '--json')).stdout),
    );
  });
});

describe('a snapshot damaged in its rows', () => {
  it.each<[string, string, RegExp]>([
    [
      'a part deleted',
      'DELETE FROM snapshot_parts WHERE seq = 2',
      /cannot be read: it ends after part 2, without its end/,
    ],
    [
      "its head's count of profiles changed",
      `UPDATE snapshot_parts SET body = json_set(body, '$[1].profiles', json_extract(body, '$[1].profiles') + 1) WHERE seq = 0`,
      new RegExp(`cannot be read: it holds ${PROFILES} profiles where its head says ${PROFILES + 1}`),
    ],
    [
      'its row naming another event',
      "UPDATE snapshots SET event_id = 'not-an-event'",
      /does not match the store: the event there is not the one it was taken after/,
    ],
  ])(
    'given %s, when the commands that fold run, then each answers as a fold of the whole store, with one warning',
    async (_, damage, why) => {
      const w = track(await copyWorld(synced));
      const db = new Database(w.storePath);
      db.exec(damage);
      db.close();
      await answersAsTheWholeFold(w, why, FOLDING);
    },
  );
});

describe('status --check: the store checked for damage that no command reads', () => {
  type Checked = { integrity?: { check: string; sound: boolean; findings: string[] } };
  const CHECK = 'PRAGMA integrity_check';
  /**
   * A finding in the events table: SQLite names the tree (`Tree 2 page 57: …`), or, when the damage
   * stops its check, the store names the table it checked on its own.
   */
  const IN_EVENTS = '(Tree \\d+ \\(events\\) page \\d+|table events): ';

  it('given a sound store, when status --check runs, then it says the store passed, and answers as status does', async () => {
    const text = await cli(synced, 'status', '--check');
    expect(text.stderr).toBe('');
    expect(text.code).toBe(0);
    expect(text.stdout).toBe(
      (await cli(synced, 'status')).stdout.replace(/^(snapshot: .*\n)/m, `$1integrity: sound (${CHECK})\n`),
    );
    const json = await cli(synced, 'status', '--check', '--json');
    expect(json.code).toBe(0);
    const { integrity, ...rest } = JSON.parse(json.stdout) as Checked;
    expect(integrity).toStrictEqual({ check: CHECK, sound: true, findings: [] });
    expect(rest).toStrictEqual(JSON.parse((await cli(synced, 'status', '--json')).stdout));
  });

  it('given a page of events damaged where the snapshot covers it, when status runs, then nothing seems wrong; with --check, it says the store failed its integrity check, naming the events table, and exits 1', async () => {
    const w = track(await copyWorld(synced));
    checkpointed(w.storePath);
    const before = await cli(w, 'status', '--json');
    // The first leaf holds the first events: folded into the snapshot, never read again.
    damagePage(
      w.storePath,
      (pagesOf(w.storePath, 'events').find((p) => p.pagetype === 'leaf') as Page).pageno,
    );
    expect(await cli(w, 'status', '--json')).toStrictEqual(before);

    const text = await cli(w, 'status', '--check');
    expect(text.code).toBe(1);
    expect(text.stderr).toMatch(
      new RegExp(`^syncline: the store failed its integrity check \\(${CHECK}\\): ${IN_EVENTS}[^\\n]+\\n$`),
    );
    expect(text.stdout).toMatch(/^store head: position \d+\nsnapshot: taken at position /);
    expect(text.stdout).toMatch(new RegExp(`^integrity: FAILED \\(${CHECK}\\)\\n  ${IN_EVENTS}`, 'm'));
    expect(text.stdout).toContain('warehouse (sqlite, sync, all profiles)');

    const json = await cli(w, 'status', '--check', '--json');
    expect(json.code).toBe(1);
    expect(json.stderr).toBe(text.stderr);
    const { integrity, ...rest } = JSON.parse(json.stdout) as Checked;
    expect(integrity).toMatchObject({ check: CHECK, sound: false });
    expect(integrity?.findings[0]).toMatch(new RegExp(`^${IN_EVENTS}`));
    expect(integrity?.findings.length).toBeLessThanOrEqual(10);
    expect(rest).toStrictEqual(JSON.parse(before.stdout));
  });

  it('given a page of events damaged that every fold reads, when status --check runs, then it still says the store failed its integrity check', async () => {
    const w = track(await copyWorld(synced));
    checkpointed(w.storePath);
    damagePage(
      w.storePath,
      (pagesOf(w.storePath, 'events').find((p) => p.pagetype === 'leaf') as Page).pageno,
    );
    const r = await cli(w, '--no-snapshots', 'status', '--check');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      new RegExp(
        `^syncline: the store failed its integrity check \\(${CHECK}\\): ${IN_EVENTS}[^\\n]+; ` +
          'and its status cannot be shown: [^\\n]*malformed[^\\n]*\\n$',
      ),
    );
  });

  it('given a page of events damaged that every fold reads, when commands read the store without --check, then each exits 1 saying the store could not be read, never an internal error', async () => {
    const w = track(await copyWorld(synced));
    checkpointed(w.storePath);
    damagePage(
      w.storePath,
      (pagesOf(w.storePath, 'events').find((p) => p.pagetype === 'leaf') as Page).pageno,
    );
    for (const args of [['status'], ['plan'], ['sync'], ['replay', '--destination', 'warehouse']]) {
      const r = await cli(w, '--no-snapshots', ...args);
      expect({ args, code: r.code }).toStrictEqual({ args, code: 1 });
      expect(r.stderr).toMatch(
        /^syncline: the store could not be read: SQLite store unavailable \(SQLITE_CORRUPT[^)]*\): [^\n]+; `syncline status --check` checks it for damage\n$/,
      );
    }
  });

  it("given the snapshot's pages damaged, when status --check runs, then the findings name the snapshot's table, beside the one warning that it was not used", async () => {
    const w = track(await copyWorld(synced));
    checkpointed(w.storePath);
    damagePage(w.storePath, (pagesOf(w.storePath, 'snapshot_parts')[0] as Page).pageno);
    const r = await cli(w, 'status', '--check', '--json');
    expect(r.code).toBe(1);
    const [warning, failure, ...rest] = r.stderr.split('\n');
    expect(warning).toMatch(/; folded the whole store instead/);
    expect(failure).toMatch(
      /^syncline: the store failed its integrity check \(PRAGMA integrity_check\): Tree \d+ \(snapshot_parts\) /,
    );
    expect(rest).toStrictEqual(['']);
  });
});
