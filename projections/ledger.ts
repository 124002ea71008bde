// The ledger of one destination, folded in place from its `sync-<id>` stream: what syncline last wrote
// per profile, commands decided but not yet settled, failures waiting, and the runs so far.
import type { Adoption } from '../domain/adopt.js';
import type { Decision, LedgerEntry } from '../domain/decision.js';
import type { SyncEvent } from '../domain/syncEvents.js';
import type { Properties } from '../domain/values.js';
import { interned, interner } from './interned.js';
import type { KeySet, Table } from './tables.js';
import {
  addPending,
  emptyPending,
  pendingBefore,
  pendingMark,
  takePending,
  type Pending,
  type PendingCommand,
} from './pending.js';
import { adoptedEntry, applyToEntry, failureOf, pendingCommandOf, takeSettled } from './settling.js';

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
  /** profile → the fields (names, values null, unless keepsValues) and groups syncline last wrote, and the key */
  readonly entries: Table<LedgerEntry>;
  /** record key → the profile that last wrote it: one owner per record. Exactly the entries' keys
   *  read backwards (settle keeps them so). */
  readonly owners: Table<string>;
  /** commands decided and not yet settled, in the order decided (see pending.ts) */
  readonly pending: Pending;
  readonly failures: Table<Failure>;
  readonly retryRequested: KeySet;
  /** the run started and not yet finished or failed (after a crash, until the next run starts) */
  open: RunInfo | null;
  lastFinished: RunInfo | null;
  lastRun: RunInfo | null;
  runs: number;
  /** the revision of the sync stream this ledger has folded up to (-1: none) */
  revision: number;
  /** entries keep the values written, not only the names (see keepsWrittenValues), from the
   *  destination's config as folded */
  keepsValues: boolean;
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
  keepsValues: false,
  taken: 0,
});

/*
 * The fold's entries record WHICH fields and groups syncline wrote, not the values: decide() only
 * asks which fields it may unset, and the values live in the recorded decisions (log and explain
 * read them there, through applyToEntry). Entries share one frozen object per set of field names
 * and one array per set of groups, so a million entries cost a million small objects, not a million
 * copies of a record. The exception is a destination observed through the ledger (keepsValues): its
 * entries are what it holds, values and all.
 */
const fieldSets = interner<Properties>((names) =>
  Object.freeze(Object.fromEntries(names.map((n) => [n, null]))),
);
const groupSets = interner<string[]>((names) => Object.freeze(names) as string[]);

/** An entry as the state file gives it back: its field names, shared like every entry's. */
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

const compacted = (e: LedgerEntry): LedgerEntry =>
  restoredEntry(e.profileId, e.key, Object.keys(e.fields), e.groups);

/**
 * Whether an update leaves the entry's names as they are: it sets only fields the entry has and
 * changes no field name, group or key. Most updates do (a sync of 1% changes settles an update per
 * changed profile), and those keep the entry without working out its names again.
 */
const keepsNames = (prev: LedgerEntry, cmd: PendingCommand): boolean => {
  const d = cmd.decision;
  if (cmd.keyAfter !== prev.key || d.fields.unset.length > 0) return false;
  if (d.groups.add.length > 0 || d.groups.remove.length > 0) return false;
  return Object.keys(d.fields.set).every((f) => Object.hasOwn(prev.fields, f));
};

/** applyToEntry, by names (compacted) unless the ledger keeps values. */
const written = (
  prev: LedgerEntry | undefined,
  cmd: PendingCommand,
  keepsValues: boolean,
): LedgerEntry | undefined => {
  if (keepsValues) return applyToEntry(prev, cmd);
  if (prev !== undefined && cmd.decision.operation === 'update' && keepsNames(prev, cmd)) return prev;
  const next = applyToEntry(prev, cmd);
  return next && compacted(next);
};

/**
 * Records a command's effect. The profile that wrote a record last owns it: an older entry of
 * another profile under the same key is dropped, or that profile (out of scope, say) would later
 * delete or strip a record that now belongs to someone else.
 */
const settle = (l: Ledger, cmd: PendingCommand): void => {
  const pid = cmd.decision.profileId;
  const prev = l.entries.get(pid);
  const next = written(prev, cmd, l.keepsValues);
  // An update of values only: the entry, and so the owner of its key, stay as they are.
  if (next === prev) return;
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
  own(l, a.profileId, l.entries.get(a.profileId), compacted(adoptedEntry(a, undefined)));

/** The profile's pending commands, in the order they were decided. */
export const pendingOf = (l: Ledger, profileId: string): readonly PendingCommand[] =>
  pendingBefore(l.pending, pendingMark(l.pending), profileId);

/** Folds one sync event (in stream order). Updates the ledger in place and returns it. */
export const foldLedger = (l: Ledger, e: SyncEvent): Ledger => foldLedgerAt(l, e, undefined);

/**
 * foldLedger, with the event's store position kept with the commands it leaves pending (an outcome
 * found later is filed under it: see the engine's resending of commands a crash left without one).
 * Apart, so that `reduce` and `scan`, which pass an index third, never pass it for a position.
 */
export const foldLedgerAt = (l: Ledger, e: SyncEvent, position: number | undefined): Ledger => {
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
      takeSettled(l.pending, e.data.settled, (cmd, status) => {
        if (status === 'confirmed') settle(l, cmd);
      });
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
        const cmd = pendingCommandOf(e.data.runId, r, position);
        if (cmd) addPending(l.pending, cmd);
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
            ...failureOf(r),
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
