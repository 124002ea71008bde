// The history the state specs share: every part of the engine's state is filled at some position of
// it (pending commands of a dead run, a failure, a retry, a removed destination, a deleted group).
import type { DestinationConfig } from '../../domain/destination.js';
import { applyConfig } from '../../engine/input/configure.js';
import type { Destination } from '../../engine/ports.js';
import { requestRetry } from '../../engine/sync/retry.js';
import { syncDestination } from '../../engine/sync/run.js';
import { givenEngine, noWait, type EngineWorld } from './engine.js';
import {
  changed,
  created,
  deleted,
  destination,
  groupCreated,
  groupDeleted,
  inGroup,
  joined,
  left,
} from './given.js';

export const crm = destination({ mode: 'sync', collection: inGroup('vip') });
export const mailer: DestinationConfig = { ...destination({ mode: 'additive' }), destinationId: 'mailer' };

/**
 * A history that leaves every part of the state filled at some position: two destinations (one
 * later removed), a key claimed by two profiles, a terminal failure, a retry requested, a run cut
 * short by an apply that failed as a whole (its commands left pending), a reconfiguration and a
 * group deleted with members.
 */
export const history = async (): Promise<EngineWorld> => {
  const w = await givenEngine(crm);
  await applyConfig(w.store, w.state, [crm, mailer], false);
  await w.happen(
    groupCreated('vip'),
    groupCreated('newsletter'),
    created('p1', { email: 'a@x.io', firstName: 'Ana', lifetimeValue: 10 }),
    created('p2', { email: 'b@x.io', firstName: 'Bo' }),
    created('p3', { email: 'b@x.io' }),
    joined('p1', 'vip'),
    joined('p2', 'vip'),
    joined('p3', 'vip'),
    joined('p2', 'newsletter'),
  );
  await w.synced();
  w.destination.failNextApplies('a@x.io', 1, { retryable: false, message: 'rejected' });
  await w.happen(
    changed('p1', { lifetimeValue: 20 }),
    left('p2', 'newsletter'),
    changed('p2', { email: 'c@x.io' }),
    deleted('p3'),
  );
  await w.sync();
  await requestRetry(w.store, w.state, 'crm', undefined);
  await w.happen(
    created('p4', { email: 'd@x.io' }),
    joined('p4', 'vip'),
    changed('p1', { firstName: 'Anna' }),
  );
  w.destination.failNextCalls('apply', 1, {
    _tag: 'DestinationUnavailable',
    message: 'down',
    retryable: false,
  });
  await w.sync();
  // A run that dies after recording its decisions (an exception stands in for a kill): its commands
  // stay pending, and the next run starts while they are, marking the dead run interrupted.
  await w.happen(changed('p4', { firstName: 'Dee' }));
  const dying: Destination = {
    ...w.destination.destination(w.config),
    apply: () => () => Promise.reject(new Error('killed')),
  };
  await syncDestination(w.store, w.state, 'crm', dying, noWait).catch(() => undefined);
  await w.synced();
  await w.reconfigure({ ...crm, syncMode: 'additive' });
  await w.happen(groupDeleted('vip'), created('p5', { email: 'e@x.io' }));
  await applyConfig(w.store, w.state, [{ ...crm, syncMode: 'additive' }], true);
  return w;
};
