// Which profiles a run must look at: those changed since the destination's last finished run, or
// all of them after a configuration change, plus unsettled commands, failures and retry requests.
import { pendingCommands } from '../../projections/pending.js';
import {
  touchedSince,
  type DestinationView,
  type EngineState,
  type OrderedKeys,
} from '../state/engineState.js';

export type CandidateReason = 'first-run' | 'config-changed' | 'changes' | 'full' | 'records-lost';

/** A run's candidates, in order, handed out a batch at a time: see candidates. */
export type Candidates = {
  readonly reason: CandidateReason;
  readonly count: number;
  /** the next `n` candidates, fewer at the end */
  readonly take: (n: number) => string[];
  /** lets go of what they are read from (a snapshot of the state on disk) */
  readonly close: () => void;
  /** all of them, when they are held in memory */
  readonly listed?: readonly string[];
};

/**
 * The order of profile ids: by code point, which is the order of their UTF-8 bytes, the order a state
 * on disk keeps them in. JavaScript's own `<` compares UTF-16 code units, which differs only where
 * one id has a character from U+E000 to U+FFFF and the other one beyond U+FFFF (a surrogate) there.
 */
export const compareIds = (a: string, b: string): number => {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return codePointRank(x) - codePointRank(y);
  }
  return a.length - b.length;
};

/** Surrogates (D800–DFFF) move above E000–FFFF, which move down in their place. */
const codePointRank = (unit: number): number =>
  unit < 0xd800 ? unit : unit <= 0xdfff ? unit + 0x2000 : unit - 0x800;

const beyondSurrogates = /[\ud800-\uffff]/;

/**
 * Sorts ids in place by compareIds. The default sort, without a call per comparison, gives the same
 * order unless an id holds a character from U+D800 up: sorting 100,000 ids takes 60–100 ms with a
 * comparator, 30 ms without, and the look for such characters 1–8 ms.
 */
export const sortIds = (ids: string[]): string[] => {
  ids.sort();
  return ids.some((id) => beyondSurrogates.test(id)) ? ids.sort(compareIds) : ids;
};

/** Whether every profile the destination's ledger has an entry for is a candidate: all but the changes. */
export const coverEveryEntry = (c: Candidates): boolean => c.reason !== 'changes';

/** Candidates held in memory, in a sorted list. */
const listed = (ids: string[], reason: CandidateReason): Candidates => {
  let at = 0;
  return {
    reason,
    count: ids.length,
    take: (n) => ids.slice(at, (at += n)),
    close: () => undefined,
    listed: ids,
  };
};

/** Rows read from a snapshot at a time. */
const PAGE = 2_000;

/** The snapshot's keys and the `extra` ones it does not hold (sorted), merged in order. */
const streamed = (keys: OrderedKeys, extra: readonly string[], reason: CandidateReason): Candidates => {
  let page: string[] = [];
  let at = 0;
  let e = 0;
  let ended = false;
  const peek = (): string | undefined => {
    if (at === page.length && !ended) {
      page = keys.next(PAGE);
      at = 0;
      ended = page.length === 0;
    }
    return page[at];
  };
  return {
    reason,
    count: keys.count + extra.length,
    take: (n) => {
      const out: string[] = [];
      while (out.length < n) {
        const k = peek();
        const x = extra[e];
        if (k === undefined && x === undefined) break;
        if (x === undefined || (k !== undefined && compareIds(k, x) < 0)) {
          out.push(k as string);
          at++;
        } else {
          out.push(x);
          e++;
        }
      }
      return out;
    },
    close: () => keys.close(),
  };
};

/**
 * `full`: every profile, as asked (true) or because the destination lost its records. Every profile
 * is read a page at a time from a state on disk (see EngineState.everyone), so that a run over
 * millions holds one batch of them; in memory, and for the changes since the last run, they are
 * listed. The caller closes them.
 */
export const candidates = (
  s: EngineState,
  v: DestinationView,
  full: boolean | 'records-lost' = false,
): Candidates => {
  const last = v.ledger.lastFinished;
  const reason: CandidateReason =
    full === 'records-lost'
      ? full
      : full
        ? 'full'
        : last === null
          ? 'first-run'
          : v.configPosition > last.position
            ? 'config-changed'
            : 'changes';
  const l = v.ledger;
  // Besides those: profiles with commands left unsettled, retryable failures and retry requests.
  // Terminal failures wait for a change to the profile or an explicit `retry`.
  const owed: string[] = [];
  for (const cmd of pendingCommands(l.pending)) owed.push(cmd.decision.profileId);
  for (const [id, f] of l.failures) if (f.retryable) owed.push(id);
  for (const id of l.retryRequested) owed.push(id);
  if (reason === 'changes' && last !== null) {
    const ids = touchedSince(s, last.position);
    for (const id of owed) ids.add(id);
    return listed(sortIds([...ids]), reason);
  }
  const everyone = s.everyone?.(v.destinationId);
  if (everyone !== undefined)
    return streamed(everyone, sortIds([...new Set(owed)].filter((id) => !everyone.has(id))), reason);
  if (l.entries.size === 0 && owed.length === 0)
    // A first run: the world's profiles are distinct already, and a set of them all only costs.
    return listed(sortIds([...s.world.profiles.keys()]), reason);
  const ids = new Set<string>();
  for (const id of s.world.profiles.keys()) ids.add(id);
  for (const id of l.entries.keys()) ids.add(id);
  for (const id of owed) ids.add(id);
  return listed(sortIds([...ids]), reason);
};
