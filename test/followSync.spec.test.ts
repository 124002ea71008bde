// followSync, the live sync an embedding pipeline runs: given events arriving, then rounds of runs on
// quiet periods; when told to stop, the round under way ends and nothing starts after it.
import { Subject, lastValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { followSync, type LiveRun } from '../adapters/rxjs/live.js';
import type { Destination } from '../engine/ports.js';
import { givenEngine, noWait } from './support/engine.js';
import { created, destination } from './support/given.js';

/** A destination whose applies wait until let go, so that a test can act while a run is under way. */
const held = (inner: Destination) => {
  let release: () => void = () => undefined;
  let entered: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const applying = new Promise<void>((resolve) => (entered = resolve));
  const destination: Destination = {
    describe: () => inner.describe(),
    lookup: (keys) => inner.lookup(keys),
    apply: (commands) => async () => {
      entered();
      await gate;
      return inner.apply(commands)();
    },
    close: () => inner.close(),
  };
  return { destination, applying, release };
};

const createdCount = (runs: readonly LiveRun[]): number[] =>
  runs.map((r) => ('totals' in r.outcome ? r.outcome.totals.created : -1));

describe('followSync', () => {
  it('given a profile, when followed, then it syncs once at the start and again when more arrive', async () => {
    const world = await givenEngine(destination({ mode: 'sync' }));
    await world.happen(created('ada', { email: 'ada@x.io' }));
    const stop = new Subject<void>();
    const done = lastValueFrom(
      followSync(
        world.store,
        world.state,
        [{ destinationId: 'crm', destination: world.destination.destination(world.config) }],
        noWait,
        20,
        undefined,
        stop,
      ).pipe(toArray()),
    );
    for (let i = 0; i < 100 && world.records().length < 1; i++) await new Promise((r) => setTimeout(r, 10));
    await world.happen(created('bob', { email: 'bob@x.io' }));
    for (let i = 0; i < 100 && world.records().length < 2; i++) await new Promise((r) => setTimeout(r, 10));
    stop.next();
    expect(createdCount(await done)).toStrictEqual([1, 1]);
    expect(world.records().map((r) => r.key)).toStrictEqual(['ada@x.io', 'bob@x.io']);
  });

  it('given a run under way, when told to stop, then that run ends and is emitted, no round starts after it, and the Observable completes', async () => {
    const world = await givenEngine(destination({ mode: 'sync' }));
    await world.happen(created('ada', { email: 'ada@x.io' }));
    const gated = held(world.destination.destination(world.config));
    const stop = new Subject<void>();
    const done = lastValueFrom(
      followSync(
        world.store,
        world.state,
        [{ destinationId: 'crm', destination: gated.destination }],
        noWait,
        1,
        undefined,
        stop,
      ).pipe(toArray()),
    );
    await gated.applying;
    // Arrivals while the run waits: a round is asked for, and must not start once stopped.
    await world.happen(created('bob', { email: 'bob@x.io' }));
    await new Promise((r) => setTimeout(r, 50));
    stop.next();
    gated.release();
    const runs = await done;
    expect(createdCount(runs)).toStrictEqual([1]);
    expect(world.records().map((r) => r.key)).toStrictEqual(['ada@x.io']);
  });
});
