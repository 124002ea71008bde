// How each projection is kept in the state file's rows, and read back. The rows are syncline's own,
// written by this module: they are trusted as stored events are once checked, and a row that does
// not parse stops the command with StateDamaged (the remedy is `--rebuild-state`).
import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';
import { decodeWith } from '../../domain/codec.js';
import { DestinationConfig } from '../../domain/destination.js';
import type { LedgerEntry } from '../../domain/decision.js';
import type { Properties } from '../../domain/values.js';
import {
  restoredEntry,
  type Failure,
  type Ledger,
  type PendingCommand,
  type RunInfo,
} from '../../projections/ledger.js';
import type { GroupState, ProfileState } from '../../projections/world.js';
import type { RowCodec } from './tables.js';

/** A row of the state file that cannot be read back: a damaged file, or one written by a bug. */
export class StateDamaged extends Error {
  constructor(
    readonly table: string,
    readonly key: string,
    problem: string,
  ) {
    super(`the engine state's ${table} row ${JSON.stringify(key)} ${problem}`);
  }
}

const parsed = (table: string, raw: string | number, key: string): unknown => {
  try {
    return JSON.parse(String(raw));
  } catch (e) {
    throw new StateDamaged(table, key, `is not JSON: ${(e as Error).message}`);
  }
};

/** JSON rows of `table`, checked only for being an array of `length` (the cheap check of a hot row). */
const jsonRows = <V, R extends unknown[]>(
  table: string,
  length: number,
  from: (row: R, key: string) => V,
  to: (v: V) => unknown[],
): RowCodec<V> => ({
  encode: (v) => JSON.stringify(to(v)),
  decode: (raw, key) => {
    const row = parsed(table, raw, key);
    if (!Array.isArray(row) || row.length !== length)
      throw new StateDamaged(table, key, `is not a row of ${length} values`);
    return from(row as R, key);
  },
});

export const profileRows = jsonRows<ProfileState, [Properties, string[], 0 | 1]>(
  'profiles',
  3,
  ([properties, groups, deleted]: [Properties, string[], 0 | 1]) => ({
    properties,
    groups,
    deleted: deleted === 1,
  }),
  (p) => [p.properties, p.groups, p.deleted ? 1 : 0],
);

export const groupRows = jsonRows<GroupState, [string, 0 | 1]>(
  'groups',
  2,
  ([name, deleted]: [string, 0 | 1]) => ({ name, deleted: deleted === 1 }),
  (g) => [g.name, g.deleted ? 1 : 0],
);

/**
 * By names, as the ledger fold keeps entries (see ledger.ts): values are in the recorded decisions.
 * An entry with values (a destination observed through the ledger keeps them) is kept with them.
 */
export const entryRows = jsonRows<LedgerEntry, [string, string[] | Properties, string[]]>(
  'entries',
  3,
  ([key, fields, groups]: [string, string[] | Properties, string[]], profileId) =>
    Array.isArray(fields)
      ? restoredEntry(profileId, key, fields, groups)
      : { profileId, key, fields, groups },
  (e) => [
    e.key,
    Object.values(e.fields).every((v) => v === null) ? Object.keys(e.fields) : e.fields,
    e.groups,
  ],
);

export const failureRows: RowCodec<Failure> = {
  encode: (f) => JSON.stringify(f),
  decode: (raw, key) => parsed('failures', raw, key) as Failure,
};

/** A record key's claimants: one id, or a list while several claim it (see holders.ts). */
export const claimRows: RowCodec<string | Set<string>> = {
  encode: (h) => (typeof h === 'string' ? JSON.stringify(h) : JSON.stringify([...h])),
  decode: (raw, key) => {
    const h = parsed('claims', raw, key);
    return typeof h === 'string' ? h : new Set(h as string[]);
  },
};

/** A pending command's row (its commandId the key), as the ledger fold made it. */
export const pendingRow = (raw: string, commandId: string): PendingCommand => {
  const cmd = parsed('pending', raw, commandId);
  if (typeof cmd !== 'object' || cmd === null || (cmd as { commandId?: unknown }).commandId !== commandId)
    throw new StateDamaged('pending', commandId, 'is not the command it is filed under');
  return cmd as PendingCommand;
};

export const textRows: RowCodec<string> = { encode: (s) => s, decode: (raw) => String(raw) };

const RunIndex = t.union([t.number, t.null]);

/**
 * A destination's config and ledger scalars, one row each, decoded whole (there are few). Runs are
 * listed once and referred to by index: the open run is the same object as the last run.
 */
export const DestinationRow = t.type({
  /** where the destination comes among the state's, which is the order they were first configured */
  seq: t.number,
  config: t.union([DestinationConfig, t.null]),
  configPosition: t.number,
  runs: t.array(t.UnknownRecord),
  open: RunIndex,
  lastFinished: RunIndex,
  lastRun: RunIndex,
  runCount: t.number,
  revision: t.number,
  taken: t.number,
});
export type DestinationRow = t.TypeOf<typeof DestinationRow>;

export const destinationRow = (
  seq: number,
  config: DestinationConfig | null,
  configPosition: number,
  l: Ledger,
): string => {
  const runs: RunInfo[] = [];
  const at = (r: RunInfo | null): number | null => {
    if (r === null) return null;
    const i = runs.indexOf(r);
    return i >= 0 ? i : runs.push(r) - 1;
  };
  const row: DestinationRow = {
    seq,
    config,
    configPosition,
    open: at(l.open),
    lastFinished: at(l.lastFinished),
    lastRun: at(l.lastRun),
    runs,
    runCount: l.runs,
    revision: l.revision,
    taken: l.taken,
  };
  return JSON.stringify(row);
};

export const readDestinationRow = (raw: string, destinationId: string): DestinationRow => {
  const row = decodeWith(DestinationRow)(parsed('destinations', raw, destinationId));
  if (E.isLeft(row)) throw new StateDamaged('destinations', destinationId, row.left.problems.join('; '));
  const { runs } = row.right;
  for (const i of [row.right.open, row.right.lastFinished, row.right.lastRun])
    if (i !== null && runs[i] === undefined)
      throw new StateDamaged('destinations', destinationId, `refers to run ${i} of ${runs.length}`);
  return row.right;
};

/** The run a row refers to (checked by readDestinationRow). */
export const runAt = (row: DestinationRow, i: number | null): RunInfo | null =>
  i === null ? null : (row.runs[i] as RunInfo);
