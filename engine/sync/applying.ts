// The commands of a run, applied through the destination one call at a time while the run goes on
// deciding, and their outcomes gathered as BatchApplied events for the run's next append.
import type { Command } from '../../domain/command.js';
import { appliedData, appliedTag, type CommandResult, type SyncEvent } from '../../domain/syncEvents.js';
import { isShortRun } from './batch.js';
import { deliver, type DeliveryOptions } from './deliver.js';
import * as E from 'fp-ts/lib/Either.js';
import type { TaskEither } from 'fp-ts/lib/TaskEither.js';
import type { Destination, StoreError } from '../ports.js';
import { tallyApplied, type Counts } from './summary.js';

export type Tagged = SyncEvent & { readonly tags?: readonly string[] };

export type Applying = {
  /** Queues the commands recorded by the BatchDecided at `decidedAt`, and hands the destination
   *  what is queued if it is idle and `gather` commands are waiting, or the run has fewer than
   *  `gather` profiles `left` to decide; waits for it first when applyBatchSize commands wait. */
  readonly recorded: (commands: readonly Command[], decidedAt: number, left: number) => Promise<void>;
  /** Waits for the apply under way (its outcomes join the outbox); queued commands stay unapplied. */
  readonly underway: () => Promise<void>;
  /** Applies everything queued and waits for it: before the run's last append. */
  readonly drain: () => Promise<void>;
};

/** Commands held back because their record could not be made durable: retried by the next run. */
const notDurable = (commands: readonly Command[], e: StoreError, at: string): CommandResult[] =>
  commands.map((c) => ({
    commandId: c.commandId,
    status: 'error',
    attempts: 0,
    at,
    retryable: true,
    message: `not applied: the store could not make its record of the command durable (${'message' in e ? e.message : e._tag})`,
  }));

/** Commands a large run hands an idle destination at once: see gatherFor. */
export const GATHER = 5000;

/**
 * How many commands an idle destination waits for. A destination's commit is its costly part: the
 * rows of a first sync of 100k, written 500 per transaction (each batch handed over at once), write
 * 0.69 GB to SQLite's write-ahead log for a 22 MB table; 5000 per transaction 0.16 GB, and one
 * transaction 0.05 GB. Gathering 5000 takes the sync's system time from 560 to 440 ms and its CPU
 * down by 150–300 ms (its wall time by less than a shared machine's noise). But a run's last
 * gathered commands are applied after it has decided everything, with nothing left to overlap. So
 * no run waits for more than an eighth of itself, and near its end a run stops gathering: once fewer
 * profiles are left to decide than it would wait for, an idle destination gets each batch as it is
 * recorded (a first sync of 100k then waits 57–82 ms at its end for its last commands, instead of
 * 85–95 ms for 5,000).
 *
 * The rule counts commands, not batches: a batch in which some profiles need nothing holds fewer
 * commands than profiles. A sync of 2,000 changes (about 490 commands per batch of 500) that
 * waits for 500 leaves its first batch unapplied until the second, and its last thousand commands
 * to the end. A short run (see isShortRun) waits for nothing: its first batch is a quarter batch,
 * fewer commands than an eighth of the run, and every batch it hands over at once overlaps more.
 */
export const gatherFor = (profiles: number, batchSize: number, applyBatchSize: number): number =>
  isShortRun(profiles, batchSize)
    ? 1
    : Math.max(1, Math.min(applyBatchSize, GATHER, Math.ceil(profiles / 8)));

/*
 * One apply is kept in flight while later batches are looked up, decided and recorded, so a
 * destination that works off the engine's thread (network, or SQLite's writer thread) overlaps with
 * deciding. An idle destination is handed the queue once `gather` commands wait (see gatherFor);
 * while it is busy, commands gather up to applyBatchSize, and then the run waits: one apply in
 * flight keeps memory bounded and outcomes in order. Every command was recorded before it is
 * queued; outcomes ride with the run's next append, and if the process dies first, the next run
 * settles those commands by observation.
 */
export const applying = (
  destination: Destination,
  /** makes the store's record of the commands durable, before any reaches the destination */
  durable: TaskEither<StoreError, void>,
  delivery: DeliveryOptions,
  applyBatchSize: number,
  gather: number,
  run: { readonly destinationId: string; readonly runId: string },
  counts: Counts,
  outbox: Tagged[],
): Applying => {
  const queue: { readonly command: Command; readonly decidedAt: number }[] = [];
  let inflight: Promise<void> = Promise.resolve();
  let busy = false;
  /** how many batches with commands have been recorded */
  let recordings = 0;
  /** a flush begun while an apply was under way, once the first `covers` recordings had committed */
  let early: { readonly covers: number; readonly synced: Promise<E.Either<StoreError, void>> } | null = null;

  // Called only once the previous apply has ended: the commands leave now, not a microtask later.
  const start = (): void => {
    const queued = queue.splice(0);
    if (queued.length === 0) return;
    const commands = queued.map((q) => q.command);
    // A flush begun after every queued command's record committed makes them durable: see recorded.
    const begun = early !== null && early.covers === recordings ? early.synced : null;
    early = null;
    busy = true;
    const applied = (async () => {
      // A command may reach the destination only once the store would not lose its decision.
      const earlier = begun === null ? null : await begun;
      const synced = earlier !== null && E.isRight(earlier) ? earlier : await durable();
      const results = E.isLeft(synced)
        ? notDurable(commands, synced.left, delivery.now().toISOString())
        : await deliver(destination, commands, delivery);
      outbox.push({
        type: 'BatchApplied',
        // Found from its decisions: one tag per decided batch, not one per command.
        tags: [...new Set(queued.map((q) => q.decidedAt))].map((at) => appliedTag(run.destinationId, at)),
        data: appliedData(run.runId, results),
      });
      tallyApplied(counts, commands, results);
      busy = false;
    })();
    // Awaited later; marked handled so a bug's rejection is not reported before that.
    applied.catch(() => undefined);
    inflight = applied;
  };

  return {
    recorded: async (commands, decidedAt, left) => {
      for (const command of commands) queue.push({ command, decidedAt });
      if (commands.length > 0) recordings++;
      if (!busy) {
        if (queue.length >= gather || left < gather) start();
        return;
      }
      // A short run, or a long one near its end, hands the queue over once the apply under way has
      // ended: the flush its record needs is begun now, beside that apply, rather than after it. Not
      // in the thick of a long run, where a flush per batch would sync the log many times for nothing.
      if (commands.length > 0 && (gather === 1 || left < gather)) {
        const synced = durable();
        // Awaited by start, or dropped when a later flush covers more; a bug's rejection is not lost.
        synced.catch(() => undefined);
        early = { covers: recordings, synced };
      }
      if (queue.length >= applyBatchSize) {
        await inflight;
        start();
      }
    },
    underway: () => inflight,
    drain: async () => {
      await inflight;
      start();
      await inflight;
    },
  };
};
