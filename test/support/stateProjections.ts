// Every projection of an engine state as a plain object in a canonical order, so that a state kept in
// Maps and one kept in the state file's rows (written behind or saved) compare with toStrictEqual.
import type { EngineState } from '../../engine/state/engineState.js';
import type { RunInfo } from '../../projections/ledger.js';
import { pendingCommands } from '../../projections/pending.js';
import { compareStrings } from '../../domain/values.js';

const byKey = <V>(entries: Iterable<[string, V]>): [string, V][] =>
  [...entries].sort(([a], [b]) => compareStrings(a, b));

const sorted = (keys: Iterable<string>): string[] => [...keys].sort(compareStrings);

/** A copy, so that a later fold changing the run in place cannot change what was compared. */
const run = (r: RunInfo | null): unknown => (r === null ? null : structuredClone(r));

export type ProjectionOptions = {
  /**
   * The positions whose `touches.since` is compared; by default every one from 0 to the state's.
   * Either way the last touch of each profile is compared, as far as those positions tell it.
   */
  readonly touchedAfter?: readonly number[];
  /** compare only these profiles' rows in the world (a sample of a large history); all by default */
  readonly profiles?: readonly string[];
};

/**
 * The state as a plain object: the world (profiles, groups, each group's members), the touches, and
 * per destination its config, claims and ledger, including which of its runs are the same object.
 */
export const projectionsOf = (s: EngineState, options: ProjectionOptions = {}): unknown => {
  const w = s.world;
  const profiles =
    options.profiles === undefined
      ? byKey(w.profiles.entries())
      : sorted(options.profiles).map((id) => [id, w.profiles.get(id) ?? null] as const);
  const groups = byKey(w.groups.entries());
  const touchedAfter = options.touchedAfter ?? Array.from({ length: s.position + 1 }, (_, k) => k);
  const since = touchedAfter.map((k) => [k, sorted(s.touches.since(k)), s.touches.countSince(k)] as const);
  const destinations = byKey(s.destinations.entries()).map(([id, v]) => {
    const l = v.ledger;
    return [
      id,
      {
        destinationId: v.destinationId,
        config: v.config,
        configPosition: v.configPosition,
        claims:
          v.claims === null
            ? null
            : {
                destination: v.claims.destination,
                size: v.claims.byKey.size,
                byKey: byKey(v.claims.byKey.entries()).map(([key, h]) => [
                  key,
                  typeof h === 'string' ? h : sorted(h),
                ]),
              },
        entries: byKey(l.entries.entries()).map(([pid, e]) => [
          pid,
          { profileId: e.profileId, key: e.key, fields: sorted(Object.keys(e.fields)), groups: e.groups },
        ]),
        entryCount: l.entries.size,
        owners: byKey(l.owners.entries()),
        ownerCount: l.owners.size,
        pending: [...pendingCommands(l.pending)],
        pendingCount: l.pending.size,
        failures: byKey(l.failures.entries()),
        failureCount: l.failures.size,
        retryRequested: sorted(l.retryRequested),
        retryCount: l.retryRequested.size,
        open: run(l.open),
        lastFinished: run(l.lastFinished),
        lastRun: run(l.lastRun),
        // The fold shares runs: a RunFinished must update the last run through the open one.
        lastRunIsOpen: l.lastRun !== null && l.lastRun === l.open,
        lastRunIsLastFinished: l.lastRun !== null && l.lastRun === l.lastFinished,
        runs: l.runs,
        revision: l.revision,
        taken: l.taken,
      },
    ];
  });
  return {
    position: s.position,
    eventId: s.eventId,
    profiles,
    profileCount: options.profiles === undefined ? w.profiles.size : undefined,
    groups,
    groupCount: w.groups.size,
    members: groups.map(([g]) => [g, sorted(w.members.of(g))]),
    touches: since,
    destinations,
  };
};
