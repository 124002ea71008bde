// A process folding into a state file killed with SIGKILL at random moments: the file always opens,
// at one of the positions it was saved at, holding exactly the fold of the events up to there.
// The child runs the built dist/ (npm run build first, as for the CLI specs).
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import * as E from 'fp-ts/lib/Either.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStateFile } from '../adapters/state/open.js';
import type { DestinationConfig } from '../domain/destination.js';
import { streamOf, type InputEvent } from '../domain/events.js';
import { applyConfig } from '../engine/input/configure.js';
import type { StoredEvent } from '../engine/ports.js';
import { syncDestination } from '../engine/sync/run.js';
import { collect } from './contract/eventStoreHelpers.js';
import { givenEngine, noWait } from './support/engine.js';
import {
  changed,
  created,
  deleted,
  destination,
  groupCreated,
  inGroup,
  joined,
  left,
} from './support/given.js';
import { projectionsOf } from './support/stateProjections.js';
import { foldOf, seeded, stateDir, storeOf } from './support/stateFiles.js';

const BUILT = (path: string): string => new URL(`../dist/${path}`, import.meta.url).href;

/**
 * The folding process: `node <script> <events.json> <state file> <step>` opens the state file, folds
 * the events after its position and saves at every multiple of the step and at the end. It prints
 * `opened <position>` once the file is open, `saved <position>` after each save, `done` at the end.
 */
const FOLDER_SCRIPT = `
import { readFileSync } from 'node:fs';
const { openStateFile } = await import(${JSON.stringify(BUILT('adapters/state/open.js'))});
const { applyStored } = await import(${JSON.stringify(BUILT('engine/state/engineState.js'))});
const [eventsFile, statePath, stepText] = process.argv.slice(2);
const events = JSON.parse(readFileSync(eventsFile, 'utf8'));
const step = Number(stepText);
// openStateFile reads the store only to check the event at the saved position.
const store = { readAll: async function* (after = 0) { yield* events.slice(after); } };
const say = (line) => process.stdout.write(line + '\\n');
const saved = (file) => {
  const r = file.save();
  if (r._tag === 'Left') throw new Error('save failed: ' + r.left.message);
  if (r.right === 'saved') say('saved ' + file.state.position);
};
const opened = await openStateFile(statePath, store);
if (opened._tag === 'Left') throw new Error('open failed: ' + opened.left.message);
const { file } = opened.right;
say('opened ' + file.state.position);
for (const e of events.slice(file.state.position)) {
  applyStored(file.state, e);
  if (e.position % step === 0) saved(file);
}
saved(file);
file.close();
say('done');
`;
/** the script, written beside the events */
let folder = '';
const PROFILES = 20_000;
/** The child saves at every multiple of this position, and at the end. */
const STEP = 1_000;
const TRIALS = 8;

const crm = destination({ mode: 'sync', collection: inGroup('vip') });
const mailer: DestinationConfig = { ...destination({ mode: 'additive' }), destinationId: 'mailer' };

/**
 * Profiles created and put in groups, both destinations synced, then changes that move keys between
 * profiles (every twentieth takes another's email), leave a group or delete profiles, synced again
 * with a record the destination refuses, and more changes left unsynced.
 */
const largeHistory = async (): Promise<StoredEvent[]> => {
  const w = await givenEngine(crm);
  const r = await applyConfig(w.store, w.state, [crm, mailer], false);
  if (E.isLeft(r)) throw new Error(JSON.stringify(r.left));
  const happen = async (events: InputEvent[]) => {
    for (let i = 0; i < events.length; i += 1_000) {
      const writes = events
        .slice(i, i + 1_000)
        .map((e) => ({ stream: streamOf(e), events: [e], expected: 'any' as const }));
      const res = await w.store.append(writes)();
      if (E.isLeft(res)) throw new Error(JSON.stringify(res.left));
    }
  };
  const ids = Array.from({ length: PROFILES }, (_, i) => `p${i}`);
  const syncBoth = async () => {
    for (const d of [crm, mailer]) {
      const res = await syncDestination(
        w.store,
        w.state,
        d.destinationId,
        w.destination.destination(d),
        noWait,
      );
      if (E.isLeft(res)) throw new Error(JSON.stringify(res.left));
    }
  };
  await happen([groupCreated('vip'), groupCreated('newsletter')]);
  await happen(
    ids.map((id, i) => created(id, { email: `${id}@x.io`, firstName: `F${i % 97}`, lifetimeValue: i })),
  );
  await happen(ids.flatMap((id, i) => [joined(id, i % 3 === 0 ? 'newsletter' : 'vip')]));
  await syncBoth();
  w.destination.failNextApplies('p7@x.io', 1, { retryable: false, message: 'rejected' });
  await happen([
    changed('p7', { lifetimeValue: -1 }),
    ...ids.filter((_, i) => i % 20 === 1).map((id, i) => changed(id, { email: `p${i * 20}@x.io` })),
    ...ids.filter((_, i) => i % 50 === 2).map((id) => left(id, 'vip')),
    ...ids.filter((_, i) => i % 100 === 5).map(deleted),
  ]);
  await syncBoth();
  await happen(ids.filter((_, i) => i % 10 === 3).map((id) => changed(id, { firstName: 'Later' })));
  return collect(w.store.readAll());
};

type Child = {
  readonly opened: Promise<void>;
  readonly exited: Promise<{ signal: string | null; code: number | null; stderr: string }>;
  /** the positions the child said it saved at */
  readonly saves: number[];
  readonly kill: () => void;
};

const fold = (eventsFile: string, path: string): Child => {
  const child = spawn(process.execPath, [folder, eventsFile, path, String(STEP)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const saves: number[] = [];
  let out = '';
  let err = '';
  let onOpened: () => void = () => undefined;
  const opened = new Promise<void>((resolve) => (onOpened = resolve));
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
    const lines = out.split('\n');
    out = lines.pop() ?? '';
    for (const line of lines) {
      if (line.startsWith('opened')) onOpened();
      const saved = /^saved (\d+)$/.exec(line);
      if (saved) saves.push(Number(saved[1]));
    }
  });
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const exited = new Promise<{ signal: string | null; code: number | null; stderr: string }>((resolve) =>
    child.on('exit', (code, signal) => {
      onOpened();
      resolve({ code, signal, stderr: err });
    }),
  );
  return { opened, exited, saves, kill: () => child.kill('SIGKILL') };
};

describe('a process folding into a state file killed with SIGKILL', () => {
  let events: StoredEvent[] = [];
  let dir: ReturnType<typeof stateDir>;
  let eventsFile = '';
  /** how long the child takes to fold the whole history, measured on an uninterrupted run */
  let foldMs = 0;
  const savePoints = new Set<number>();

  beforeAll(async () => {
    events = await largeHistory();
    dir = stateDir();
    eventsFile = dir.path('events.json');
    writeFileSync(eventsFile, JSON.stringify(events));
    folder = dir.path('folder.mjs');
    writeFileSync(folder, FOLDER_SCRIPT);
    for (let p = STEP; p <= events.length; p += STEP) savePoints.add(p);
    savePoints.add(events.length);
  }, 120_000);
  afterAll(() => dir.remove());

  /** Some profiles to compare, and the positions around `p` and the runs to compare touches at. */
  const sample = (p: number) => ({
    profiles: Array.from({ length: 400 }, (_, i) => `p${(i * 49) % PROFILES}`),
    touchedAfter: [0, 1, STEP, p - STEP, p - 1, p, Math.floor(p / 2), events.length].filter(
      (k) => k >= 0 && k <= p,
    ),
  });

  /** Opens the file the kill left and checks it: a save point, and the fold of the events up to there. */
  const expectSound = async (path: string, reported: readonly number[]): Promise<number> => {
    const r = await openStateFile(path, storeOf(events));
    if (E.isLeft(r)) throw new Error(`the killed file did not open: ${r.left.message}`);
    const { file } = r.right;
    try {
      const p = file.state.position;
      if (p > 0) expect(r.right.notice).toBeUndefined();
      expect(p === 0 || savePoints.has(p), `position ${p} is a save point`).toBe(true);
      expect(p).toBeGreaterThanOrEqual(Math.max(0, ...reported));
      const memory = foldOf(events.slice(0, p));
      expect(projectionsOf(file.state, sample(p)), `the file at ${p}`).toStrictEqual(
        projectionsOf(memory, sample(p)),
      );
      // Every profile's row, compared without the rest.
      expect([...file.state.world.profiles.entries()].sort(([a], [b]) => (a < b ? -1 : 1))).toStrictEqual(
        [...memory.world.profiles.entries()].sort(([a], [b]) => (a < b ? -1 : 1)),
      );
      return p;
    } finally {
      file.close();
    }
  };

  it('given an uninterrupted run, then the file holds the fold of the whole history (and the run is timed for the kills)', async () => {
    const path = dir.path('whole.db');
    const started = performance.now();
    const child = fold(eventsFile, path);
    await child.opened;
    const opened = performance.now();
    expect(await child.exited).toStrictEqual({ code: 0, signal: null, stderr: '' });
    foldMs = performance.now() - opened;
    console.log(
      `${events.length} events folded in ${foldMs.toFixed(0)} ms (${(opened - started).toFixed(0)} ms to open)`,
    );
    expect(child.saves.at(-1)).toBe(events.length);
    expect(await expectSound(path, child.saves)).toBe(events.length);
  });

  it.each(Array.from({ length: TRIALS }, (_, i) => i))(
    'given a fold killed at a random moment, and the fold taken up again and killed again (trial %i), then each time the file opens at a save point holding the fold up to there',
    async (trial) => {
      const random = seeded(trial + 1);
      const path = dir.path(`killed-${trial}.db`);
      let reported: number[] = [];
      for (const round of [0, 1]) {
        const child = fold(eventsFile, path);
        await child.opened;
        const delay = random() * foldMs * (round === 0 ? 1 : 0.6);
        await new Promise((resolve) => setTimeout(resolve, delay));
        child.kill();
        const exit = await child.exited;
        // Killed, or done before the kill came: never failed by itself.
        expect(exit.signal === 'SIGKILL' || exit.code === 0, exit.stderr).toBe(true);
        reported = [...reported, ...child.saves];
        const p = await expectSound(path, reported);
        console.log(
          `trial ${trial}, kill ${round}: ${delay.toFixed(0)} ms after opening (${exit.signal ?? 'finished'}), the file at ${p}`,
        );
      }
    },
  );
});
