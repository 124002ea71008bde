// The state file holds the state a fold in memory gives: at every position of the rich history and of
// random histories, whether its changes are still written behind, saved, or read back after a reopen.
import * as E from 'fp-ts/lib/Either.js';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { openMemoryEventStore } from '../adapters/stores/memory.js';
import type { DestinationConfig } from '../domain/destination.js';
import { streamOf, type InputEvent } from '../domain/events.js';
import type { EventStore, StoredEvent } from '../engine/ports.js';
import { applyStored, initialState } from '../engine/state/engineState.js';
import { collect } from './contract/eventStoreHelpers.js';
import { pendingCommands } from '../projections/pending.js';
import {
  changed,
  created,
  deleted,
  destination,
  everyone,
  groupCreated,
  groupDeleted,
  inGroup,
  joined,
  left,
  unsetProperties,
} from './support/given.js';
import { history } from './support/richHistory.js';
import { projectionsOf } from './support/stateProjections.js';
import { foldOf, opened, saved, seeded, stateDirPerSpec } from './support/stateFiles.js';

const dir = stateDirPerSpec();

describe('the state file over the rich history', () => {
  let store: EventStore;
  let events: StoredEvent[] = [];
  beforeAll(async () => {
    store = (await history()).store;
    events = await collect(store.readAll());
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

  it('given every prefix folded into a new state file with saves at random points, then before the last save, after it, and after a reopen the file holds the fold of that prefix; and folding the rest on after the reopen gives the whole fold', async () => {
    const whole = projectionsOf(foldOf(events));
    for (let p = 0; p <= events.length; p++) {
      const random = seeded(p);
      const path = dir.path(`state-${p}.db`);
      const { file } = await opened(path, store);
      const memory = initialState();
      for (const e of events.slice(0, p)) {
        applyStored(file.state, e);
        applyStored(memory, e);
        if (random() < 0.25) expect(saved(file)).toBe('saved');
      }
      const at = `prefix ${p}`;
      expect(projectionsOf(file.state), `${at}, written behind`).toStrictEqual(projectionsOf(memory));
      expect(saved(file)).toMatch(p === 0 ? /^unchanged$/ : /^(saved|unchanged)$/);
      expect(projectionsOf(file.state), `${at}, saved`).toStrictEqual(projectionsOf(memory));
      file.close();
      const again = await opened(path, store);
      expect(again.notice, `${at}, reopened`).toBeUndefined();
      expect(projectionsOf(again.file.state), `${at}, reopened`).toStrictEqual(projectionsOf(memory));
      for (const e of events.slice(p)) applyStored(again.file.state, e);
      expect(projectionsOf(again.file.state), `${at}, reopened and folded to the end`).toStrictEqual(whole);
      saved(again.file);
      again.file.close();
    }
  });

  it.each([1, 2, 3, 4])(
    'given the history folded event by event with saves and reopens at random points (seed %i), then after every event the file holds the fold so far',
    async (seed) => {
      const random = seeded(seed * 7919);
      const path = dir.path('state.db');
      let file = (await opened(path, store)).file;
      const memory = initialState();
      for (const e of events) {
        applyStored(file.state, e);
        applyStored(memory, e);
        const step = random();
        if (step < 0.3) saved(file);
        else if (step < 0.4) {
          saved(file);
          file.close();
          file = (await opened(path, store)).file;
        }
        expect(projectionsOf(file.state), `after ${e.position} (seed ${seed})`).toStrictEqual(
          projectionsOf(memory),
        );
      }
      file.close();
    },
  );
});

/*
 * Random histories over few ids, so that profiles are created again after deletion, groups deleted
 * with members, and two destinations keyed on properties with few values see keys claimed by
 * several profiles at once, handed over and released, and claims rebuilt on each reconfiguration.
 */
const PROFILES = ['p0', 'p1', 'p2', 'p3', 'p4'];
const GROUPS = ['g0', 'g1', 'g2'];
const VALUES = ['a@x.io', 'b@x.io', 'c@x.io'];

const byEmail = (collection: DestinationConfig['collection']): DestinationConfig => ({
  ...destination({ mode: 'sync', collection }),
  destinationId: 'd1',
});
const byCode = (collection: DestinationConfig['collection']): DestinationConfig => ({
  ...destination({
    mode: 'additive',
    collection,
    keyField: 'code',
    mapping: { code: 'code', email: 'email' },
  }),
  destinationId: 'd2',
});
const CONFIGS = [byEmail(everyone), byEmail(inGroup('g1')), byCode(everyone), byCode(inGroup('g0'))];

const profile = fc.constantFrom(...PROFILES);
const group = fc.constantFrom(...GROUPS);
const value = fc.constantFrom(...VALUES);

const inputEvent: fc.Arbitrary<InputEvent> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc
      .tuple(profile, value, fc.option(value))
      .map(([p, email, code]) => created(p, code === null ? { email } : { email, code })),
  },
  {
    weight: 3,
    arbitrary: fc
      .tuple(profile, fc.constantFrom('email', 'code'), value)
      .map(([p, k, v]) => changed(p, { [k]: v })),
  },
  {
    weight: 1,
    arbitrary: fc.tuple(profile, fc.constantFrom('email', 'code')).map(([p, k]) => unsetProperties(p, k)),
  },
  { weight: 1, arbitrary: profile.map(deleted) },
  { weight: 2, arbitrary: group.map((g) => groupCreated(g)) },
  { weight: 1, arbitrary: group.map(groupDeleted) },
  { weight: 3, arbitrary: fc.tuple(profile, group).map(([p, g]) => joined(p, g)) },
  { weight: 1, arbitrary: fc.tuple(profile, group).map(([p, g]) => left(p, g)) },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom(...CONFIGS)
      .map((d): InputEvent => ({ type: 'DestinationConfigured', data: d })),
  },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom('d1', 'd2')
      .map((id): InputEvent => ({ type: 'DestinationRemoved', data: { destinationId: id } })),
  },
);

type Step = { readonly kind: 'event'; readonly event: InputEvent } | { readonly kind: 'save' | 'reopen' };
const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 10, arbitrary: inputEvent.map((event): Step => ({ kind: 'event', event })) },
  { weight: 2, arbitrary: fc.constant<Step>({ kind: 'save' }) },
  { weight: 1, arbitrary: fc.constant<Step>({ kind: 'reopen' }) },
);

const storeWith = async (events: readonly InputEvent[]): Promise<EventStore> => {
  const store = openMemoryEventStore();
  for (const e of events) {
    const r = await store.append([{ stream: streamOf(e), events: [e], expected: 'any' }])();
    if (E.isLeft(r)) throw new Error(JSON.stringify(r.left));
  }
  return store;
};

describe('the state file over random histories', () => {
  it('given random input events and destination changes with saves and reopens at random points, then at every save and every reopen the file holds the fold in memory', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 80 }), async (steps) => {
        const store = await storeWith(steps.flatMap((s) => (s.kind === 'event' ? [s.event] : [])));
        const events = await collect(store.readAll());
        const path = dir.path(`random-${run++}.db`);
        let file = (await opened(path, store)).file;
        const memory = initialState();
        let next = 0;
        try {
          for (const s of steps) {
            if (s.kind === 'event') {
              const e = events[next++]!;
              applyStored(file.state, e);
              applyStored(memory, e);
              continue;
            }
            saved(file);
            if (s.kind === 'reopen') {
              file.close();
              file = (await opened(path, store)).file;
            }
            expect(projectionsOf(file.state)).toStrictEqual(projectionsOf(memory));
          }
          saved(file);
          expect(projectionsOf(file.state)).toStrictEqual(projectionsOf(memory));
        } finally {
          file.close();
        }
      }),
      { numRuns: 300 },
    );
  });
});
