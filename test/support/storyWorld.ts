// The world of issue 4's CLI story: three SQLite destinations of the vip collection, one per mode,
// the rounds of events the story plays through the built CLI, and a model of what each table holds.
import { copyFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { expect } from 'vitest';
import type { RunSummary } from '../../engine/sync/summary.js';
import { runCli, tempDir, type CliResult } from './cli.js';
import { SQLITE_STORE_URL, withStoreAt } from './storeKinds.js';

export const SYNC = 'warehouse';
export const ADDITIVE = 'mailing';
export const ENRICH = 'crm';
export const NO_CREATE = 'Destination sync mode does not allow creating new profiles';
export const KEPT = 'Destination sync mode does not allow removing profiles; removed from groups instead';

export const range = (from: number, to: number): number[] =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i);
export const pid = (n: number): string => `p${String(n).padStart(2, '0')}`;
export const RENAMED = 'p02@new.io';
/** Profile n's email once `round` has been ingested: p02 changes hers in round 2. */
export const email = (n: number, round = 1): string => (n === 2 && round >= 2 ? RENAMED : `${pid(n)}@x.io`);

const destination = (destinationId: string, syncMode: string) => ({
  destinationId,
  type: 'sqlite',
  syncMode,
  collection: { kind: 'group', groupId: 'vip' },
  keyField: 'email',
  mapping: { email: 'email', first_name: 'firstName' },
  groupMapping: { vip: 'VIP', newsletter: 'Newsletter' },
  options: { path: `${destinationId}.db`, table: 'contacts' },
});
/** The config file; `mailingMode` is what the additive destination is switched to. */
export const config = (mailingMode = 'additive', store = SQLITE_STORE_URL) => ({
  store,
  destinations: [
    destination(SYNC, 'sync'),
    destination(ADDITIVE, mailingMode),
    destination(ENRICH, 'enrich'),
  ],
});

let ids = 0;
/** Input events with fixed ids (re-ingesting is harmless) and a fixed day per round. */
const event = (round: number, type: string, data: Record<string, unknown>) => ({
  id: `00000000-0000-4000-8000-${String(++ids).padStart(12, '0')}`,
  type,
  data,
  occurredAt: `2026-03-0${round}T09:00:00.000Z`,
});
const joined = (round: number, groupId: string) => (n: number) =>
  event(round, 'ProfileJoinedGroup', { groupId, profileId: pid(n) });
const left = (round: number) => (n: number) =>
  event(round, 'ProfileLeftGroup', { groupId: 'vip', profileId: pid(n) });

/**
 * 1: sixteen profiles join vip, p01–p04 also newsletter. 2: p02 changes email, p03 leaves, p04 is
 * deleted. 3: p03 rejoins, p05 leaves. 4: p06–p14 leave, which no mode but sync acts on by deleting.
 */
export const ROUNDS = [
  [
    event(1, 'GroupCreated', { groupId: 'vip', name: 'VIP' }),
    event(1, 'GroupCreated', { groupId: 'newsletter', name: 'Newsletter' }),
    ...range(1, 16).map((n) =>
      event(1, 'ProfileCreated', {
        profileId: pid(n),
        properties: { email: email(n), firstName: `Name ${n}` },
      }),
    ),
    ...range(1, 16).map(joined(1, 'vip')),
    ...range(1, 4).map(joined(1, 'newsletter')),
  ],
  [
    event(2, 'ProfilePropertiesChanged', { profileId: 'p02', set: { email: RENAMED } }),
    left(2)(3),
    event(2, 'ProfileDeleted', { profileId: 'p04' }),
  ],
  [joined(3, 'vip')(3), left(3)(5)],
  range(6, 14).map(left(4)),
];

/** vip's live members once `round` has been ingested. */
export const members = (round: number): number[] =>
  [[], range(1, 16), [1, 2, ...range(5, 16)], [1, 2, 3, ...range(6, 16)], [1, 2, 3, 15, 16]][round] ?? [];

type Row = { email: string; first_name: string };
type GroupRow = { record_key: string; group_name: string };
export type Tables = { readonly rows: Row[]; readonly groups: GroupRow[] };

const byText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const sorted = (t: Tables): Tables => ({
  rows: [...t.rows].sort((a, b) => byText(a.email, b.email)),
  groups: [...t.groups].sort(
    (a, b) => byText(a.record_key, b.record_key) || byText(a.group_name, b.group_name),
  ),
});

/**
 * What each mode's table holds after `round` is synced: sync holds the members; additive everyone it
 * ever wrote, leavers out of every managed group; enrich only p03, the contact it found, whose
 * Partner tag syncline never manages. Members carry VIP, and Newsletter for p01–p04.
 */
export const expectedTables = (mode: 'sync' | 'additive' | 'enrich', round: number): Tables => {
  const now = members(round);
  const rowsOf = mode === 'sync' ? now : mode === 'additive' ? range(1, 16) : [3];
  const grouped = now.filter((n) => rowsOf.includes(n));
  return sorted({
    rows: rowsOf.map((n) => ({ email: email(n, round), first_name: `Name ${n}` })),
    groups: [
      ...grouped.flatMap((n) =>
        (n <= 4 ? ['Newsletter', 'VIP'] : ['VIP']).map((g) => ({
          record_key: email(n, round),
          group_name: g,
        })),
      ),
      ...(mode === 'enrich' ? [{ record_key: email(3), group_name: 'Partner' }] : []),
    ],
  });
};

export type StoryWorld = Awaited<ReturnType<typeof givenStoryWorld>>;

/**
 * A directory with the config naming `store`, the rounds as JSONL and the enrich table holding p03,
 * tagged Partner.
 */
export const givenStoryWorld = async (store = SQLITE_STORE_URL) => {
  const dir = await tempDir();
  await dir.write('syncline.config.json', config('additive', store));
  for (const [i, round] of ROUNDS.entries())
    await dir.write(`round${i + 1}.jsonl`, round.map((e) => JSON.stringify(e)).join('\n') + '\n');
  const db = new Database(join(dir.path, `${ENRICH}.db`));
  db.exec(`CREATE TABLE contacts (email TEXT PRIMARY KEY, first_name TEXT);
    CREATE TABLE contacts_groups (record_key TEXT NOT NULL, group_name TEXT NOT NULL, PRIMARY KEY (record_key, group_name));
    INSERT INTO contacts VALUES ('p03@x.io', 'Old');
    INSERT INTO contacts_groups VALUES ('p03@x.io', 'Partner');`);
  db.close();

  const cli = (...args: string[]): Promise<CliResult> => runCli(args, { cwd: dir.path });
  /** Runs a command with --json that must succeed and parses what it printed. */
  const json = async <T>(...args: string[]): Promise<T> => {
    const r = await cli(...args, '--json');
    expect(r.stderr, args.join(' ')).toBe('');
    expect(r.code, args.join(' ')).toBe(0);
    return JSON.parse(r.stdout) as T;
  };
  const query = <T>(file: string, sql: string, ...params: unknown[]): T[] => {
    const conn = new Database(join(dir.path, file), { readonly: true });
    try {
      return conn.prepare(sql).all(...params) as T[];
    } finally {
      conn.close();
    }
  };
  const tables = (destinationId: string): Tables => ({
    rows: query<Row>(`${destinationId}.db`, 'SELECT email, first_name FROM contacts ORDER BY email'),
    groups: query<GroupRow>(
      `${destinationId}.db`,
      'SELECT record_key, group_name FROM contacts_groups ORDER BY record_key, group_name',
    ),
  });
  /** The store positions of the input events with these ids, by id. */
  const positionsOf = (ids: readonly string[]): Promise<Map<string, number>> =>
    withStoreAt(store, dir.path, async (events) => {
      const found = await events.readByIds(ids);
      return new Map([...found].map(([id, e]) => [id, e.position]));
    });
  /** The store positions of a stream's events, oldest first. */
  const positionsIn = (stream: string): Promise<number[]> =>
    withStoreAt(store, dir.path, async (events) => {
      const positions: number[] = [];
      for await (const e of events.readStream(stream)) positions.push(e.position);
      return positions;
    });
  /** An SQLite store (and the config naming it) copied into a fresh directory, to be tampered with there. */
  const copyStore = async () => {
    const copy = await tempDir();
    for (const f of await readdir(dir.path))
      if (f.startsWith('events.db') || f === 'syncline.config.json')
        await copyFile(join(dir.path, f), join(copy.path, f));
    return copy;
  };
  return { dir, store, cli, json, tables, positionsOf, positionsIn, copyStore };
};

// What the commands print with --json, as far as the story specs read it.
export type Decision = {
  profileId: string;
  operation: string;
  key?: string;
  message?: string;
  fields: { set: Record<string, unknown> };
};
export type Entry = {
  runId: string;
  profileId: string;
  decision: Decision;
  keyAfter: string | null;
  outcome: { status: string };
  times: { caused: string | null; decided: string; accepted: string | null };
  causes: { type: string; position: number }[];
};
export type Status = {
  head: number;
  destinations: {
    destinationId: string;
    runs: number;
    lastRun: { mode: string } | null;
    failedRun: unknown;
    openRun: unknown;
    failures: { waiting: number };
    pending: number;
    lag: { profiles: number; configChanged: boolean };
  }[];
};
/** A run summary as `sync --json` prints it (docs/cli.md, "Run summaries"). */
export type SyncCounts = RunSummary;

/** The whole story: apply, four rounds, then mailing switched to sync and its deletes allowed. */
export const playWholeStory = async (w: StoryWorld): Promise<void> => {
  await w.json('apply');
  for (const n of [1, 2, 3, 4]) {
    await w.json('ingest', `round${n}.jsonl`);
    await w.json('sync');
  }
  await w.dir.write('syncline.config.json', config('sync', w.store));
  await w.json('apply');
  await w.json('sync', '--destination', ADDITIVE, '--max-deletes', '11');
};
