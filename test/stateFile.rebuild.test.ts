// Opening a state file that cannot be used as it is: missing, of another format, saved against a
// store that does not hold its position's event, or not a database at all. Each is built afresh,
// says so when there is something to fold, and catching up then gives the state of a fold in memory.
import { readFileSync, writeFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { beforeAll, describe, expect, it } from 'vitest';
import type { EventStore, StoredEvent } from '../engine/ports.js';
import { applyStored, initialState } from '../engine/state/engineState.js';
import { openMemoryEventStore } from '../adapters/stores/memory.js';
import { collect } from './contract/eventStoreHelpers.js';
import { history } from './support/richHistory.js';
import { projectionsOf } from './support/stateProjections.js';
import { caughtUp, foldOf, opened, saved, stateDirPerSpec, storeOf } from './support/stateFiles.js';

const dir = stateDirPerSpec();

let store: EventStore;
let events: StoredEvent[] = [];
beforeAll(async () => {
  store = (await history()).store;
  events = await collect(store.readAll());
});

/** A state file at `path` holding the fold of the first `p` events of the history, closed. */
const givenSavedAt = async (path: string, p: number): Promise<void> => {
  const { file } = await opened(path, storeOf(events));
  for (const e of events.slice(0, p)) applyStored(file.state, e);
  expect(saved(file)).toBe('saved');
  file.close();
};

/** What the empty state looks like: a rebuilt file must hold nothing of what it held before. */
const EMPTY = projectionsOf(initialState());

/** Opens the file against `against`, checks it came back empty with `notice`, catches up and compares. */
const expectRebuilt = async (path: string, against: EventStore, notice: string | undefined) => {
  const { file, notice: said } = await opened(path, against);
  try {
    expect(said).toBe(notice);
    expect(projectionsOf(file.state)).toStrictEqual(EMPTY);
    await caughtUp(against, file.state);
    const fold = foldOf(await collect(against.readAll()));
    expect(projectionsOf(file.state)).toStrictEqual(projectionsOf(fold));
    saved(file);
  } finally {
    file.close();
  }
  const again = await opened(path, against);
  expect(again.notice).toBeUndefined();
  expect(projectionsOf(again.file.state)).toStrictEqual(
    projectionsOf(foldOf(await collect(against.readAll()))),
  );
  again.file.close();
};

describe('opening a state file', () => {
  it('given no file and a store with events, when it is opened, then it is made, says it is built from the store, and catching up gives the fold', async () => {
    const path = dir.path('missing/deeper/state.db');
    await expectRebuilt(path, store, `building the engine state in ${path} from the store`);
  });

  it('given no file and an empty store, when it is opened, then it is made without a notice', async () => {
    const path = dir.path('state.db');
    await expectRebuilt(path, openMemoryEventStore(), undefined);
  });

  it('given a file saved at a position of this store, when it is opened, then it holds that state and says nothing (the case every rebuild is told apart from)', async () => {
    const path = dir.path('state.db');
    await givenSavedAt(path, 20);
    const { file, notice } = await opened(path, store);
    expect(notice).toBeUndefined();
    expect(projectionsOf(file.state)).toStrictEqual(projectionsOf(foldOf(events.slice(0, 20))));
    file.close();
  });

  it('given a file saved before the machine last started (saves do not wait for the disk), when it is opened, then it is emptied with a notice, and catching up gives the fold', async () => {
    const path = dir.path('state.db');
    await givenSavedAt(path, 20);
    const db = new Database(path);
    db.prepare(`UPDATE meta SET value = 'another boot' WHERE name = 'boot'`).run();
    db.close();
    await expectRebuilt(
      path,
      store,
      `the engine state in ${path} was saved before the machine last started, without waiting for ` +
        'the disk (so a stop may have cut it short): folding it again from the store',
    );
  });

  it('given saves that wait for the disk (SYNCLINE_STATE_SYNCHRONOUS=NORMAL) and a file saved before the machine last started, when it is opened, then it holds its state and says nothing', async () => {
    const path = dir.path('state.db');
    process.env.SYNCLINE_STATE_SYNCHRONOUS = 'NORMAL';
    try {
      await givenSavedAt(path, 20);
      const db = new Database(path);
      db.prepare(`UPDATE meta SET value = 'another boot' WHERE name = 'boot'`).run();
      db.close();
      const { file, notice } = await opened(path, store);
      expect(notice).toBeUndefined();
      expect(projectionsOf(file.state)).toStrictEqual(projectionsOf(foldOf(events.slice(0, 20))));
      file.close();
    } finally {
      delete process.env.SYNCLINE_STATE_SYNCHRONOUS;
    }
  });

  it('given a file of another format, when it is opened, then it is emptied with a notice, and catching up gives the fold', async () => {
    const path = dir.path('state.db');
    await givenSavedAt(path, 20);
    const db = new Database(path);
    db.prepare(`UPDATE meta SET value = 999 WHERE name = 'format'`).run();
    db.close();
    await expectRebuilt(
      path,
      store,
      `the engine state in ${path} is of another version of syncline: building it again from the store`,
    );
  });

  it('given a file whose meta has no format at all, when it is opened, then it is rebuilt as one of another format', async () => {
    const path = dir.path('state.db');
    await givenSavedAt(path, 20);
    const db = new Database(path);
    db.prepare(`DELETE FROM meta WHERE name = 'format'`).run();
    db.close();
    await expectRebuilt(
      path,
      store,
      `the engine state in ${path} is of another version of syncline: building it again from the store`,
    );
  });

  it('given a file saved against another store, when it is opened against this one, then it is emptied with a notice naming the position, and catching up gives this store`s fold', async () => {
    const path = dir.path('state.db');
    await givenSavedAt(path, 20);
    // The same events appended again: same positions and data, other ids.
    const other = (await history()).store;
    await expectRebuilt(
      path,
      other,
      `the engine state in ${path} was saved at position 20, which this store does not hold as it was ` +
        '(a store restored from a backup, or another store): folding it again from the store',
    );
  });

  it('given a file saved at a position past the end of the store (a store restored from an older backup), when it is opened, then it is emptied with the notice, and catching up gives the shorter store`s fold', async () => {
    const path = dir.path('state.db');
    await givenSavedAt(path, 30);
    const restored = storeOf(events.slice(0, 25));
    await expectRebuilt(
      path,
      restored,
      `the engine state in ${path} was saved at position 30, which this store does not hold as it was ` +
        '(a store restored from a backup, or another store): folding it again from the store',
    );
  });

  it.each([
    ['a few bytes', Buffer.from('not a database')],
    ['a page of noise', Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919 + 13) % 256))],
    [
      'noise after a database header',
      Buffer.concat([Buffer.from('SQLite format 3\0'), Buffer.alloc(8192, 0xab)]),
    ],
  ])(
    'given a file of %s, when it is opened, then it is built again with a notice, and catching up gives the fold',
    async (_, bytes) => {
      const path = dir.path('state.db');
      writeFileSync(path, bytes);
      await expectRebuilt(
        path,
        store,
        `the engine state in ${path} could not be read: building it again from the store`,
      );
    },
  );

  it.each([0, 1])(
    'given a saved state file whose page %i (the schema and the meta) is overwritten with noise, when it is opened, then it is built again with a notice, and catching up gives the fold',
    async (page) => {
      const path = dir.path('state.db');
      await givenSavedAt(path, events.length);
      // The save's pages are in the file's log, which a close leaves (see closeKeepingLog): moved into
      // the file first, so that the damage is to the pages SQLite reads.
      const db = new Database(path);
      db.pragma('wal_checkpoint(TRUNCATE)');
      db.close();
      const bytes = readFileSync(path);
      const pageSize = bytes.readUInt16BE(16);
      bytes.fill(0xab, page === 0 ? 100 : pageSize * page, pageSize * (page + 1));
      writeFileSync(path, bytes);
      await expectRebuilt(
        path,
        store,
        `the engine state in ${path} could not be read: building it again from the store`,
      );
    },
  );

  it.each([
    ['not JSON', `'x'`, 'is not JSON'],
    ['another command', `'{"commandId":"someone else"}'`, 'is not the command it is filed under'],
  ])(
    'given a pending command row that is %s, when the file is opened, then it throws StateDamaged naming the row (the command then says --rebuild-state)',
    async (_, value, problem) => {
      const path = dir.path('state.db');
      // The first prefix whose fold leaves a command pending: its row is written with the save.
      const p = events.findIndex((_e, i) =>
        [...foldOf(events.slice(0, i + 1)).destinations.values()].some((v) => v.ledger.pending.size > 0),
      );
      expect(p).toBeGreaterThan(0);
      await givenSavedAt(path, p + 1);
      const db = new Database(path);
      const key = db.prepare(`SELECT key FROM pending LIMIT 1`).pluck().get() as string;
      db.prepare(`UPDATE pending SET value = ${value}`).run();
      db.close();
      await expect(opened(path, store)).rejects.toThrow(`the engine state's pending row "${key}" ${problem}`);
    },
  );
});
