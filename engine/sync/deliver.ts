// Applies commands through a destination with retries: retryable errors back off exponentially
// (at most `maxAttempts`), waits the destination asks for do not count, terminal errors stop at once.
import * as E from 'fp-ts/lib/Either.js';
import type { Command, CommandOutcome } from '../../domain/command.js';
import type { CommandResult } from '../../domain/syncEvents.js';
import type { Destination } from '../ports.js';

export type DeliveryOptions = {
  readonly maxAttempts: number;
  readonly backoffMs: number;
  /** bounds how long a destination that keeps asking to wait can hold a run */
  readonly maxWaits: number;
  readonly sleep: (ms: number) => Promise<void>;
  readonly now: () => Date;
};

export const defaultDelivery: DeliveryOptions = {
  maxAttempts: 5,
  backoffMs: 200,
  maxWaits: 20,
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  now: () => new Date(),
};

type Tracked = { command: Command; attempts: number; waits: number };

const isOk = (o: CommandOutcome): boolean => o.status === 'ok';

/** One result per command, in the order given. Never throws for destination errors. */
export const deliver = async (
  destination: Destination,
  commands: readonly Command[],
  opts: DeliveryOptions,
): Promise<CommandResult[]> => {
  let outcome = await destination.apply(commands)();
  // Every outcome of one apply call is known at the same moment: one timestamp per call, not per command.
  let at = opts.now().toISOString();
  // Most calls succeed whole at the first attempt: those need no tracking of attempts and waits.
  if (E.isRight(outcome) && outcome.right.length === commands.length && outcome.right.every(isOk))
    return commands.map((c) => ({ commandId: c.commandId, attempts: 1, at, status: 'ok' }));

  const results = new Map<string, CommandResult>();
  let open: Tracked[] = commands.map((command) => ({ command, attempts: 0, waits: 0 }));
  const finish = (t: Tracked, r: Omit<CommandResult, 'commandId' | 'attempts' | 'at'>) =>
    results.set(t.command.commandId, { commandId: t.command.commandId, attempts: t.attempts, at, ...r });

  for (;;) {
    const again: Tracked[] = [];
    let wait = 0;
    if (outcome._tag === 'Left') {
      const err = outcome.left;
      const retryable = err._tag === 'DestinationUnavailable' && err.retryable;
      for (const t of open) {
        t.attempts++;
        if (retryable && t.attempts < opts.maxAttempts) again.push(t);
        else finish(t, { status: 'error', retryable, message: err.message });
      }
    } else {
      const outcomes = outcome.right;
      open.forEach((t, i) => {
        const o = outcomes[i];
        if (o === undefined) {
          t.attempts++;
          finish(t, {
            status: 'error',
            retryable: true,
            message: 'the destination returned no outcome for this command',
          });
          return;
        }
        if (o.status === 'ok') {
          t.attempts++;
          finish(t, { status: 'ok' });
          return;
        }
        if (o.retryable && o.retryAfterMs !== undefined && t.waits < opts.maxWaits) {
          // Rate limits: the destination says when to come back; that is not a failed attempt.
          t.waits++;
          wait = Math.max(wait, o.retryAfterMs);
          again.push(t);
          return;
        }
        t.attempts++;
        if (o.retryable && t.attempts < opts.maxAttempts) again.push(t);
        else finish(t, { status: 'error', retryable: o.retryable, message: o.message });
      });
    }
    if (again.length === 0) break;
    const maxAttempt = Math.max(...again.map((t) => t.attempts));
    await opts.sleep(Math.max(wait, maxAttempt > 0 ? opts.backoffMs * 2 ** (maxAttempt - 1) : 0));
    open = again;
    outcome = await destination.apply(open.map((t) => t.command))();
    at = opts.now().toISOString();
  }
  return commands.map((c) => results.get(c.commandId) as CommandResult);
};
