// A ledger's commands decided and not yet settled, kept in the order they were decided: outcomes
// come back in that order, so settling one finds it at the front, without hashing its id.
import type { Decision } from '../domain/decision.js';

export type PendingCommand = {
  readonly runId: string;
  readonly commandId: string;
  readonly decision: Decision;
  readonly keyAfter: string;
  /** the store position of the BatchDecided that recorded it, when the fold was told (the engine's is) */
  readonly decidedAt?: number;
};

/*
 * A first sync of 100,000 profiles pends and settles a command per profile. Kept in a map by id and
 * a map by profile, that would be four hash-map writes and three reads per command: kept as a queue,
 * folding the record of such a first sync alone takes 396 ms instead of 683, and the engine's thread
 * 2.80 s of CPU instead of 3.29. Here a command is pushed on a queue and taken off its front.
 * Positions are absolute (they only grow), so nothing is renumbered when the front of the queue is
 * dropped.
 *
 * Two indexes cover the rest, each built only when it is needed:
 * - by id, for an outcome not found where the order says (a failure is recorded after the
 *   successes decided after it, a crash's commands are settled by a later run): built at the first
 *   such outcome from what is pending, kept up to date until nothing is pending;
 * - by profile, for the commands decided before a position (see pendingBefore): a run asks only for
 *   profiles it has not decided yet, so the commands it decides itself are never indexed.
 *
 * A command id is pending at most once: an id names the destination, profile, store position and
 * operation, and the batch that decides a profile again settles its pending commands first (the
 * fold takes `settled` before it pends `decisions`).
 */
export type Pending = {
  /** the commands from position `base` on; null where one was taken before the front reached it */
  queue: (PendingCommand | null)[];
  base: number;
  /** the first position that holds a command (the end when none does) */
  front: number;
  /** one past the position last taken: where the next outcome usually is */
  cursor: number;
  size: number;
  byId: Map<string, number> | null;
  /** profile → its commands decided before position `indexed`, in the order decided */
  readonly byProfile: Map<string, PendingCommand | PendingCommand[]>;
  indexed: number;
};

export const emptyPending = (): Pending => ({
  queue: [],
  base: 0,
  front: 0,
  cursor: 0,
  size: 0,
  byId: null,
  byProfile: new Map(),
  indexed: 0,
});

/** How far past the last outcome the next is looked for before the index by id is built. */
const SCAN = 16;
/** The front of the queue is dropped once it is this long and at least half of the queue. */
const DROP_FROM = 1024;

/** The position the next command decided will have. */
export const pendingMark = (p: Pending): number => p.base + p.queue.length;

export const addPending = (p: Pending, cmd: PendingCommand): void => {
  p.byId?.set(cmd.commandId, pendingMark(p));
  p.queue.push(cmd);
  p.size++;
};

const holds = (p: Pending, pos: number, commandId: string): boolean =>
  p.queue[pos - p.base]?.commandId === commandId;

const positionOf = (p: Pending, commandId: string): number => {
  if (holds(p, p.front, commandId)) return p.front;
  const end = pendingMark(p);
  for (let pos = Math.max(p.cursor, p.front), n = 0; pos < end && n <= SCAN; pos++, n++)
    if (holds(p, pos, commandId)) return pos;
  if (p.byId === null) {
    p.byId = new Map();
    for (let pos = p.front; pos < end; pos++) {
      const cmd = p.queue[pos - p.base];
      if (cmd) p.byId.set(cmd.commandId, pos);
    }
  }
  return p.byId.get(commandId) ?? -1;
};

/** Takes the command out of the pending ones; undefined when it is not pending. */
export const takePending = (p: Pending, commandId: string): PendingCommand | undefined => {
  const pos = positionOf(p, commandId);
  if (pos < 0) return undefined;
  const cmd = p.queue[pos - p.base] as PendingCommand;
  p.queue[pos - p.base] = null;
  p.size--;
  p.byId?.delete(commandId);
  if (pos < p.indexed) unindex(p, cmd);
  p.cursor = pos + 1;
  if (p.size === 0) {
    // Nothing pending: start afresh at the end, with no index by id to keep up.
    p.base = pendingMark(p);
    p.queue = [];
    p.front = p.cursor = p.indexed = p.base;
    p.byId = null;
    return cmd;
  }
  const end = pendingMark(p);
  while (p.front < end && p.queue[p.front - p.base] === null) p.front++;
  const dropped = p.front - p.base;
  if (dropped >= DROP_FROM && dropped * 2 >= p.queue.length) {
    p.queue = p.queue.slice(dropped);
    p.base = p.front;
    p.indexed = Math.max(p.indexed, p.base);
  }
  return cmd;
};

const unindex = (p: Pending, cmd: PendingCommand): void => {
  const pid = cmd.decision.profileId;
  const held = p.byProfile.get(pid);
  if (held === cmd) p.byProfile.delete(pid);
  else if (Array.isArray(held)) {
    const rest = held.filter((c) => c !== cmd);
    p.byProfile.set(pid, rest.length === 1 ? (rest[0] as PendingCommand) : rest);
  }
};

const NONE: readonly PendingCommand[] = Object.freeze([]);

/**
 * The profile's pending commands decided before position `mark`, in the order decided, and perhaps
 * some decided since. Exact when the profile has decided nothing since `mark`: a run takes its mark
 * as it starts and decides each profile once, so its own commands are never indexed.
 */
export const pendingBefore = (p: Pending, mark: number, profileId: string): readonly PendingCommand[] => {
  for (; p.indexed < mark; p.indexed++) {
    const cmd = p.queue[p.indexed - p.base];
    if (!cmd) continue;
    const pid = cmd.decision.profileId;
    const held = p.byProfile.get(pid);
    if (held === undefined) p.byProfile.set(pid, cmd);
    // A new array: one handed out before must not change under its holder (see lookAhead's stale).
    else p.byProfile.set(pid, Array.isArray(held) ? [...held, cmd] : [held, cmd]);
  }
  const held = p.byProfile.get(profileId);
  return held === undefined ? NONE : Array.isArray(held) ? held : [held];
};

/** Every pending command, in the order decided. */
export function* pendingCommands(p: Pending): Generator<PendingCommand> {
  for (let pos = p.front; pos < pendingMark(p); pos++) {
    const cmd = p.queue[pos - p.base];
    if (cmd) yield cmd;
  }
}
