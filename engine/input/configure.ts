// `apply`: turns the config file into DestinationConfigured/DestinationRemoved events, recording
// only destinations whose configuration changed, in one atomic append.
import * as E from 'fp-ts/lib/Either.js';
import type { DestinationConfig } from '../../domain/destination.js';
import { canonicalJson, compareStrings } from '../../domain/values.js';
import type { EventStore, StoreError } from '../ports.js';
import { catchUp, type EngineState } from '../state/engineState.js';
import type { InvalidStoredEvent } from '../state/storedEvents.js';

export type ConfigPlan = {
  readonly added: string[];
  readonly changed: string[];
  readonly unchanged: string[];
  /** configured in the store but missing from the file */
  readonly missing: string[];
};

export const planConfig = (s: EngineState, destinations: readonly DestinationConfig[]): ConfigPlan => {
  const plan: ConfigPlan = { added: [], changed: [], unchanged: [], missing: [] };
  const inFile = new Set(destinations.map((d) => d.destinationId));
  for (const d of destinations) {
    const current = s.destinations.get(d.destinationId)?.config;
    if (!current) plan.added.push(d.destinationId);
    else if (canonicalJson(current) === canonicalJson(d)) plan.unchanged.push(d.destinationId);
    else plan.changed.push(d.destinationId);
  }
  for (const [id, v] of s.destinations) if (v.config && !inFile.has(id)) plan.missing.push(id);
  plan.missing.sort(compareStrings);
  return plan;
};

export type ApplyResult = ConfigPlan & { readonly removed: string[] };

/** Why the configuration was not recorded: the store holds an invalid event, or refused the append. */
export type ApplyError =
  InvalidStoredEvent | { readonly _tag: 'ConfigNotRecorded'; readonly failure: StoreError };

/** Records the destinations that changed (and removes missing ones when `prune`), atomically. */
export const applyConfig = async (
  store: EventStore,
  s: EngineState,
  destinations: readonly DestinationConfig[],
  prune: boolean,
): Promise<E.Either<ApplyError, ApplyResult>> => {
  const caught = await catchUp(store, s);
  if (E.isLeft(caught)) return caught;
  const plan = planConfig(s, destinations);
  const write = new Set([...plan.added, ...plan.changed]);
  const writes = [
    ...destinations
      .filter((d) => write.has(d.destinationId))
      .map((d) => ({
        stream: `destination-${d.destinationId}`,
        events: [{ type: 'DestinationConfigured', data: d }],
        expected: 'any' as const,
      })),
    ...(prune ? plan.missing : []).map((id) => ({
      stream: `destination-${id}`,
      events: [{ type: 'DestinationRemoved', data: { destinationId: id } }],
      expected: 'any' as const,
    })),
  ];
  if (writes.length > 0) {
    const r = await store.append(writes)();
    if (E.isLeft(r)) return E.left({ _tag: 'ConfigNotRecorded', failure: r.left });
    const after = await catchUp(store, s);
    if (E.isLeft(after)) return after;
  }
  return E.right({ ...plan, removed: prune ? plan.missing : [] });
};
