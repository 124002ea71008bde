// Snapshots of the engine's state: restoring one and folding on gives exactly the state a fold from
// the first event gives, at every position of a history with failures, retries, crashes and removals.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import * as E from 'fp-ts/lib/Either.js';
import { beforeAll, describe, expect, it } from 'vitest';
import type { EventStore, NewSnapshot, StoredEvent } from '../engine/ports.js';
import { ignoredWords, keepSnapshot, resume, snapshotDue } from '../engine/state/resume.js';
import { refusedWords, restoreState } from '../engine/state/restore.js';
import { SNAPSHOT_FORMAT, snapshotParts } from '../engine/state/snapshot.js';
import { applyStored, initialState, type EngineState } from '../engine/state/engineState.js';
import { collect, latestOf, success } from './contract/eventStoreHelpers.js';
import { pendingCommands } from '../projections/pending.js';
import { history } from './support/richHistory.js';

const foldOf = (events: readonly StoredEvent[]): EngineState => {
  const s = initialState();
  for (const e of events) applyStored(s, e);
  return s;
};

async function* fromList(parts: readonly string[]): AsyncIterable<string> {
  await Promise.resolve();
  yield* parts;
}

const restored = async (parts: readonly string[]): Promise<EngineState> => {
  const r = await restoreState(fromList(parts));
  if (E.isLeft(r)) throw new Error(`the snapshot was refused: ${refusedWords(r.left)}`);
  return r.right;
};

/** What resume folded, failing the spec if the store held an event that does not decode. */
const resumed = async (store: EventStore) => {
  const r = await resume(store);
  if (E.isLeft(r)) throw new Error(`the store was refused: ${JSON.stringify(r.left)}`);
  return r.right;
};

describe('a snapshot of the engine state', () => {
  let events: StoredEvent[] = [];
  beforeAll(async () => {
    events = await collect((await history()).store.readAll());
  });

  it('given the history, then it does reach every part of the state: commands pending from a dead run, failures, retries, an open run, a removed destination', () => {
    const seen = { carried: false, failures: false, retries: false, open: false, removed: false };
    for (let p = 0; p <= events.length; p++) {
      const s = foldOf(events.slice(0, p));
      const crmView = s.destinations.get('crm');
      const open = crmView?.ledger.open;
      seen.carried ||= [...(crmView ? pendingCommands(crmView.ledger.pending) : [])].some(
        (c) => open && c.runId !== open.runId,
      );
      seen.failures ||= (crmView?.ledger.failures.size ?? 0) > 0;
      seen.retries ||= (crmView?.ledger.retryRequested.size ?? 0) > 0;
      seen.open ||= crmView?.ledger.open != null;
      seen.removed ||= s.destinations.get('mailer')?.config === null;
    }
    expect(seen).toStrictEqual({ carried: true, failures: true, retries: true, open: true, removed: true });
  });

  it('given the state at any position, when its snapshot is restored, then it equals that state; and folding the rest onto it gives the state of the whole history', async () => {
    const whole = foldOf(events);
    for (let p = 0; p <= events.length; p++) {
      const s = foldOf(events.slice(0, p));
      const back = await restored([...snapshotParts(s)]);
      expect(back, `at position ${p}`).toStrictEqual(s);
      // Folding on shows what equality cannot: objects the fold shares (a ledger's open run is its
      // last run) must be shared again, or the next RunFinished would update only one of them.
      for (const e of events.slice(p)) applyStored(back, e);
      expect(back, `restored at ${p}, folded to the end`).toStrictEqual(whole);
    }
  });

  it('given a state with more profiles and touches than one part holds, then it is cut in parts and restored whole', async () => {
    const s = foldOf(events);
    for (let i = 0; i < 12_000; i++) {
      s.world.profiles.set(`bulk-${i}`, { properties: { email: `b${i}@x.io` }, groups: [], deleted: false });
      s.touches.add(s.position, `bulk-${i}`);
    }
    const parts = [...snapshotParts(s)];
    expect(parts.filter((p) => p.startsWith('["profiles"')).length).toBe(3);
    expect(parts.filter((p) => p.startsWith('["touches"')).length).toBe(3);
    const back = await restored(parts);
    expect(back.world.profiles).toStrictEqual(s.world.profiles);
    expect(back.touches).toStrictEqual(s.touches);
  });

  describe('when it is damaged, then it is refused with what is wrong, never half restored', () => {
    let parts: string[] = [];
    beforeAll(() => {
      parts = [...snapshotParts(foldOf(events))];
    });
    const refusal = async (damaged: readonly string[]): Promise<string> => {
      const r = await restoreState(fromList(damaged));
      if (E.isRight(r)) throw new Error('the damaged snapshot was restored');
      return refusedWords(r.left);
    };
    it('without its last part', async () => {
      expect(await refusal(parts.slice(0, -1))).toBe(
        `it ends after part ${parts.length - 1}, without its end`,
      );
    });
    it('without a part of profiles', async () => {
      const i = parts.findIndex((p) => p.startsWith('["profiles"'));
      expect(await refusal(parts.filter((_, j) => j !== i))).toMatch(
        /^it holds 0 profiles where its head says \d+$/,
      );
    });
    it('with a part that is not JSON', async () => {
      expect(await refusal([parts[0]!, '{"profiles', ...parts.slice(1)])).toMatch(/^part 2 is malformed: /);
    });
    it('with a part of an unknown kind', async () => {
      expect(await refusal([parts[0]!, '["mystery",[]]', ...parts.slice(1)])).toBe(
        'part 2 is of an unknown kind, "mystery"',
      );
    });
    it('with its head out of place', async () => {
      expect(await refusal([parts[1]!, parts[0]!, ...parts.slice(2)])).toMatch(
        /^part 1 \(\w+\) is out of place$/,
      );
    });
    it('with a head whose position is not a number', async () => {
      const head = JSON.parse(parts[0]!) as [string, Record<string, unknown>];
      const bad = JSON.stringify(['head', { ...head[1], position: 'ten' }]);
      expect(await refusal([bad, ...parts.slice(1)])).toMatch(/^part 1 \(head\): position: /);
    });
    it('with a ledger entry naming a set of fields its part does not list', async () => {
      const i = parts.findIndex((p) => p.startsWith('["entries"'));
      const [kind, fieldSets, groupSets, rows] = JSON.parse(parts[i]!) as [
        string,
        unknown[],
        unknown[],
        unknown[][],
      ];
      rows[0]![2] = fieldSets.length;
      const bad = JSON.stringify([kind, fieldSets, groupSets, rows]);
      expect(await refusal([...parts.slice(0, i), bad, ...parts.slice(i + 1)])).toBe(
        `part ${i + 1} (entries) gives ${String(rows[0]![0])} a set of names it does not list`,
      );
    });
    it('with a destination naming a run it does not list', async () => {
      const i = parts.findIndex((p) => p.startsWith('["destination"'));
      const [kind, head] = JSON.parse(parts[i]!) as [string, Record<string, unknown> & { runs: unknown[] }];
      const bad = JSON.stringify([kind, { ...head, lastRun: head.runs.length }]);
      expect(await refusal([...parts.slice(0, i), bad, ...parts.slice(i + 1)])).toBe(
        `part ${i + 1} (destination ${String(head.destinationId)}) refers to run ${head.runs.length} of the ${head.runs.length} it lists`,
      );
    });
    it('with nothing in it', async () => {
      expect(await refusal([])).toBe('it has no parts');
    });
  });
});

describe('resuming from a store', () => {
  /** The history's store with a snapshot kept at `position`: the fold up to there, unless `over` says otherwise. */
  const givenSnapshot = async (
    position: (events: readonly StoredEvent[]) => number,
    over: (events: readonly StoredEvent[]) => Partial<NewSnapshot> = () => ({}),
  ) => {
    const w = await history();
    const events = await collect(w.store.readAll());
    const at = position(events);
    await success(
      w.store.snapshots.keep({
        format: SNAPSHOT_FORMAT,
        position: at,
        eventId: events[at - 1]!.id,
        parts: snapshotParts(foldOf(events.slice(0, at))),
        ...over(events),
      }),
    );
    return { store: w.store, events, at };
  };

  it('given a snapshot kept halfway, when a process resumes, then it starts from it and ends with the state of a whole fold', async () => {
    const { store, events, at } = await givenSnapshot((events) => Math.floor(events.length / 2));
    const r = await resumed(store);
    expect(r.from?.position).toBe(at);
    expect(r.ignored).toBeUndefined();
    expect(r.folded).toBe(foldOf(events.slice(0, at)).folded);
    expect(r.state).toStrictEqual(foldOf(events));
  });

  it('given a snapshot taken after another event than the one the store holds at its position, when a process resumes, then it says so and folds the whole store', async () => {
    const { store, events } = await givenSnapshot(
      () => 5,
      () => ({ eventId: 'not-the-fifth-event' }),
    );
    const r = await resumed(store);
    expect(r.from).toBeNull();
    expect(r.ignored && ignoredWords(r.ignored)).toBe(
      'the snapshot taken at position 5 does not match the store: the event there is not the one it was taken after',
    );
    expect(r.state).toStrictEqual(foldOf(events));
  });

  it('given a damaged snapshot, when a process resumes, then it names the damage and folds the whole store', async () => {
    const partsAt8 = (events: readonly StoredEvent[]) => [...snapshotParts(foldOf(events.slice(0, 8)))];
    const { store, events } = await givenSnapshot(
      () => 8,
      (events) => ({ parts: partsAt8(events).slice(0, -1) }),
    );
    const r = await resumed(store);
    expect(r.ignored && ignoredWords(r.ignored)).toBe(
      `the snapshot taken at position 8 cannot be read: it ends after part ${partsAt8(events).length - 1}, without its end`,
    );
    expect(r.state).toStrictEqual(foldOf(events));
  });

  it('given a snapshot of another format only, when a process resumes, then it folds the whole store without complaint', async () => {
    const { store } = await givenSnapshot(
      () => 1,
      () => ({ format: SNAPSHOT_FORMAT + 1, parts: ['?'] }),
    );
    const r = await resumed(store);
    expect(r).toMatchObject({ from: null, folded: 0 });
    expect(r.ignored).toBeUndefined();
  });

  it('given little folded since the last snapshot, when a snapshot is offered, then none is kept; given enough, one is, at the end of the store', async () => {
    const w = await history();
    expect(await success(() => keepSnapshot(w.store, w.state, 0))).toBe(false);
    expect(await latestOf(w.store, SNAPSHOT_FORMAT)).toBeNull();
    w.state.folded += 20_000;
    expect(await success(() => keepSnapshot(w.store, w.state, 0))).toBe(true);
    const kept = await latestOf(w.store, SNAPSHOT_FORMAT);
    expect(kept?.position).toBe(await w.store.head());
    expect((await resumed(w.store)).state).toStrictEqual(w.state);
  });

  it('snapshotDue: at least 20,000 folded since the last, and at least half as many as there are profiles', () => {
    const s = initialState();
    s.position = 1;
    s.folded = 30_000;
    expect(snapshotDue(s, 0)).toBe(true);
    expect(snapshotDue(s, 10_001)).toBe(false);
    for (let i = 0; i < 100_000; i++)
      s.world.profiles.set(`p${i}`, { properties: {}, groups: [], deleted: false });
    expect(snapshotDue(s, 0)).toBe(false);
    s.folded = 50_000;
    expect(snapshotDue(s, 0)).toBe(true);
    expect(snapshotDue({ ...initialState(), folded: 1e6 }, 0)).toBe(false);
  });
});

/*
 * Snapshots of SNAPSHOT_FORMAT are read back by every later build, so what a snapshot holds may
 * change only with a new format. A fixed history (test/golden/snapshot-history.json: stored events,
 * normalised) is snapshot at three positions, and the parts must be those recorded for the format in
 * test/golden/snapshot-format-<n>.json. A change to the folds, the state or the parts that alters a
 * snapshot fails here until SNAPSHOT_FORMAT is bumped and the parts of the new format are recorded:
 * `SYNCLINE_RECORD_GOLDEN=1 npx vitest run test/snapshot.test.ts` writes them.
 */
describe('the snapshot format', () => {
  const golden = (name: string) => new URL(`./golden/${name}`, import.meta.url);
  const recorded = golden(`snapshot-format-${SNAPSHOT_FORMAT}.json`);
  const fixed = JSON.parse(readFileSync(golden('snapshot-history.json'), 'utf8')) as StoredEvent[];
  // Where a pending command outlived its run, where a failure and a retry request wait, and the end.
  const positions = [24, 35, fixed.length];
  const partsAt = (p: number): unknown[] =>
    [...snapshotParts(foldOf(fixed.slice(0, p)))].map((x): unknown => JSON.parse(x));

  // Recording is a step before the spec rather than a test of its own, so that no run skips a test.
  beforeAll(() => {
    if (process.env.SYNCLINE_RECORD_GOLDEN === '1')
      writeFileSync(
        recorded,
        `${JSON.stringify(Object.fromEntries(positions.map((p) => [p, partsAt(p)])), null, 2)}\n`,
      );
  });

  it('given the fixed history, when its state is snapshot, then the parts are those recorded for SNAPSHOT_FORMAT', () => {
    expect(existsSync(recorded), `no parts recorded for format ${SNAPSHOT_FORMAT}`).toBe(true);
    const parts = JSON.parse(readFileSync(recorded, 'utf8')) as Record<string, unknown[]>;
    expect(Object.keys(parts)).toStrictEqual(positions.map(String));
    for (const p of positions) expect(partsAt(p), `the snapshot at ${p}`).toStrictEqual(parts[p]);
  });

  it('given the parts recorded for SNAPSHOT_FORMAT, when they are restored and the rest folded on, then the state is that of the whole history', async () => {
    const parts = JSON.parse(readFileSync(recorded, 'utf8')) as Record<string, unknown[]>;
    const whole = foldOf(fixed);
    for (const p of positions) {
      const back = await restored((parts[p] ?? []).map((x) => JSON.stringify(x)));
      for (const e of fixed.slice(p)) applyStored(back, e);
      expect(back, `restored at ${p}`).toStrictEqual(whole);
    }
  });
});
