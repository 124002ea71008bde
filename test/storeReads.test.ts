// A store's reads end as the port says when the store fails: with StoreReadFailed carrying a tagged
// StoreError, never with another exception, for the memory and SQLite stores alike.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import * as E from 'fp-ts/lib/Either.js';
import { afterAll, describe, expect, it } from 'vitest';
import { openMemoryEventStore } from '../adapters/stores/memory.js';
import type { Connection } from '../adapters/stores/sqlite/connection.js';
import { sqliteReads } from '../adapters/stores/sqlite/reading.js';
import { openSqliteStore } from '../adapters/stores/sqlite/store.js';
import { StoreReadFailed, type EventStore, type StoreError } from '../engine/ports.js';
import { catchUp, initialState } from '../engine/state/engineState.js';
import { syncDestination } from '../engine/sync/run.js';
import { createMemoryRecords } from '../adapters/destinations/memory.js';
import { noWait } from './support/engine.js';
import { destination } from './support/given.js';

const directory = mkdtempSync(join(tmpdir(), 'syncline-store-reads-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

let opened = 0;
const stores: [string, () => EventStore, string][] = [
  ['memory', openMemoryEventStore, 'the memory store is closed'],
  [
    'SQLite',
    () => {
      const r = openSqliteStore(join(directory, `closed-${++opened}.db`));
      if (E.isLeft(r)) throw new Error(JSON.stringify(r.left));
      return r.right;
    },
    'the SQLite store is closed',
  ],
];

/** What a read ended with: its answer, or what it threw or rejected with. */
const ending = async (read: () => Promise<unknown>): Promise<unknown> => {
  try {
    return { answered: await read() };
  } catch (e) {
    return e;
  }
};

const drained = async (events: AsyncIterable<unknown>): Promise<unknown[]> => {
  const out: unknown[] = [];
  for await (const e of events) out.push(e);
  return out;
};

const failedWith = (failure: StoreError): unknown =>
  expect.objectContaining({ name: 'StoreReadFailed', failure }) as unknown;

describe.each(stores)('the %s store, closed', (_, open, message) => {
  const closed = async (): Promise<EventStore> => {
    const store = open();
    await store.append([{ stream: 'profile-p1', expected: 'any', events: [{ type: 'X', data: {} }] }])();
    await store.close();
    return store;
  };
  const unavailable: StoreError = { _tag: 'StoreUnavailable', message };

  it.each([
    ['head', (s: EventStore) => s.head()],
    ['streamRevision', (s: EventStore) => s.streamRevision('profile-p1')],
    ['knownIds', (s: EventStore) => s.knownIds(['a'])],
    ['readByIds', (s: EventStore) => s.readByIds(['a'])],
    ['getCheckpoint', (s: EventStore) => s.getCheckpoint('c')],
    ['readAll', (s: EventStore) => drained(s.readAll())],
    ['readStream', (s: EventStore) => drained(s.readStream('profile-p1'))],
    ['readTagged', (s: EventStore) => drained(s.readTagged('t'))],
  ])('when %s is asked, then it ends with StoreReadFailed carrying StoreUnavailable', async (__, read) => {
    const store = await closed();
    const e = await ending(() => read(store));
    expect(e).toBeInstanceOf(StoreReadFailed);
    expect(e).toEqual(failedWith(unavailable));
  });

  it('when the engine catches up from it or syncs, then each rejects with that StoreReadFailed, a value the CLI words', async () => {
    const store = await closed();
    await expect(catchUp(store, initialState())).rejects.toEqual(failedWith(unavailable));
    const crm = destination({ mode: 'sync' });
    await expect(
      syncDestination(store, initialState(), 'crm', createMemoryRecords().destination(crm), noWait),
    ).rejects.toEqual(failedWith(unavailable));
  });
});

describe('the SQLite store, when its disk fails a read', () => {
  const ioError = () => new Database.SqliteError('disk I/O error', 'SQLITE_IOERR_READ');
  const failing = {
    get: () => {
      throw ioError();
    },
    all: () => {
      throw ioError();
    },
  };
  // Every statement fails as a disk would; the connection is open.
  const connection = {
    db: { open: true },
    statements: new Proxy({}, { get: () => failing }),
  } as unknown as Connection;
  const reads = sqliteReads(connection, 10);
  const unavailable: StoreError = {
    _tag: 'StoreUnavailable',
    message: 'SQLite store unavailable (SQLITE_IOERR_READ): disk I/O error',
  };

  it.each([
    ['head', () => reads.head()],
    ['streamRevision', () => reads.streamRevision('profile-p1')],
    ['knownIds', () => reads.knownIds(['a'])],
    ['readByIds', () => reads.readByIds(['a'])],
    ['readAll', () => drained(reads.readAll())],
    ['readStream', () => drained(reads.readStream('profile-p1'))],
    ['readTagged', () => drained(reads.readTagged('t'))],
  ])(
    'given %s, then it ends with StoreReadFailed naming the failure, not the SQLite exception',
    async (__, read) => {
      const e = await ending(read);
      expect(e).toBeInstanceOf(StoreReadFailed);
      expect(e).toEqual(failedWith(unavailable));
    },
  );
});
