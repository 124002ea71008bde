// Noticing a destination that lost the records syncline wrote there (its file deleted, its table
// emptied): a run of changes alone would never write them again, so the run looks at everyone.
import * as E from 'fp-ts/lib/Either.js';
import type { Destination } from '../ports.js';
import type { DestinationView } from '../state/engineState.js';

/** What the destination holds against what the ledger says syncline wrote there. */
export type Holding = {
  /** records the destination holds; null: it has nowhere to hold them (no table, no file) */
  readonly held: number | null;
  /** records the ledger says syncline wrote there and has not deleted */
  readonly written: number;
};

/**
 * The destination's count beside the ledger's, or undefined when it cannot count (or failed to).
 * `atMost` lets the count stop early: lostEverything needs to know only whether there is any record.
 */
export const holdingOf = async (
  destination: Destination,
  v: DestinationView,
  atMost?: number,
): Promise<Holding | undefined> => {
  if (destination.count === undefined) return undefined;
  // A failed count is only a check skipped: the run's lookups meet the same failure and report it.
  const counted = await destination
    .count(atMost)()
    .catch(() => E.left(null));
  return E.isLeft(counted) ? undefined : { held: counted.right, written: v.ledger.entries.size };
};

/**
 * Why every record is gone, when it is: the destination holds none although syncline wrote some.
 * Fewer records than written is only reported (status): records deleted at the destination on
 * purpose are a destination's business, and a full run each time would cost every sync.
 */
export const lostEverything = (h: Holding | undefined): string | undefined => {
  if (h === undefined || h.written === 0 || (h.held ?? 0) > 0) return undefined;
  const where = h.held === null ? 'has no table (or file) for its records' : 'holds no records';
  const records = h.written === 1 ? '1 record' : `${h.written} records`;
  return `the destination ${where} although syncline wrote ${records} there: this run looks at every profile and writes them again`;
};

/** Fewer records held than written, as status words it; undefined when nothing is amiss. */
export const missingRecords = (h: Holding | undefined): number | undefined =>
  h === undefined ? undefined : Math.max(0, h.written - (h.held ?? 0)) || undefined;
