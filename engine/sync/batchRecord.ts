// What a run records of a judged batch (its BatchDecided: decisions with their inputs, crash
// settlements, adoptions, cleared failures) and the commands it then hands the destination.
import type { Adoption } from '../../domain/adopt.js';
import type { Command } from '../../domain/command.js';
import { keyAfter } from '../../domain/decide.js';
import { isDecision, type Decision, type ObservedRecord } from '../../domain/decision.js';
import { commandId } from '../../domain/ids.js';
import {
  profileTag,
  type RecordedDecision,
  type Settlement,
  type SyncEvent,
} from '../../domain/syncEvents.js';
import type { DestinationView } from '../state/engineState.js';
import type { Tagged } from './applying.js';
import type { Judged, Prepared } from './batch.js';

export type BatchRecord = {
  readonly decisions: RecordedDecision[];
  /** commands a crash left without outcome, confirmed or superseded by this batch's lookup */
  readonly settled: Settlement[];
  /** profiles with a failure or a retry request that now need nothing: their failure is cleared */
  readonly cleared: string[];
  readonly adopted: Adoption[];
  readonly unchanged: number;
};

/** The batch's verdicts as recorded, each decision under the command id its inputs give it. */
export const recordOf = (
  judged: readonly Judged[],
  v: DestinationView,
  keyField: string,
  position: number,
): BatchRecord => {
  const record: BatchRecord & { unchanged: number } = {
    decisions: [],
    settled: [],
    cleared: [],
    adopted: [],
    unchanged: 0,
  };
  for (const { prepared, verdict, settled, adopted } of judged) {
    const pid = prepared.profileId;
    // Commands left without outcome by a crash: confirmed when the destination shows them applied,
    // superseded otherwise (the fresh decision, if any, replaces them).
    record.settled.push(...settled);
    if (adopted !== undefined) record.adopted.push(adopted);
    if (!isDecision(verdict)) {
      record.unchanged++;
      if (v.ledger.failures.has(pid) || v.ledger.retryRequested.has(pid)) record.cleared.push(pid);
      continue;
    }
    const claims = prepared.input.claims;
    // Recorded only when it differs: most decisions keep their key, and the record is per profile.
    const renamedTo = keyAfter(keyField, verdict);
    const recorded: RecordedDecision = {
      commandId: commandId(v.destinationId, pid, position, verdict.operation),
      decision: verdict,
    };
    if (renamedTo !== undefined && renamedTo !== verdict.key) recorded.keyAfter = renamedTo;
    if (Object.keys(claims).length > 0) recorded.claims = claims;
    record.decisions.push(recorded);
  }
  return record;
};

type BatchObserved = Extract<SyncEvent, { type: 'BatchDecided' }>['data']['observed'];

/** The BatchDecided event of a batch decided at `position`, tagged with each profile it looked at. */
export const batchDecided = (
  run: { readonly destinationId: string; readonly runId: string },
  position: number,
  looked: {
    readonly batch: readonly Prepared[];
    readonly keys: string[];
    readonly records: readonly ObservedRecord[];
  },
  record: BatchRecord,
  decidedAt: string,
): Tagged => ({
  type: 'BatchDecided',
  tags: looked.batch.map((p) => profileTag(run.destinationId, p.profileId)),
  data: {
    runId: run.runId,
    position,
    profileIds: looked.batch.map((p) => p.profileId),
    keys: looked.keys,
    observed: looked.records as BatchObserved,
    decisions: record.decisions,
    decidedAt,
    ...(record.settled.length > 0 ? { settled: record.settled } : {}),
    ...(record.cleared.length > 0 ? { cleared: record.cleared } : {}),
    ...(record.adopted.length > 0 ? { adopted: record.adopted } : {}),
    unchanged: record.unchanged,
  },
});

export const toCommand = (id: string, d: Decision): Command => ({
  commandId: id,
  profileId: d.profileId,
  operation: d.operation as Command['operation'],
  key: d.key ?? '',
  fields: d.fields,
  groups: d.groups,
});

/** The commands of the recorded decisions: every decision but a skip. */
export const commandsOf = (decisions: readonly RecordedDecision[]): Command[] => {
  const commands: Command[] = [];
  for (const r of decisions)
    if (r.decision.operation !== 'skip') commands.push(toCommand(r.commandId, r.decision));
  return commands;
};
