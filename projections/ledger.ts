// The ledger of one destination, folded in place from its `sync-<id>` stream: what syncline last wrote
// per profile, commands decided but not yet settled, failures waiting, and the runs so far.
import type { Adoption } from '../domain/adopt.js';
import type { Decision, LedgerEntry, ObservedRecord } from '../domain/decision.js';
import { valueEquals } from '../domain/values.js';
import type { SyncEvent } from '../domain/syncEvents.js';
import type { Properties } from '../domain/values.js';
import { interned, interner } from './interned.js';
import {
  addPending,
  emptyPending,
  pendingBefore,
  pendingMark,
  takePending,
  type Pending,
  type PendingCommand,
} from './pending.js';

export type { PendingCommand } from './pending.js';

export type Failure = {
  readonly runId: string;
  readonly commandId: string;
  readonly decision: Decision;
  readonly retryable: boolean;
  readonly message: string;
  readonly attempts: number;
  readonly at: string;
};

export type RunInfo = {
  readonly runId: string;
  readonly position: number;
  readonly mode: string;
  readonly startedAt: string;
  readonly owner: { readonly host: string; readonly pid: number };
  finishedAt?: string;
  failed?: string;
  counts?: Readonly<Record<string, number>>;
  skipReasons?: Readonly<Record<string, number>>;
};

export type Ledger = {
  /** profile → the fields (names; values are null) and groups syncline last wrote, and the key */
  readonly entries: Map<string, LedgerEntry>;
  /** record key → the profile that last wrote it: one owner per record. Exactly the entries' keys
   *  read backwards (settle keeps them so), which lets a snapshot leave them out. */
  readonly owners: Map<string, string>;
  /** commands decided and not yet settled, in the order decided (see pending.ts) */
  readonly pending: Pending;
  readonly failures: Map<string, Failure>;
  readonly retryRequested: Set<string>;
  /** the run started and not yet finished or failed (after a crash, until the next run starts) */
  open: RunInfo | null;
  lastFinished: RunInfo | null;
  lastRun: RunInfo | null;
  runs: number;
  /** the revision of the sync stream this ledger has folded up to (-1: none) */
  revision: number;
  /** how many entries the owners rule has dropped (a profile's entry taken by another's outcome):
   *  the only change a fold makes to the entry of a profile other than the one it is about */
  taken: number;
};

export const initialLedger = (): Ledger => ({
  entries: new Map(),
  owners: new Map(),
  pending: emptyPending(),
  failures: new Map(),
  retryRequested: new Set(),
  open: null,
  lastFinished: null,
  lastRun: null,
  runs: 0,
  revision: -1,
  taken: 0,
});

/** What syncline has written to the record after a command succeeded, values included. */
export const applyToEntry = (prev: LedgerEntry | undefined, cmd: PendingCommand): LedgerEntry | undefined => {
  const d = cmd.decision;
  switch (d.operation) {
    case 'delete':
      return undefined;
    case 'create':
      return {
        profileId: d.profileId,
        key: cmd.keyAfter,
        fields: { ...d.fields.set },
        groups: [...d.groups.add],
      };
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

/*
 * The fold's entries record WHICH fields and groups syncline wrote, not the values: decide() only
 * asks which fields it may unset, and the values live in the recorded decisions (log and explain
 * read them there, through applyToEntry). Entries share one frozen object per set of field names
 * and one array per set of groups, so a million entries cost a million small objects, not a million
 * copies of a record.
 */
const fieldSets = interner<Properties>((names) =>
  Object.freeze(Object.fromEntries(names.map((n) => [n, null]))),
);
const groupSets = interner<string[]>((names) => Object.freeze(names) as string[]);

const compactEntry = (
  profileId: string,
  key: string,
  fields: Properties,
  groups: readonly string[],
): LedgerEntry => ({
  profileId,
  key,
  fields: interned(fieldSets, Object.keys(fields)),
  groups: interned(groupSets, groups),
});

/** An entry as a snapshot gives it back: its field names, shared like every entry's. */
export const restoredEntry = (
  profileId: string,
  key: string,
  fieldNames: readonly string[],
  groups: readonly string[],
): LedgerEntry => ({
  profileId,
  key,
  fields: interned(fieldSets, fieldNames),
  groups: interned(groupSets, groups),
});

/** applyToEntry, compacted; a create (every command of a first sync) skips the copy applyToEntry makes. */
const written = (prev: LedgerEntry | undefined, cmd: PendingCommand): LedgerEntry | undefined => {
  const d = cmd.decision;
  if (d.operation === 'create') return compactEntry(d.profileId, cmd.keyAfter, d.fields.set, d.groups.add);
  if (d.operation === 'update' && prev !== undefined) return updated(prev, cmd);
  const entry = applyToEntry(prev, cmd);
  return entry && compactEntry(entry.profileId, entry.key, entry.fields, entry.groups);
};

/**
 * An update's entry, worked out from names alone (an entry keeps no values): most updates set fields
 * the entry has and change no group, and those keep the entry as it is, where applyToEntry copied its
 * fields and groups to find the same sets again (a sync of 1% changes settles an update per profile).
 */
const updated = (prev: LedgerEntry, cmd: PendingCommand): LedgerEntry => {
  const d = cmd.decision;
  let fields = prev.fields;
  const set = Object.keys(d.fields.set);
  if (d.fields.unset.length > 0 || set.some((f) => !Object.hasOwn(prev.fields, f))) {
    const names = new Set(Object.keys(prev.fields));
    for (const f of set) names.add(f);
    for (const f of d.fields.unset) names.delete(f);
    fields = interned(fieldSets, [...names]);
  }
  let groups = prev.groups;
  if (d.groups.add.length > 0 || d.groups.remove.length > 0) {
    const names = new Set([...prev.groups, ...d.groups.add]);
    for (const g of d.groups.remove) names.delete(g);
    groups = interned(groupSets, [...names]);
  }
  return fields === prev.fields && groups === prev.groups && cmd.keyAfter === prev.key
    ? prev
    : { profileId: d.profileId, key: cmd.keyAfter, fields, groups };
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
    d.fields.unset.every((f) => record.fields[f] === undefined || record.fields[f] === null) &&
    d.groups.add.every((g) => groups.has(g)) &&
    d.groups.remove.every((g) => !groups.has(g))
  );
};

/**
 * Records a command's effect. The profile that wrote a record last owns it: an older entry of
 * another profile under the same key is dropped, or that profile (out of scope, say) would later
 * delete or strip a record that now belongs to someone else.
 */
const settle = (l: Ledger, cmd: PendingCommand): void => {
  const pid = cmd.decision.profileId;
  const prev = l.entries.get(pid);
  const next = written(prev, cmd);
  // An update of values only: the entry and the record's owner stay as they are.
  if (next === prev && prev !== undefined && l.owners.get(prev.key) === pid) return;
  own(l, pid, prev, next);
};

/** Makes `next` the profile's entry (none: it has none) and the profile the owner of its key. */
const own = (l: Ledger, pid: string, prev: LedgerEntry | undefined, next: LedgerEntry | undefined): void => {
  if (prev !== undefined && l.owners.get(prev.key) === pid) l.owners.delete(prev.key);
  if (next === undefined) {
    l.entries.delete(pid);
    return;
  }
  const previousOwner = l.owners.get(next.key);
  if (previousOwner !== undefined && previousOwner !== pid && l.entries.delete(previousOwner)) l.taken++;
  l.owners.set(next.key, pid);
  l.entries.set(pid, next);
};

/** A record a decision matched becomes the profile's, as if syncline had written what it held. */
const adopt = (l: Ledger, a: Adoption): void =>
  own(l, a.profileId, l.entries.get(a.profileId), restoredEntry(a.profileId, a.key, a.fields, a.groups));

/** The profile's pending commands, in the order they were decided. */
export const pendingOf = (l: Ledger, profileId: string): readonly PendingCommand[] =>
  pendingBefore(l.pending, pendingMark(l.pending), profileId);

/** Folds one sync event (in stream order). Updates the ledger in place and returns it. */
export const foldLedger = (l: Ledger, e: SyncEvent): Ledger => {
  l.revision++;
  switch (e.type) {
    case 'RunStarted': {
      // A run still open here was cut short (a crash): its unsettled commands stay pending.
      if (l.open) l.open.failed ??= 'interrupted';
      const d = e.data;
      l.open = { runId: d.runId, position: d.position, mode: d.mode, startedAt: d.startedAt, owner: d.owner };
      l.lastRun = l.open;
      l.runs++;
      return l;
    }
    case 'BatchDecided': {
      for (const s of e.data.settled ?? []) {
        const cmd = takePending(l.pending, s.commandId);
        if (cmd && s.status === 'confirmed') settle(l, cmd);
      }
      for (const pid of e.data.cleared ?? []) {
        l.failures.delete(pid);
        l.retryRequested.delete(pid);
      }
      // After the settlements, as judge decided from the ledger they leave; before the decisions,
      // whose updates then settle onto the adopted entry.
      for (const a of e.data.adopted ?? []) adopt(l, a);
      // Both are almost always empty, and a first sync folds a decision per profile.
      const clearing = l.failures.size > 0 || l.retryRequested.size > 0;
      for (const r of e.data.decisions) {
        const pid = r.decision.profileId;
        if (clearing) {
          l.failures.delete(pid);
          l.retryRequested.delete(pid);
        }
        if (r.decision.operation === 'skip') continue;
        addPending(l.pending, {
          runId: e.data.runId,
          commandId: r.commandId,
          decision: r.decision,
          keyAfter: r.keyAfter ?? r.decision.key ?? '',
        });
      }
      return l;
    }
    case 'BatchApplied': {
      for (const id of e.data.ok?.commandIds ?? []) {
        const cmd = takePending(l.pending, id);
        if (cmd) settle(l, cmd);
      }
      for (const r of e.data.results) {
        const cmd = takePending(l.pending, r.commandId);
        if (!cmd) continue;
        if (r.status === 'ok') settle(l, cmd);
        else
          l.failures.set(cmd.decision.profileId, {
            runId: cmd.runId,
            commandId: r.commandId,
            decision: cmd.decision,
            retryable: r.retryable ?? false,
            message: r.message ?? 'failed',
            attempts: r.attempts,
            at: r.at,
          });
      }
      return l;
    }
    case 'RunFinished': {
      if (l.open && l.open.runId === e.data.runId) {
        l.open.finishedAt = e.data.finishedAt;
        l.open.counts = e.data.counts;
        if (e.data.skipReasons !== undefined) l.open.skipReasons = e.data.skipReasons;
        l.lastFinished = l.open;
        l.open = null;
      }
      return l;
    }
    case 'RunFailed': {
      if (l.open && l.open.runId === e.data.runId) {
        l.open.failed = e.data.message;
        l.open = null;
      }
      return l;
    }
    case 'RetryRequested': {
      for (const p of e.data.profileIds) l.retryRequested.add(p);
      return l;
    }
  }
};
