// The engine's state as a snapshot: JSON parts that give back the projections as folded up to a
// position, so that a new process folds only the events after it instead of the whole store again.
import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';
import { decodeWith } from '../domain/codec.js';
import { Destination } from '../domain/destination.js';
import type { LedgerEntry } from '../domain/decision.js';
import type { Properties } from '../domain/values.js';
import { buildClaims } from '../projections/claims.js';
import { hold } from '../projections/holders.js';
import {
  initialLedger,
  restoredEntry,
  type Failure,
  type Ledger,
  type PendingCommand,
  type RunInfo,
} from '../projections/ledger.js';
import type { GroupState, ProfileState } from '../projections/world.js';
import { initialState, type DestinationView, type EngineState } from './state.js';

/**
 * Bumped whenever a fold, or the state it builds, changes: a snapshot of another format is never
 * read, and the next writing command folds the store from the start and keeps one of this format.
 * test/snapshot.test.ts holds a fingerprint of the folds' source to remind whoever changes them.
 */
export const SNAPSHOT_FORMAT = 1;

/** Rows per part: a part of the demo's profiles is about 850 KB of JSON. */
const ROWS_PER_PART = 5_000;

/** The scalars of the state; the parts after it must add up to its counts. */
const Head = t.type({
  position: t.number,
  folded: t.number,
  profiles: t.number,
  groups: t.number,
  touches: t.number,
  destinations: t.number,
});

const RunIndex = t.union([t.number, t.null]);

/**
 * A destination's config and ledger scalars. Runs are listed once and referred to by index: the
 * ledger's open run is the same object as its last run, and finishing it makes it the last
 * finished one, so three copies would drift apart at the next fold.
 */
const DestinationHead = t.type({
  destinationId: t.string,
  config: t.union([Destination, t.null]),
  configPosition: t.number,
  runs: t.array(t.UnknownRecord),
  open: RunIndex,
  lastFinished: RunIndex,
  lastRun: RunIndex,
  runCount: t.number,
  revision: t.number,
  taken: t.number,
  entries: t.number,
  owners: t.number,
  pending: t.number,
  failures: t.number,
  retryRequested: t.number,
});

/*
 * The bulk parts are rows the snapshot's own writer produced, and are trusted as catch-up trusts
 * stored events: decoding a million profiles would cost what the snapshot saves. What is checked is
 * the head, each destination's head, every part's kind, and that the rows add up to the heads' counts.
 */
type ProfileRow = [id: string, properties: Properties, groups: string[], deleted: 0 | 1];
type GroupRow = [id: string, name: string, deleted: 0 | 1, members: string[]];
/** The fields and groups of an entry are indexes into its part's lists of name sets: see entryParts. */
type EntryRow = [profileId: string, key: string, fields: number, groups: number];
type EntryPart = ['entries', fieldSets: string[][], groupSets: string[][], rows: EntryRow[]];

function* rowsOf<A>(kind: string, items: Iterable<A>): Generator<string> {
  let rows: A[] = [];
  for (const item of items) {
    rows.push(item);
    if (rows.length === ROWS_PER_PART) {
      yield JSON.stringify([kind, rows]);
      rows = [];
    }
  }
  if (rows.length > 0) yield JSON.stringify([kind, rows]);
}

/** The index of `names` in `sets`, added the first time; entries share their sets, so the map is by identity. */
const setIndex = (
  seen: Map<object, number>,
  sets: string[][],
  shared: object,
  names: () => string[],
): number => {
  let at = seen.get(shared);
  if (at === undefined) {
    at = sets.push(names()) - 1;
    seen.set(shared, at);
  }
  return at;
};

/**
 * Ledger entries with their sets of field and group names listed once per part: most entries
 * share a few sets, and writing the names in every row made a third of a million profiles' snapshot,
 * and a fifth of the time to read it back (five strings and an array parsed per entry).
 */
function* entryParts(entries: Iterable<LedgerEntry>): Generator<string> {
  let part: EntryPart = ['entries', [], [], []];
  let fieldsSeen = new Map<object, number>();
  let groupsSeen = new Map<object, number>();
  for (const e of entries) {
    const f = setIndex(fieldsSeen, part[1], e.fields, () => Object.keys(e.fields));
    const g = setIndex(groupsSeen, part[2], e.groups, () => [...e.groups]);
    part[3].push([e.profileId, e.key, f, g]);
    if (part[3].length === ROWS_PER_PART) {
      yield JSON.stringify(part);
      part = ['entries', [], [], []];
      fieldsSeen = new Map();
      groupsSeen = new Map();
    }
  }
  if (part[3].length > 0) yield JSON.stringify(part);
}

function* mapped<A, B>(items: Iterable<A>, f: (a: A) => B): Generator<B> {
  for (const item of items) yield f(item);
}

const indexOf = (runs: RunInfo[], run: RunInfo | null): number | null => {
  if (run === null) return null;
  const at = runs.indexOf(run);
  return at >= 0 ? at : runs.push(run) - 1;
};

function* destinationParts(v: DestinationView): Generator<string> {
  const l = v.ledger;
  const runs: RunInfo[] = [];
  const head: t.TypeOf<typeof DestinationHead> = {
    destinationId: v.destinationId,
    config: v.config,
    configPosition: v.configPosition,
    open: indexOf(runs, l.open),
    lastFinished: indexOf(runs, l.lastFinished),
    lastRun: indexOf(runs, l.lastRun),
    runs,
    runCount: l.runs,
    revision: l.revision,
    taken: l.taken,
    entries: l.entries.size,
    owners: l.owners.size,
    pending: l.pending.size,
    failures: l.failures.size,
    retryRequested: l.retryRequested.size,
  };
  yield JSON.stringify(['destination', head]);
  yield* entryParts(l.entries.values());
  // In the order they were decided: a profile's pending commands are settled in that order.
  yield* rowsOf('pending', l.pending.values());
  yield* rowsOf('failures', l.failures);
  yield* rowsOf('retryRequested', l.retryRequested);
}

/** The state as parts, made one at a time as they are asked for, so memory stays bounded. */
export function* snapshotParts(s: EngineState): Generator<string> {
  const head: t.TypeOf<typeof Head> = {
    position: s.position,
    folded: s.folded,
    profiles: s.world.profiles.size,
    groups: s.world.groups.size,
    touches: s.touchPositions.length,
    destinations: s.destinations.size,
  };
  yield JSON.stringify(['head', head]);
  yield* rowsOf(
    'profiles',
    mapped(s.world.profiles, ([id, p]): ProfileRow => [id, p.properties, p.groups, p.deleted ? 1 : 0]),
  );
  yield* rowsOf(
    'groups',
    mapped(s.world.groups, ([id, g]): GroupRow => [id, g.name, g.deleted ? 1 : 0, [...g.members]]),
  );
  for (let i = 0; i < s.touchPositions.length; i += ROWS_PER_PART)
    yield JSON.stringify([
      'touches',
      s.touchPositions.slice(i, i + ROWS_PER_PART),
      s.touchProfiles.slice(i, i + ROWS_PER_PART),
    ]);
  for (const v of s.destinations.values()) yield* destinationParts(v);
  yield JSON.stringify(['end']);
}

/** What a restore has read so far. */
type Restoring = {
  readonly s: EngineState;
  head: t.TypeOf<typeof Head> | null;
  readonly heads: t.TypeOf<typeof DestinationHead>[];
  view: DestinationView | null;
  ended: boolean;
};

const decoded = <A, O>(codec: t.Type<A, O, unknown>, value: unknown, what: string): E.Either<string, A> =>
  E.mapLeft((problems: string[]) => `${what}: ${problems.join('; ')}`)(decodeWith(codec)(value));

const runAt = (runs: RunInfo[], at: number | null): RunInfo | null =>
  at === null ? null : (runs[at] ?? null);

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

/** Folds one part into the restore; what is wrong with it, if anything. */
const restorePart = (r: Restoring, part: unknown, n: number): string | undefined => {
  if (!Array.isArray(part) || typeof part[0] !== 'string') return `part ${n} has no kind`;
  const kind = part[0];
  if (r.ended) return `part ${n} comes after the end`;
  if ((r.head === null) !== (kind === 'head')) return `part ${n} (${kind}) is out of place`;
  const s = r.s;
  const rows = part[1] as unknown[];
  switch (kind) {
    case 'head': {
      const head = decoded(Head, part[1], `part ${n} (head)`);
      if (E.isLeft(head)) return head.left;
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
      for (const [id, name, deleted, members] of rows as GroupRow[])
        s.world.groups.set(id, {
          name,
          members: new Set(members),
          deleted: deleted === 1,
        } satisfies GroupState);
      return undefined;
    case 'touches':
      s.touchPositions.push(...(part[1] as number[]));
      s.touchProfiles.push(...(part[2] as string[]));
      return undefined;
    case 'destination': {
      const h = decoded(DestinationHead, part[1], `part ${n} (destination)`);
      if (E.isLeft(h)) return h.left;
      r.heads.push(h.right);
      r.view = restoredView(h.right);
      s.destinations.set(h.right.destinationId, r.view);
      return undefined;
    }
    case 'end':
      r.ended = true;
      return undefined;
  }
  if (!LEDGER_KINDS.has(kind)) return `part ${n} is of an unknown kind, ${JSON.stringify(kind).slice(0, 40)}`;
  const l = r.view?.ledger;
  if (l === undefined) return `part ${n} (${kind}) comes before any destination`;
  switch (kind) {
    case 'entries': {
      // The owners of records are the entries read backwards (settle keeps them so): not stored.
      const [, fieldSets, groupSets, entries] = part as EntryPart;
      for (const [profileId, key, f, g] of entries) {
        const fields = fieldSets[f];
        const groups = groupSets[g];
        if (fields === undefined || groups === undefined)
          return `part ${n} (entries) gives ${profileId} a set of names it does not list`;
        l.entries.set(profileId, restoredEntry(profileId, key, fields, groups));
        l.owners.set(key, profileId);
      }
      return undefined;
    }
    case 'pending':
      for (const cmd of rows as PendingCommand[]) {
        l.pending.set(cmd.commandId, cmd);
        hold(l.pendingByProfile, cmd.decision.profileId, cmd.commandId);
      }
      return undefined;
    case 'failures':
      for (const [profileId, failure] of rows as [string, Failure][]) l.failures.set(profileId, failure);
      return undefined;
    case 'retryRequested':
      for (const profileId of rows as string[]) l.retryRequested.add(profileId);
      return undefined;
    default:
      return `part ${n} is of an unknown kind, ${JSON.stringify(kind).slice(0, 40)}`;
  }
};

/**
 * The state the parts were taken from, or why they cannot give it back (a part missing, unknown or
 * malformed): the caller then folds the store from the start, which is always right.
 */
export const restoreState = async (parts: AsyncIterable<string>): Promise<E.Either<string, EngineState>> => {
  const r: Restoring = { s: initialState(), head: null, heads: [], view: null, ended: false };
  let n = 0;
  for await (const text of parts) {
    n++;
    let problem: string | undefined;
    try {
      problem = restorePart(r, JSON.parse(text), n);
    } catch (e) {
      // JSON.parse's SyntaxError, or a TypeError from rows of the wrong shape (a damaged part): the
      // snapshot is unusable, and folding the store is the remedy, so the cause is only reported.
      if (!(e instanceof SyntaxError || e instanceof TypeError)) throw e;
      problem = `part ${n} is malformed: ${e.message}`;
    }
    if (problem !== undefined) return E.left(problem);
  }
  if (r.head === null) return E.left('it has no parts');
  if (!r.ended) return E.left(`it ends after part ${n}, without its end`);
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
): string | undefined => {
  const counts: [string, number, number][] = [
    ['profiles', s.world.profiles.size, head.profiles],
    ['groups', s.world.groups.size, head.groups],
    ['touches', s.touchPositions.length, head.touches],
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
  return off && `it holds ${off[1]} ${off[0]} where its head says ${off[2]}`;
};
