// Catch-up subscriptions to $all over Streams.Read: confirmation, historical events, checkpoints for
// filtered subscriptions, the caught-up signal, then live events pushed as later commits land.
import { randomUUID } from 'node:crypto';
import type { ServerWritableStream } from '@grpc/grpc-js';
import { resolver } from './links.js';
import type { EventLog, StoredEvent } from './log.js';
import { streamsPb } from './protos.js';
import type { EventFilter, PositionFrom } from './reads.js';
import { readEventResp, timestampNow } from './wire.js';

type ReadReq = InstanceType<typeof streamsPb.ReadReq>;
type ReadResp = InstanceType<typeof streamsPb.ReadResp>;

/** The server's Enumerator.DefaultReadBatchSize: the search window when the client sets none. */
const DEFAULT_SEARCH_WINDOW = 32;

export type SubscriptionRequest = {
  readonly from: PositionFrom;
  readonly filter: EventFilter;
  /** resolve_links: send "$>" records as the events they point to (see links.ts) */
  readonly resolveLinks: boolean;
  /** null without a server-side filter; else the number of considered events between checkpoints */
  readonly checkpointInterval: number | null;
};

export function checkpointIntervalOf(maxSearchWindow: number | null, multiplier: number): number {
  return (maxSearchWindow ?? DEFAULT_SEARCH_WINDOW) * Math.max(1, multiplier);
}

/**
 * Docs: https://docs.kurrent.io/clients/node/v1.2/subscriptions.html ("Subscribing to $all",
 * "Server-side filtering", "Checkpoint"): a subscription from a position receives the events after it
 * (from START: every event), keeps receiving new events as they are appended, and, when filtered,
 * receives checkpoints (positions it has searched up to) every `checkpointInterval` x window events.
 * Message order follows the server's Enumerator.AllSubscription(Filtered): confirmation, catch-up
 * events, [checkpoint,] caught-up, live events [and checkpoints].
 */
export function subscribeToAll(
  log: EventLog,
  call: ServerWritableStream<ReadReq, ReadResp>,
  request: SubscriptionRequest,
): void {
  const send = (resp: ReadResp) => {
    if (!call.cancelled) call.write(resp);
  };
  send(
    new streamsPb.ReadResp().setConfirmation(
      new streamsPb.ReadResp.SubscriptionConfirmation().setSubscriptionId(randomUUID()),
    ),
  );

  // The last position sent towards the client (events after it are new to the client).
  let checkpoint =
    request.from.kind === 'start'
      ? -1
      : request.from.kind === 'end'
        ? (log.all[log.all.length - 1]?.position ?? -1)
        : request.from.commit;
  let considered = 0;

  const checkpointResp = (position: number) =>
    new streamsPb.ReadResp().setCheckpoint(
      new streamsPb.ReadResp.Checkpoint()
        .setCommitPosition(String(position))
        .setPreparePosition(String(position))
        .setTimestamp(timestampNow()),
    );

  const consider = (events: readonly StoredEvent[], live: boolean) => {
    const resolve = resolver(log, request.resolveLinks, live);
    for (const event of events) {
      if (event.position <= checkpoint) continue;
      if (request.filter(event)) send(readEventResp(resolve(event)));
      checkpoint = event.position;
      considered++;
      if (request.checkpointInterval !== null && considered >= request.checkpointInterval) {
        considered %= request.checkpointInterval;
        send(checkpointResp(checkpoint));
      }
    }
  };

  // Catching up and going live happen in one synchronous step, so no commit can fall between them.
  consider(log.all, false);
  if (request.checkpointInterval !== null && checkpoint >= 0) send(checkpointResp(checkpoint));
  const caughtUp = new streamsPb.ReadResp.CaughtUp().setTimestamp(timestampNow());
  if (checkpoint >= 0) {
    caughtUp.setPosition(
      new streamsPb.ReadResp.Position()
        .setCommitPosition(String(checkpoint))
        .setPreparePosition(String(checkpoint)),
    );
  }
  send(new streamsPb.ReadResp().setCaughtUp(caughtUp));

  const unsubscribe = log.onCommit((events) => consider(events, true));
  call.on('cancelled', unsubscribe);
  call.on('close', unsubscribe);
  call.on('error', unsubscribe);
}
