// A run over everyone reads its candidates from the state file a page at a time: given a state file
// at any point of a history, its candidates are the fold in memory's, in the same order, and stay
// those of the run's start while the run folds and saves.
import { beforeAll, describe, expect, it } from 'vitest';
import { candidates, coverEveryEntry, type Candidates } from '../engine/sync/candidates.js';
import type { EventStore, StoredEvent } from '../engine/ports.js';
import { applyStored, type DestinationView, type EngineState } from '../engine/state/engineState.js';
import { collect } from './contract/eventStoreHelpers.js';
import { history } from './support/richHistory.js';
import { givenEngine, leftPending } from './support/engine.js';
import { created, destination, everyone } from './support/given.js';
import { caughtUp, foldOf, opened, saved, seeded, stateDirPerSpec } from './support/stateFiles.js';

const dir = stateDirPerSpec();

/** Every candidate, taken in batches of random sizes, as runs cut them. */
const taken = (picked: Candidates, random: () => number): string[] => {
  const out: string[] = [];
  for (;;) {
    const ids = picked.take(1 + Math.floor(random() * 7));
    if (ids.length === 0) break;
    out.push(...ids);
  }
  picked.close();
  return out;
};

const viewOf = (s: EngineState, id: string): DestinationView => {
  const v = s.destinations.get(id);
  if (v === undefined) throw new Error(`no destination ${id}`);
  return v;
};

describe('the candidates of a run over everyone, from the state file', () => {
  let store: EventStore;
  let events: StoredEvent[] = [];
  beforeAll(async () => {
    store = (await history()).store;
    events = await collect(store.readAll());
  });

  it('given every prefix of the rich history folded into a state file, saved or not, when a full run picks its candidates for each destination, then the file hands them out, and they are the fold in memory`s, in its order and count', async () => {
    const path = dir.path('state.db');
    const { file } = await opened(path, store);
    let streamed = 0;
    try {
      for (let p = 1; p <= events.length; p++) {
        applyStored(file.state, events[p - 1] as StoredEvent);
        if (p % 3 === 0) saved(file);
        const memory = foldOf(events.slice(0, p));
        for (const id of memory.destinations.keys()) {
          const random = seeded(p);
          const v = viewOf(file.state, id);
          const fromFile = candidates(file.state, v, true);
          const inMemory = candidates(memory, viewOf(memory, id), true);
          expect(fromFile.listed).toBeUndefined();
          streamed++;
          expect(fromFile.count).toBe(inMemory.count);
          expect(coverEveryEntry(fromFile)).toBe(true);
          expect(taken(fromFile, random)).toStrictEqual(taken(inMemory, random));
        }
      }
    } finally {
      file.close();
    }
    expect(streamed).toBeGreaterThan(events.length);
  });

  it('given candidates picked, when the run folds the rest of the history and saves between its batches, then the candidates it goes on taking are still those of its start', async () => {
    const path = dir.path('state.db');
    const { file } = await opened(path, store);
    try {
      const half = Math.floor(events.length / 2);
      for (const e of events.slice(0, half)) applyStored(file.state, e);
      const id = [...file.state.destinations.keys()][0] as string;
      const expected = taken(
        candidates(foldOf(events.slice(0, half)), viewOf(foldOf(events.slice(0, half)), id), true),
        () => 0,
      );
      const picked = candidates(file.state, viewOf(file.state, id), true);
      const first = picked.take(2);
      for (const e of events.slice(half)) {
        applyStored(file.state, e);
        saved(file);
      }
      expect([...first, ...taken(picked, () => 0.5)]).toStrictEqual(expected);
      expect(picked.count).toBe(expected.length);
    } finally {
      file.close();
    }
  });

  it('given another process saved after this one`s snapshot, when a run picks everyone, then the file hands out nothing and the run lists them from its own state, the same as in memory', async () => {
    const path = dir.path('state.db');
    const one = (await opened(path, store)).file;
    const other = (await opened(path, store)).file;
    try {
      for (const e of events) applyStored(other.state, e);
      expect(saved(other)).toBe('saved');
      const half = events.slice(0, Math.floor(events.length / 2));
      for (const e of half) applyStored(one.state, e);
      const id = [...one.state.destinations.keys()][0] as string;
      const picked = candidates(one.state, viewOf(one.state, id), true);
      expect(picked.listed).toBeDefined();
      expect(one.isStale).toBe(true);
      const memory = foldOf(half);
      expect(taken(picked, () => 0.3)).toStrictEqual(
        taken(candidates(memory, viewOf(memory, id), true), () => 0.3),
      );
    } finally {
      one.close();
      other.close();
    }
  });

  it('given ids whose code-unit and code-point orders differ, and a command left unsettled for a profile the world does not hold, when a full run picks everyone from the file, then they come in code-point order with that profile in its place, each once', async () => {
    const w = await givenEngine(destination({ mode: 'sync', collection: everyone }));
    const ids = ['p2', 'ｚ', '😀', 'Zed', 'éva', 'p10'];
    await w.happen(...ids.map((id) => created(id, { email: `${id}@x.io` })));
    const { file } = await opened(dir.path('state.db'), w.store);
    try {
      await caughtUp(w.store, file.state);
      const v = viewOf(file.state, w.config.destinationId);
      for (const profileId of ['ghost', 'p2']) leftPending(v, profileId);
      const picked = candidates(file.state, v, true);
      expect(picked.listed).toBeUndefined();
      expect(picked.count).toBe(7);
      expect(taken(picked, () => 0.2)).toStrictEqual(['Zed', 'ghost', 'p10', 'p2', 'éva', 'ｚ', '😀']);
    } finally {
      file.close();
    }
  });

  it('given more profiles than the file reads at a time, when taken in batches larger and smaller than its pages, then every id comes once in order; the keys answer whether they hold an id; and once closed or ended they hand out nothing more', async () => {
    const w = await givenEngine(destination({ mode: 'sync', collection: everyone }));
    const ids = Array.from({ length: 4_600 }, (_, i) => `p${String(i).padStart(5, '0')}`);
    await w.happen(...ids.map((id) => created(id, { email: `${id}@x.io` })));
    const { file } = await opened(dir.path('state.db'), w.store);
    try {
      await caughtUp(w.store, file.state);
      const keys = file.state.everyone?.(w.config.destinationId);
      if (keys === undefined) throw new Error('the file handed out no keys');
      expect(keys.count).toBe(ids.length);
      expect([keys.has('p00042'), keys.has('p99999')]).toStrictEqual([true, false]);
      const out: string[] = [];
      for (const n of [1, 2_500, 1_999, 3]) {
        const page = keys.next(n);
        expect(page).toHaveLength(n);
        out.push(...page);
      }
      out.push(...keys.next(5_000));
      expect(out).toStrictEqual(ids);
      expect(keys.next(10)).toStrictEqual([]);
      const again = file.state.everyone?.(w.config.destinationId);
      expect(again?.next(3)).toStrictEqual(ids.slice(0, 3));
      again?.close();
      expect(again?.next(3)).toStrictEqual([]);
    } finally {
      file.close();
    }
  });
});
