// Fault injection, a destination that lost its records: its file deleted, its table emptied, or some
// rows deleted behind syncline's back. status notices by a row count; a sync writes everything again
// when nothing is left (and says why); a partial loss is reported and left to `sync --full`.
import { existsSync, rmSync } from 'node:fs';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { population } from '../adapters/demo/people.js';
import {
  NO_DIFFERENCE,
  copyWorld,
  createWorld,
  destinationRows,
  launch,
  readTables,
  removeWorld,
  syncToEnd,
  tableDiff,
  type FaultWorld,
  type Tables,
} from './support/faultWorld.js';

const PROFILES = 1_500;
const SYNC = ['--batch-size', '250'];

const worlds: FaultWorld[] = [];
let synced: FaultWorld;
let reference: Tables;

type RecordsCheck = { held: number | null; written: number; missing: number };

const status = async (w: FaultWorld): Promise<{ records: RecordsCheck; text: string }> => {
  const json = await launch(w, ['status', '--json']).exit;
  const text = await launch(w, ['status']).exit;
  expect(json.code, json.stderr).toBe(0);
  const [warehouse] = (JSON.parse(json.stdout) as { destinations: { records: RecordsCheck }[] }).destinations;
  return { records: warehouse?.records as RecordsCheck, text: text.stdout };
};

const onDestination = (w: FaultWorld, sql: string): void => {
  const db = new Database(w.destinationPath, { fileMustExist: true });
  try {
    db.exec(sql);
  } finally {
    db.close();
  }
};

beforeAll(async () => {
  synced = await createWorld([...population(PROFILES)], 'all');
  worlds.push(synced);
  await syncToEnd(synced, SYNC);
  reference = readTables(synced);
}, 60_000);

afterAll(() => Promise.all(worlds.map(removeWorld)));

const fresh = async (): Promise<FaultWorld> => {
  const w = await copyWorld(synced);
  worlds.push(w);
  return w;
};

describe('a destination whose file was deleted', () => {
  it('given a synced warehouse whose file is deleted, then status says every record syncline wrote is missing, plan creates no file, and the next sync writes them all again saying why', async () => {
    const w = await fresh();
    for (const side of ['', '-wal', '-shm']) rmSync(w.destinationPath + side, { force: true });
    const before = await status(w);
    expect(before.records).toEqual({ held: null, written: PROFILES, missing: PROFILES });
    expect(before.text).toContain(
      `records   ${PROFILES} records written by syncline, but the destination has no table for them; the next sync writes them again`,
    );

    const plan = await launch(w, ['plan', '--json']).exit;
    expect(plan.code, plan.stderr).toBe(0);
    expect(JSON.parse(plan.stdout)).toMatchObject({
      destinations: [{ reason: 'records-lost', considered: PROFILES }],
    });
    expect(existsSync(w.destinationPath)).toBe(false);

    const sync = await syncToEnd(w, SYNC);
    expect(sync.stdout).toContain(
      `the destination has no table (or file) for its records although syncline wrote ${PROFILES} records there: this run looks at every profile and writes them again`,
    );
    expect(tableDiff(readTables(w), reference)).toEqual(NO_DIFFERENCE);
    expect((await status(w)).records).toEqual({ held: PROFILES, written: PROFILES, missing: 0 });
  });
});

describe('a destination whose table was emptied', () => {
  it('given a synced warehouse whose tables are emptied, when synced with --json, then the run is a full one with its reason, and the tables are whole again', async () => {
    const w = await fresh();
    onDestination(w, 'DELETE FROM contacts; DELETE FROM contacts_groups;');
    expect((await status(w)).records).toEqual({ held: 0, written: PROFILES, missing: PROFILES });
    const sync = await launch(w, ['sync', ...SYNC, '--json']).exit;
    expect(sync.code, sync.stderr).toBe(0);
    expect(JSON.parse(sync.stdout)).toMatchObject({
      destinations: [{ reason: 'records-lost', considered: PROFILES, totals: { created: PROFILES } }],
    });
    expect(tableDiff(readTables(w), reference)).toEqual(NO_DIFFERENCE);
  });
});

describe('a destination that lost some of its records', () => {
  it('given 10 rows deleted behind syncline’s back, then status counts them missing, a run of changes leaves them, and sync --full writes them again', async () => {
    const w = await fresh();
    onDestination(
      w,
      'DELETE FROM contacts WHERE rowid IN (SELECT rowid FROM contacts ORDER BY email LIMIT 10)',
    );
    expect(destinationRows(w)).toBe(PROFILES - 10);
    const noticed = await status(w);
    expect(noticed.records).toEqual({ held: PROFILES - 10, written: PROFILES, missing: 10 });
    expect(noticed.text).toContain(
      '10 records syncline wrote are missing; `syncline sync --full` writes them again',
    );
    await syncToEnd(w, SYNC);
    expect(destinationRows(w)).toBe(PROFILES - 10);
    await syncToEnd(w, [...SYNC, '--full']);
    expect(destinationRows(w)).toBe(PROFILES);
    expect((await status(w)).records.missing).toBe(0);
  });
});
