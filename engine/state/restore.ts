// Reading a snapshot back (see snapshot.ts for its parts): the state it was taken from, rebuilt part
// by part and checked against its heads' counts, or why it cannot be, so the caller folds instead.
import * as E from 'fp-ts/lib/Either.js';
import type * as t from 'io-ts';
import { decodeWith, type Invalid } from '../../domain/codec.js';
import { buildClaims } from '../../projections/claims.js';
import { addPending } from '../../projections/pending.js';
import {
  initialLedger,
  restoredEntry,
  type Failure,
  type Ledger,
  type PendingCommand,
  type RunInfo,
} from '../../projections/ledger.js';
import type { GroupState, ProfileState } from '../../projections/world.js';
import { DestinationHead, Head, logOf, type EntryPart, type GroupRow, type ProfileRow } from './snapshot.js';
import { initialState, type DestinationView, type EngineState } from './engineState.js';

/** What a restore has read so far. */
type Restoring = {
  readonly s: EngineState;
  head: t.TypeOf<typeof Head> | null;
  readonly heads: t.TypeOf<typeof DestinationHead>[];
  view: DestinationView | null;
  ended: boolean;
};

/**
 * Why a snapshot's parts do not give a state back. A part's problem is said after `part <n>` (e.g.
 * `has no kind`, `(head): position: is required`).
 */
export type SnapshotRefused =
  | { readonly _tag: 'PartRefused'; readonly part: number; readonly problem: string }
  | { readonly _tag: 'NoParts' }
  | { readonly _tag: 'NoEnd'; readonly parts: number }
  /** what the parts hold of `what` disagrees with the count their head gives */
  | {
      readonly _tag: 'CountsDisagree';
      readonly what: string;
      readonly found: number;
      readonly expected: number;
    };

/** `it ends after part 3, without its end` */
export const refusedWords = (r: SnapshotRefused): string => {
  switch (r._tag) {
    case 'PartRefused':
      return `part ${r.part} ${r.problem}`;
    case 'NoParts':
      return 'it has no parts';
    case 'NoEnd':
      return `it ends after part ${r.parts}, without its end`;
    case 'CountsDisagree':
      return `it holds ${r.found} ${r.what} where its head says ${r.expected}`;
  }
};

/** The value, or the problem of the part (`(head): position: is required`). */
const decoded = <A, O>(
  codec: t.Type<A, O, unknown>,
  value: unknown,
  what: string,
): E.Either<{ readonly problem: string }, A> =>
  E.mapLeft((e: Invalid) => ({ problem: `(${what}): ${e.problems.join('; ')}` }))(decodeWith(codec)(value));

/** Indexes are checked against the list before (see restorePart). */
const runAt = (runs: RunInfo[], at: number | null): RunInfo | null =>
  at === null ? null : (runs[at] as RunInfo);

const restoredView = (h: t.TypeOf<typeof DestinationHead>): DestinationView => {
  const runs = h.runs as RunInfo[];
  const ledger: Ledger = {
    ...initialLedger(),
    open: runAt(runs, h.open),
    lastFinished: runAt(runs, h.lastFinished),
    lastRun: runAt(runs, h.lastRun),
    runs: h.runCount,
    revision: h.revision,
    taken: h.taken,
  };
  return {
    destinationId: h.destinationId,
    config: h.config,
    configPosition: h.configPosition,
    claims: null,
    ledger,
  };
};

/** The parts that fill the ledger of the destination before them. */
const LEDGER_KINDS = new Set(['entries', 'pending', 'failures', 'retryRequested']);

/** Folds one part into the restore; what is wrong with it (said after `part <n>`), if anything. */
const restorePart = (r: Restoring, part: unknown): string | undefined => {
  if (!Array.isArray(part) || typeof part[0] !== 'string') return 'has no kind';
  const kind = part[0];
  if (r.ended) return 'comes after the end';
  if ((r.head === null) !== (kind === 'head')) return `(${kind}) is out of place`;
  const s = r.s;
  const rows = part[1] as unknown[];
  switch (kind) {
    case 'head': {
      const head = decoded(Head, part[1], 'head');
      if (E.isLeft(head)) return head.left.problem;
      r.head = head.right;
      s.position = head.right.position;
      s.folded = head.right.folded;
      return undefined;
    }
    case 'profiles':
      for (const [id, properties, groups, deleted] of rows as ProfileRow[])
        s.world.profiles.set(id, { properties, groups, deleted: deleted === 1 } satisfies ProfileState);
      return undefined;
    case 'groups':
      for (const [id, name, deleted, members] of rows as GroupRow[]) {
        s.world.groups.set(id, { name, deleted: deleted === 1 } satisfies GroupState);
        for (const m of members) s.world.members.add(id, m);
      }
      return undefined;
    case 'touches':
      logOf(s).positions.push(...(part[1] as number[]));
      logOf(s).profiles.push(...(part[2] as string[]));
      return undefined;
    case 'destination': {
      const h = decoded(DestinationHead, part[1], 'destination');
      if (E.isLeft(h)) return h.left.problem;
      const { runs, open, lastFinished, lastRun } = h.right;
      for (const at of [open, lastFinished, lastRun])
        if (at !== null && !(Number.isInteger(at) && at >= 0 && at < runs.length))
          return `(destination ${h.right.destinationId}) refers to run ${at} of the ${runs.length} it lists`;
      r.heads.push(h.right);
      r.view = restoredView(h.right);
      s.destinations.set(h.right.destinationId, r.view);
      return undefined;
    }
    case 'end':
      r.ended = true;
      return undefined;
  }
  if (!LEDGER_KINDS.has(kind)) return `is of an unknown kind, ${JSON.stringify(kind).slice(0, 40)}`;
  const l = r.view?.ledger;
  if (l === undefined) return `(${kind}) comes before any destination`;
  switch (kind) {
    case 'entries': {
      // The owners of records are the entries read backwards (settle keeps them so): not stored.
      const [, fieldSets, groupSets, entries] = part as EntryPart;
      for (const [profileId, key, f, g] of entries) {
        const fields = fieldSets[f];
        const groups = groupSets[g];
        if (fields === undefined || groups === undefined)
          return `(entries) gives ${profileId} a set of names it does not list`;
        l.entries.set(profileId, restoredEntry(profileId, key, fields, groups));
        l.owners.set(key, profileId);
      }
      return undefined;
    }
    case 'pending':
      for (const cmd of rows as PendingCommand[]) {
        addPending(l.pending, cmd);
      }
      return undefined;
    case 'failures':
      for (const [profileId, failure] of rows as [string, Failure][]) l.failures.set(profileId, failure);
      return undefined;
    case 'retryRequested':
      for (const profileId of rows as string[]) l.retryRequested.add(profileId);
      return undefined;
    default:
      return `is of an unknown kind, ${JSON.stringify(kind).slice(0, 40)}`;
  }
};

/**
 * The state the parts were taken from, or why they cannot give it back (a part missing, unknown or
 * malformed): the caller then folds the store from the start, which is always right.
 */
export const restoreState = async (
  parts: AsyncIterable<string>,
): Promise<E.Either<SnapshotRefused, EngineState>> => {
  const r: Restoring = { s: initialState(), head: null, heads: [], view: null, ended: false };
  let n = 0;
  for await (const text of parts) {
    n++;
    let problem: string | undefined;
    try {
      problem = restorePart(r, JSON.parse(text));
    } catch (e) {
      // JSON.parse's SyntaxError, or a TypeError from rows of the wrong shape (a damaged part): the
      // snapshot is unusable, and folding the store is the remedy, so the cause is only reported.
      if (!(e instanceof SyntaxError || e instanceof TypeError)) throw e;
      problem = `is malformed: ${e.message}`;
    }
    if (problem !== undefined) return E.left({ _tag: 'PartRefused', part: n, problem });
  }
  if (r.head === null) return E.left({ _tag: 'NoParts' });
  if (!r.ended) return E.left({ _tag: 'NoEnd', parts: n });
  const short = shortfall(r.s, r.head, r.heads);
  if (short !== undefined) return E.left(short);
  // The key index is a function of the config and the world: built again rather than stored.
  for (const v of r.s.destinations.values()) if (v.config) v.claims = buildClaims(v.config, r.s.world);
  return E.right(r.s);
};

/** Which count the restored state falls short of (or exceeds), if any. */
const shortfall = (
  s: EngineState,
  head: t.TypeOf<typeof Head>,
  heads: readonly t.TypeOf<typeof DestinationHead>[],
): SnapshotRefused | undefined => {
  const counts: [string, number, number][] = [
    ['profiles', s.world.profiles.size, head.profiles],
    ['groups', s.world.groups.size, head.groups],
    ['touches', logOf(s).positions.length, head.touches],
    ['destinations', s.destinations.size, head.destinations],
  ];
  for (const h of heads) {
    const l = (s.destinations.get(h.destinationId) as DestinationView).ledger;
    const of = (what: string) => `${what} of ${h.destinationId}`;
    counts.push(
      [of('ledger entries'), l.entries.size, h.entries],
      [of('record owners'), l.owners.size, h.owners],
      [of('pending commands'), l.pending.size, h.pending],
      [of('failures'), l.failures.size, h.failures],
      [of('retries requested'), l.retryRequested.size, h.retryRequested],
    );
  }
  const off = counts.find(([, found, expected]) => found !== expected);
  return off && { _tag: 'CountsDisagree', what: off[0], found: off[1], expected: off[2] };
};
