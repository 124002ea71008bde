// The ledger's rules of settling, one copy each for the fold, the sync path and explain: what a
// command leaves written, what a match leaves, which commands pend, and how a crash's are settled.
import type { Adoption } from '../domain/adopt.js';
import type { LedgerEntry, ObservedRecord } from '../domain/decision.js';
import type { CommandResult, RecordedDecision, Settlement } from '../domain/syncEvents.js';
import { valueEquals } from '../domain/values.js';
import { takePending, type Pending, type PendingCommand } from './pending.js';

/**
 * What syncline has written to the record after a command succeeded, values included: the one rule
 * of what a command leaves. The fold keeps its result by names (see `written`); judge and explain
 * keep it with values. A create's entry shares the decision's objects: no entry is changed in place.
 */
export const applyToEntry = (prev: LedgerEntry | undefined, cmd: PendingCommand): LedgerEntry | undefined => {
  const d = cmd.decision;
  switch (d.operation) {
    case 'delete':
      return undefined;
    case 'create':
      return { profileId: d.profileId, key: cmd.keyAfter, fields: d.fields.set, groups: d.groups.add };
    case 'update': {
      const fields = { ...(prev?.fields ?? {}), ...d.fields.set };
      for (const f of d.fields.unset) delete fields[f];
      const removed = new Set(d.groups.remove);
      const groups = [...new Set([...(prev?.groups ?? []), ...d.groups.add])].filter((g) => !removed.has(g));
      return { profileId: d.profileId, key: cmd.keyAfter, fields, groups: groups.sort() };
    }
    case 'skip':
      return prev;
  }
};

/** The entry a decision's match gives the profile: the record's fields (with the values it held, when
 *  known) and groups, as if syncline had written them. */
export const adoptedEntry = (a: Adoption, record: ObservedRecord | undefined): LedgerEntry => ({
  profileId: a.profileId,
  key: a.key,
  // Own fields only: a field named like an Object member (`constructor`) is a field, not inherited.
  fields: Object.fromEntries(
    a.fields.map((f) => [
      f,
      record !== undefined && Object.hasOwn(record.fields, f) ? (record.fields[f] ?? null) : null,
    ]),
  ),
  groups: a.groups,
});

/** The command a recorded decision leaves pending (a skip leaves none), under the key it gives the record. */
export const pendingCommandOf = (
  runId: string,
  r: RecordedDecision,
  decidedAt?: number,
): PendingCommand | undefined =>
  r.decision.operation === 'skip'
    ? undefined
    : {
        runId,
        commandId: r.commandId,
        decision: r.decision,
        keyAfter: r.keyAfter ?? r.decision.key ?? '',
        ...(decidedAt === undefined ? {} : { decidedAt }),
      };

/** What a failed command's outcome says of it: a result without a message is "failed", and one that
 *  does not say it is retryable is not. */
export const failureOf = (r: CommandResult): { readonly retryable: boolean; readonly message: string } => ({
  retryable: r.retryable ?? false,
  message: r.message ?? 'failed',
});

/**
 * Takes a batch's settlements (commands a crash left without outcome) out of `pending`, in the order
 * recorded, and hands each command found to `each` with its status: confirmed (the destination showed
 * it applied: it counts as written) or superseded.
 */
export const takeSettled = (
  pending: Pending,
  settled: readonly Settlement[] | undefined,
  each: (cmd: PendingCommand, status: Settlement['status']) => void,
): void => {
  for (const s of settled ?? []) {
    const cmd = takePending(pending, s.commandId);
    if (cmd) each(cmd, s.status);
  }
};

/**
 * Whether `observed` (the records under the command's keys, looked up afresh) shows that a command
 * left without outcome was applied: a create or update leaves the record under its key afterwards
 * with the fields it set, the fields it unset empty and its group changes made; a delete leaves no
 * record under its key. After a crash this is the only witness of what reached the destination.
 */
export const showsEffect = (
  cmd: PendingCommand,
  keyField: string,
  observed: readonly ObservedRecord[],
): boolean => {
  const d = cmd.decision;
  const at = (key: string) => observed.find((r) => r.key === key);
  if (d.operation === 'skip') return true;
  if (d.operation === 'delete') return at(d.key ?? '') === undefined;
  const record = at(cmd.keyAfter);
  if (record === undefined) return false;
  const groups = new Set(record.groups);
  return (
    // The key field is the record's key, which was just matched (a destination may not echo it).
    Object.entries(d.fields.set).every(
      ([f, v]) => f === keyField || (Object.hasOwn(record.fields, f) && valueEquals(v, record.fields[f])),
    ) &&
    d.fields.unset.every((f) => !Object.hasOwn(record.fields, f) || record.fields[f] === null) &&
    d.groups.add.every((g) => groups.has(g)) &&
    d.groups.remove.every((g) => !groups.has(g))
  );
};
