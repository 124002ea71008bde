// Commands a crash left without outcome, at a destination that cannot be looked up: nothing can show
// whether they were applied, so a run sends them again, under their own ids, before it decides.
import * as E from 'fp-ts/lib/Either.js';
import type { Ledger } from '../../projections/ledger.js';
import { pendingCommands, type PendingCommand } from '../../projections/pending.js';
import type { Applying, Tagged } from './applying.js';
import { toCommand } from './batchRecord.js';
import type { WriteError, Writer } from './writer.js';

/**
 * Where lookups show the destination, a command left without outcome is settled by what they find
 * (confirmed or superseded). A destination observed through the ledger shows only what syncline
 * knows it wrote, which never holds such a command: taken as not applied, a change undone after the
 * crash would be decided against values the receiver no longer holds, and never sent. Sent again
 * instead, with the id it was decided under, it lands once (a receiver remembers the ids it applied)
 * and its outcome settles it, so the run decides from what the receiver holds.
 *
 * The outcomes are recorded before the first batch is prepared, filed under the batches that
 * decided the commands, as `log` and `explain` look for them.
 */
export const resendUnsettled = async (
  ledger: Ledger,
  commands: Applying,
  write: Writer,
  outbox: Tagged[],
  profiles: number,
): Promise<E.Either<WriteError, number>> => {
  const byBatch = new Map<number, PendingCommand[]>();
  for (const cmd of pendingCommands(ledger.pending)) {
    const at = cmd.decidedAt ?? 0;
    const list = byBatch.get(at);
    if (list === undefined) byBatch.set(at, [cmd]);
    else list.push(cmd);
  }
  if (byBatch.size === 0) return E.right(0);
  let sent = 0;
  for (const [at, cmds] of byBatch) {
    await commands.recorded(
      cmds.map((c) => toCommand(c.commandId, c.decision)),
      at,
      profiles,
    );
    sent += cmds.length;
  }
  await commands.drain();
  const written = await write(outbox.splice(0));
  return E.map(() => sent)(written);
};
