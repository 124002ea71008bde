// The engine's state as a snapshot: JSON parts that give back the projections as folded up to a
// position, so a new process folds only the events after it (restore.ts reads them back).
import * as t from 'io-ts';
import { DestinationConfig } from '../../domain/destination.js';
import type { LedgerEntry } from '../../domain/decision.js';
import type { Properties } from '../../domain/values.js';
import type { RunInfo } from '../../projections/ledger.js';
import { pendingCommands } from '../../projections/pending.js';
import { TouchLog, type DestinationView, type EngineState } from './engineState.js';

/**
 * Bumped whenever a fold, or the state it builds, changes: a snapshot of another format is never
 * read, and the next writing command folds the store from the start and keeps one of this format.
 * test/snapshot.test.ts holds the parts of a fixed history recorded for this format, and fails when
 * they change while the format does not.
 */
export const SNAPSHOT_FORMAT = 3;

/** Rows per part: a part of the demo's profiles is about 850 KB of JSON. */
const ROWS_PER_PART = 5_000;

/** The scalars of the state; the parts after it must add up to its counts. */
export const Head = t.type({
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
export const DestinationHead = t.type({
  destinationId: t.string,
  config: t.union([DestinationConfig, t.null]),
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
export type ProfileRow = [id: string, properties: Properties, groups: string[], deleted: 0 | 1];
export type GroupRow = [id: string, name: string, deleted: 0 | 1, members: string[]];
/** The fields and groups of an entry are indexes into its part's lists of name sets: see entryParts. */
export type EntryRow = [profileId: string, key: string, fields: number, groups: number];
export type EntryPart = ['entries', fieldSets: string[][], groupSets: string[][], rows: EntryRow[]];

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
  yield* rowsOf('pending', pendingCommands(l.pending));
  yield* rowsOf('failures', l.failures);
  yield* rowsOf('retryRequested', l.retryRequested);
}

/** The touches of a state in memory: only those are kept in snapshots. */
export const logOf = (s: EngineState): TouchLog => {
  if (!(s.touches instanceof TouchLog)) throw new Error('a snapshot is only taken of a state in memory');
  return s.touches;
};

/** The state as parts, made one at a time as they are asked for, so memory stays bounded. */
export function* snapshotParts(s: EngineState): Generator<string> {
  const head: t.TypeOf<typeof Head> = {
    position: s.position,
    folded: s.folded,
    profiles: s.world.profiles.size,
    groups: s.world.groups.size,
    touches: logOf(s).positions.length,
    destinations: s.destinations.size,
  };
  yield JSON.stringify(['head', head]);
  yield* rowsOf(
    'profiles',
    mapped(s.world.profiles, ([id, p]): ProfileRow => [id, p.properties, p.groups, p.deleted ? 1 : 0]),
  );
  yield* rowsOf(
    'groups',
    mapped(s.world.groups, ([id, g]): GroupRow => [
      id,
      g.name,
      g.deleted ? 1 : 0,
      [...s.world.members.of(id)],
    ]),
  );
  const log = logOf(s);
  for (let i = 0; i < log.positions.length; i += ROWS_PER_PART)
    yield JSON.stringify([
      'touches',
      log.positions.slice(i, i + ROWS_PER_PART),
      log.profiles.slice(i, i + ROWS_PER_PART),
    ]);
  for (const v of s.destinations.values()) yield* destinationParts(v);
  yield JSON.stringify(['end']);
}
