// Which profiles a run must look at: those changed since the destination's last finished run, or
// all of them after a configuration change, plus unsettled commands, failures and retry requests.
import { compareStrings } from '../domain/values.js';
import { touchedSince, type DestinationView, type EngineState } from './state.js';

export type CandidateReason = 'first-run' | 'config-changed' | 'changes' | 'full';

export type Candidates = { readonly profileIds: string[]; readonly reason: CandidateReason };

export const candidates = (s: EngineState, v: DestinationView, full = false): Candidates => {
  const last = v.ledger.lastFinished;
  const reason: CandidateReason = full
    ? 'full'
    : last === null
      ? 'first-run'
      : v.configPosition > last.position
        ? 'config-changed'
        : 'changes';
  const ids = new Set<string>();
  if (reason === 'changes' && last !== null) {
    for (const id of touchedSince(s, last.position)) ids.add(id);
  } else {
    for (const id of s.world.profiles.keys()) ids.add(id);
    for (const id of v.ledger.entries.keys()) ids.add(id);
  }
  for (const cmd of v.ledger.pending.values()) ids.add(cmd.decision.profileId);
  // Terminal failures wait for a change to the profile or an explicit `retry`.
  for (const [id, f] of v.ledger.failures) if (f.retryable) ids.add(id);
  for (const id of v.ledger.retryRequested) ids.add(id);
  return { profileIds: [...ids].sort(compareStrings), reason };
};
