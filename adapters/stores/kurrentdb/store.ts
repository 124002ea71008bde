// The KurrentDB EventStore through the official client: syncline's streams as the server's streams
// under an optional prefix, positions as `$all` commit positions, checkpoints as streams of their own.
import {
  BACKWARDS,
  END,
  FORWARDS,
  KurrentDBClient,
  NO_STREAM,
  START,
  STREAM_STATE,
  jsonEvent,
  streamNameFilter,
} from '@kurrent/kurrentdb-client';
import * as E from 'fp-ts/lib/Either.js';
import * as TE from 'fp-ts/lib/TaskEither.js';
import type { EventStore, StoreError } from '../../../engine/ports.js';
import { errorType, failureOf, unreachable, type Kdb } from './connection.js';
import { namesFor } from './names.js';
import { kurrentReads, streamEvents } from './reading.js';
import type { KurrentLocation } from './url.js';
import { kurrentWrites, unsupported } from './writing.js';

/** How many of a checkpoint's values its stream keeps: the last is the checkpoint, the rest history. */
const KEPT_VALUES = 10;

/** A checkpoint is the `value` of the last event in its stream. */
const checkpointOf = async (k: Kdb, name: string): Promise<{ revision: number; value: number | null }> => {
  for await (const e of streamEvents(k, k.names.checkpoint(name), { backwards: true, maxCount: 1 })) {
    const value = (e.data as { value?: unknown } | null)?.value;
    return { revision: Number(e.revision), value: typeof value === 'number' ? value : null };
  }
  return { revision: -1, value: null };
};

const checkpoints = (k: Kdb): Pick<EventStore, 'getCheckpoint' | 'setCheckpoint'> => ({
  getCheckpoint: async (name) => (await checkpointOf(k, name)).value,
  // Compare-and-set on the stream's revision: the value is read, compared, and the new one appended
  // only if nobody appended since; a writer that lost the race is told the value that won.
  setCheckpoint: (name, expected, value) => async () => {
    try {
      const now = await checkpointOf(k, name);
      const conflict = (actual: number | null): E.Either<StoreError, void> =>
        E.left({ _tag: 'CheckpointConflict', name, expected, actual });
      if (now.value !== expected) return conflict(now.value);
      try {
        const stream = k.names.checkpoint(name);
        await k.client.appendRecords(
          [{ streamName: stream, record: jsonEvent({ type: 'CheckpointSet', data: { value } }) }],
          [
            {
              type: STREAM_STATE,
              streamName: stream,
              expectedState: now.revision < 0 ? NO_STREAM : BigInt(now.revision),
            },
          ],
        );
      } catch (error) {
        if (errorType(error) === 'append-consistency-violation')
          return conflict((await checkpointOf(k, name)).value);
        throw error;
      }
      // Only the last value counts: the server may drop all but the last few (`$maxCount`).
      if (now.revision < 0)
        await k.client.setStreamMetadata(k.names.checkpoint(name), { maxCount: KEPT_VALUES });
      return E.right(undefined);
    } catch (error) {
      return E.left(failureOf(k, error));
    }
  },
});

/**
 * KurrentDB checks its own storage (chunk hashes, verified on reading); what syncline checks is that
 * every one of its streams holds revisions 0, 1, 2… in `$all` order. Reads every event once.
 */
const integrity =
  (k: Kdb): EventStore['checkIntegrity'] =>
  () =>
  async () => {
    const last = new Map<string, number>();
    const findings: string[] = [];
    if (k.closed()) return E.left(failureOf(k, new Error('closed')));
    try {
      for await (const r of k.client.readAll({
        fromPosition: START,
        direction: FORWARDS,
        filter: streamNameFilter({ regex: k.names.ownStreams() }),
      })) {
        if (r.event === undefined) continue;
        const stream = r.event.streamId;
        const revision = Number(r.event.revision);
        const before = last.get(stream) ?? -1;
        if (revision !== before + 1 && findings.length < 5)
          findings.push(`stream ${k.names.unprefixed(stream)} goes from revision ${before} to ${revision}`);
        last.set(stream, revision);
      }
    } catch (error) {
      return E.left(failureOf(k, error));
    }
    return E.right({
      check: 'revisions of every stream in $all order (KurrentDB checks its own chunks)',
      findings,
    });
  };

/** The v2 append the client's appendRecords calls (KurrentDB 26.1 and later serve it). */
const APPEND_RECORDS = '/kurrentdb.protocol.v2.streams.StreamsService/AppendRecords';

/**
 * Whether the server appends records to several streams atomically, in the request's order: what
 * it lists among its supported methods (the client asks once and keeps the answer). The client keeps that check to itself, so it
 * is reached through its documented-as-protected `supports`; a server that lists nothing (older than
 * 21.10, say) cannot.
 */
const appendsAtomically = (client: KurrentDBClient): Promise<boolean> =>
  (client as unknown as { supports: (method: { path: string }) => Promise<boolean> }).supports({
    path: APPEND_RECORDS,
  });

/**
 * Connects to the server `location` names, and asks it for the newest event of `$all`: a server
 * that does not answer is refused here, `cannot reach the store at kurrentdb://host:port: <reason>`.
 */
export const openKurrentStore = async (
  location: KurrentLocation,
): Promise<E.Either<{ readonly _tag: 'StoreUnavailable'; readonly message: string }, EventStore>> => {
  let client: KurrentDBClient;
  try {
    client = KurrentDBClient.connectionString(location.connectionString);
  } catch (error) {
    return E.left({ _tag: 'StoreUnavailable', message: unreachable(location, error) });
  }
  let closed = false;
  const k: Kdb = { client, names: namesFor(location.prefix), location, closed: () => closed };
  try {
    for await (const _ of client.readAll({ fromPosition: END, direction: BACKWARDS, maxCount: 1 })) break;
    if (!(await appendsAtomically(client))) {
      await client.dispose().catch(() => undefined);
      return E.left(unsupported(k) as { _tag: 'StoreUnavailable'; message: string });
    }
  } catch (error) {
    await client.dispose().catch(() => undefined);
    return E.left({ _tag: 'StoreUnavailable', message: unreachable(location, error) });
  }
  const subscriptions = new Set<{ unsubscribe: () => Promise<void> }>();
  let closing: Promise<void> | null = null;
  return E.right({
    ...kurrentWrites(k),
    ...kurrentReads(k, subscriptions),
    ...checkpoints(k),
    // KurrentDB acknowledges an append once it is on disk.
    flush: () => TE.right(undefined),
    checkIntegrity: integrity(k),
    close: () =>
      (closing ??= (async () => {
        closed = true;
        await Promise.all([...subscriptions].map((s) => s.unsubscribe().catch(() => undefined)));
        await client.dispose().catch(() => undefined);
      })()),
  });
};
