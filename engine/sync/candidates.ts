// Which profiles a run must look at: those changed since the destination's last finished run, or
// all of them after a configuration change, plus unsettled commands, failures and retry requests.
import { pendingCommands } from '../../projections/pending.js';
import { touchedSince, type DestinationView, type EngineState } from '../state/engineState.js';

export type CandidateReason = 'first-run' | 'config-changed' | 'changes' | 'full' | 'records-lost';

export type Candidates = { readonly profileIds: string[]; readonly reason: CandidateReason };

/** `full`: every profile, as asked (true) or because the destination lost its records. */
export const candidates = (
  s: EngineState,
  v: DestinationView,
  full: boolean | 'records-lost' = false,
): Candidates => {
  const last = v.ledger.lastFinished;
  const reason: CandidateReason =
    full === 'records-lost'
      ? full
      : full
        ? 'full'
        : last === null
          ? 'first-run'
          : v.configPosition > last.position
            ? 'config-changed'
            : 'changes';
  const l = v.ledger;
  // Besides those: profiles with commands left unsettled, retryable failures and retry requests.
  // Terminal failures wait for a change to the profile or an explicit `retry`.
  const owed: string[] = [];
  for (const cmd of pendingCommands(l.pending)) owed.push(cmd.decision.profileId);
  for (const [id, f] of l.failures) if (f.retryable) owed.push(id);
  for (const id of l.retryRequested) owed.push(id);
  // The default order of strings is compareStrings' (UTF-16 code units), without a call per
  // comparison: sorting 100,000 ids takes 60-100 ms with one, 30 ms without.
  if (reason !== 'changes' && l.entries.size === 0 && owed.length === 0)
    // A first run: the world's profiles are distinct already, and a set of them all only costs.
    return { profileIds: [...s.world.profiles.keys()].sort(), reason };
  const ids = new Set<string>();
  if (reason === 'changes' && last !== null) {
    for (const id of touchedSince(s, last.position)) ids.add(id);
  } else {
    for (const id of s.world.profiles.keys()) ids.add(id);
    for (const id of l.entries.keys()) ids.add(id);
  }
  for (const id of owed) ids.add(id);
  return { profileIds: [...ids].sort(), reason };
};
