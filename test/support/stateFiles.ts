// State files for the specs: a fresh directory per spec, a state file opened or failing the spec, and
// the in-memory fold the file's state must equal, from the same stored events.
import { afterEach, beforeEach } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import { openStateFile, type OpenedState } from '../../adapters/state/open.js';
import type { SaveResult, StateFile } from '../../adapters/state/stateFile.js';
import type { EventStore, StoredEvent } from '../../engine/ports.js';
import { applyStored, catchUp, initialState, type EngineState } from '../../engine/state/engineState.js';

/** The state of folding `events` in memory, from the first. */
export const foldOf = (events: readonly StoredEvent[]): EngineState => {
  const s = initialState();
  for (const e of events) applyStored(s, e);
  return s;
};

/** A directory of its own, and a way to remove it. */
export const stateDir = (): { readonly path: (name: string) => string; readonly remove: () => void } => {
  const dir = mkdtempSync(join(tmpdir(), 'syncline-state-'));
  return { path: (name) => join(dir, name), remove: () => rmSync(dir, { recursive: true, force: true }) };
};

/** A directory of its own for each spec of the file, made before it and removed after it. */
export const stateDirPerSpec = (): { readonly path: (name: string) => string } => {
  let current: ReturnType<typeof stateDir> | undefined;
  beforeEach(() => {
    current = stateDir();
  });
  afterEach(() => current?.remove());
  return {
    path: (name) => {
      if (current === undefined) throw new Error('a state directory is only there while a spec runs');
      return current.path(name);
    },
  };
};

/** The state file at `path` for `store`, failing the spec when it cannot be opened. */
export const opened = async (path: string, store: EventStore): Promise<OpenedState> => {
  const r = await openStateFile(path, store);
  if (E.isLeft(r)) throw new Error(`the state file did not open: ${r.left.message}`);
  return r.right;
};

/** Saves, failing the spec when the save fails (a lost save is an answer, not a failure). */
export const saved = (file: StateFile): SaveResult => {
  const r = file.save();
  if (E.isLeft(r)) throw new Error(`the state file was not saved: ${r.left.message}`);
  return r.right;
};

/** Catches the state up with the store, failing the spec when the store holds an invalid event. */
export const caughtUp = async (store: EventStore, s: EngineState): Promise<EngineState> => {
  const r = await catchUp(store, s);
  if (E.isLeft(r)) throw new Error(`the catch-up stopped: ${JSON.stringify(r.left)}`);
  return r.right;
};

/** A seeded generator of numbers in [0, 1) (mulberry32): a failing spec names its seed. */
export const seeded = (seed: number): (() => number) => {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
};

/** A store that holds `events` as given (ids and all), for opening a state file against them. */
export const storeOf = (events: readonly StoredEvent[]): EventStore =>
  ({
    readAll: async function* (after = 0) {
      await Promise.resolve();
      yield* events.slice(after);
    },
  }) as Partial<EventStore> as EventStore;
