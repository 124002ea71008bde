// Two processes on one state file (two connections stand in for them): the first to save wins, the
// other learns its save was lost, takes up the winner's state and catches up; the file never holds a
// mixture of the two. And a save that fails halfway leaves nothing of itself behind.
import Database from 'better-sqlite3';
import * as E from 'fp-ts/lib/Either.js';
import { beforeAll, describe, expect, it } from 'vitest';
import type { StateFile } from '../adapters/state/stateFile.js';
import type { EventStore, StoredEvent } from '../engine/ports.js';
import { applyStored } from '../engine/state/engineState.js';
import { collect } from './contract/eventStoreHelpers.js';
import { history } from './support/richHistory.js';
import { projectionsOf } from './support/stateProjections.js';
import { caughtUp, foldOf, opened, saved, stateDirPerSpec } from './support/stateFiles.js';

const dir = stateDirPerSpec();

let store: EventStore;
let events: StoredEvent[] = [];
beforeAll(async () => {
  store = (await history()).store;
  events = await collect(store.readAll());
});

const foldTo = (file: StateFile, p: number): void => {
  for (const e of events.slice(file.state.position, p)) applyStored(file.state, e);
};

/** What the file holds now, read by a third process that opens it afresh: the fold at its position. */
const expectWhole = async (path: string): Promise<number> => {
  const { file, notice } = await opened(path, store);
  try {
    expect(notice).toBeUndefined();
    expect(projectionsOf(file.state), `the file at ${file.state.position}`).toStrictEqual(
      projectionsOf(foldOf(events.slice(0, file.state.position))),
    );
    return file.state.position;
  } finally {
    file.close();
  }
};

describe('two processes on one state file', () => {
  it('given a second process that folded nothing since its last save, when the first saves and the second saves again, then the second finds nothing to save and takes up the first`s state, so that no snapshot is held across the other`s saves', async () => {
    const path = dir.path('state.db');
    const a = (await opened(path, store)).file;
    const b = (await opened(path, store)).file;
    try {
      foldTo(a, 12);
      expect(saved(a)).toBe('saved');
      expect(b.state.position).toBe(0);
      expect(saved(b)).toBe('unchanged');
      expect(b.realigned).toBe(1);
      expect(b.isStale).toBe(false);
      expect(projectionsOf(b.state)).toStrictEqual(projectionsOf(foldOf(events.slice(0, 12))));
      // Nothing saved by anyone since: a second idle save takes nothing up.
      expect(saved(b)).toBe('unchanged');
      expect(b.realigned).toBe(1);
      foldTo(b, 20);
      expect(saved(b)).toBe('saved');
      expect(await expectWhole(path)).toBe(20);
    } finally {
      a.close();
      b.close();
    }
  });

  it.each([
    [10, 25],
    [25, 10],
    [20, 20],
  ])(
    'given both folded (to %i and %i), when the first saves and then the second, then the second`s save is lost and it is stale; after realign and a catch-up it holds the fold and saves; the file holds one or the other, never a mixture',
    async (first, second) => {
      const path = dir.path('state.db');
      const a = (await opened(path, store)).file;
      const b = (await opened(path, store)).file;
      try {
        foldTo(a, first);
        foldTo(b, second);
        expect(saved(a)).toBe('saved');
        expect(await expectWhole(path)).toBe(first);
        expect(b.isStale).toBe(false);
        expect(saved(b)).toBe('lost');
        expect(b.isStale).toBe(true);
        // Lost stays lost until realign: nothing of b's reaches the file.
        foldTo(b, second + 3);
        expect(saved(b)).toBe('lost');
        expect(await expectWhole(path)).toBe(first);
        b.realign();
        expect(b.isStale).toBe(false);
        expect(projectionsOf(b.state)).toStrictEqual(projectionsOf(foldOf(events.slice(0, first))));
        await caughtUp(store, b.state);
        expect(projectionsOf(b.state)).toStrictEqual(projectionsOf(foldOf(events)));
        expect(saved(b)).toBe('saved');
        expect(await expectWhole(path)).toBe(events.length);
        // And now a, whose snapshot is older than b's save, loses in turn.
        foldTo(a, first + 1);
        expect(saved(a)).toBe('lost');
        a.realign();
        expect(a.state.position).toBe(events.length);
        expect(projectionsOf(a.state)).toStrictEqual(projectionsOf(foldOf(events)));
        expect(saved(a)).toBe('unchanged');
      } finally {
        a.close();
        b.close();
      }
    },
  );

  it('given the two alternate folding and saving through the whole history, then every save of the one that did not save last is lost, each realigned state is the fold at its position, and the file always holds a whole state', async () => {
    const path = dir.path('state.db');
    const files = [(await opened(path, store)).file, (await opened(path, store)).file];
    try {
      let turn = 0;
      while (files.some((f) => f.state.position < events.length)) {
        const f = files[turn % 2]!;
        turn++;
        foldTo(f, Math.min(events.length, f.state.position + 1 + (turn % 5)));
        const result = saved(f);
        if (result === 'lost') {
          f.realign();
          expect(projectionsOf(f.state)).toStrictEqual(
            projectionsOf(foldOf(events.slice(0, f.state.position))),
          );
        }
        await expectWhole(path);
      }
    } finally {
      for (const f of files) f.close();
    }
  });
});

describe('a save that fails halfway', () => {
  /**
   * A trigger in the file refuses the save's last write (the position) while `fault` says so, as a
   * full disk would; another connection clears the fault, which is itself a save by another process.
   */
  const givenFaultyFile = async (
    path: string,
    raise: 'ABORT' | 'ROLLBACK',
  ): Promise<{ file: StateFile; clear: () => void }> => {
    (await opened(path, store)).file.close();
    const db = new Database(path);
    db.exec(`CREATE TABLE fault (active INTEGER);
      INSERT INTO fault VALUES (1);
      CREATE TRIGGER refuse BEFORE UPDATE ON meta WHEN NEW.name = 'position' AND (SELECT active FROM fault) = 1
      BEGIN SELECT RAISE(${raise}, 'the disk is full'); END;`);
    db.close();
    const { file } = await opened(path, store);
    const clear = () => {
      const other = new Database(path);
      other.exec(`UPDATE fault SET active = 0`);
      other.close();
    };
    return { file, clear };
  };

  // ABORT undoes the statement, as most errors do; ROLLBACK the whole transaction, as SQLite itself
  // does on a full disk (SQLITE_FULL) or an I/O error, leaving no transaction to roll back.
  it.each(['ABORT', 'ROLLBACK'] as const)(
    'given a fold of destinations new since the last save whose save fails (%s), then the save answers StateFailed and the file is stale; when it realigns, catches up and saves, then the file holds the whole fold, the destinations` rows and pending commands included',
    async (raise) => {
      const path = dir.path('state.db');
      const { file, clear } = await givenFaultyFile(path, raise);
      try {
        foldTo(file, events.length);
        const r = file.save();
        expect(E.isLeft(r) && r.left.message).toBe('the disk is full');
        expect(file.isStale).toBe(true);
        clear();
        file.realign();
        expect(file.state.position).toBe(0);
        await caughtUp(store, file.state);
        expect(saved(file)).toBe('saved');
      } finally {
        file.close();
      }
      expect(await expectWhole(path)).toBe(events.length);
    },
  );
});
