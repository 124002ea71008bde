// Appending to the KurrentDB store: each call is one atomic append of records in the call's order,
// carrying a link per tag and a claim per id, so tags and ids are found without a scan, and kept once.
import { randomUUID } from 'node:crypto';
import {
  NO_STREAM,
  STREAM_STATE,
  binaryEvent,
  jsonEvent,
  type AppendRecordInput,
  type ConsistencyCheck,
} from '@kurrent/kurrentdb-client';
import * as E from 'fp-ts/lib/Either.js';
import type {
  AppendResult,
  EventStore,
  StoreError,
  StoredEvent,
  StreamWrite,
} from '../../../engine/ports.js';
import { expectationFailure } from '../common.js';
import { errorType, failureOf, type Kdb } from './connection.js';
import { META, uuidOf } from './names.js';
import { eachAtMost, headOf, storedOf, streamEvents, takenIds } from './reading.js';

/**
 * appendAll sends its events in appends of about this many bytes: KurrentDB refuses an append above
 * its MaxAppendSize (1 MiB by default), so a large file cannot be one transaction here.
 */
export const APPEND_BYTES = 512 * 1024;

/**
 * appendAll claims at most this many ids per append. A claim is a check that the id's stream does not
 * exist yet, and when another process has taken them (two ingests of one file at once) the server's
 * refusal lists every failed check: a thousand of them make an error too large for gRPC to carry
 * (the client waits out its deadline instead), three hundred still arrive.
 */
export const IDS_PER_APPEND = 200;

/** How often an append whose streams moved under it (an `any` stream, an id taken) is tried again. */
const TRIES = 30;

/**
 * Two writers of one stream (two ingests adding members to the same groups) would plan against the
 * same heads again at once: each waits a random while, longer at each try, before planning again.
 */
const backOff = (attempt: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, Math.random() * 10 * Math.min(attempt, 10)));

type Planned = {
  /** every record of the append, in the call's order, each event followed by its links */
  readonly records: AppendRecordInput[];
  /** each written stream at the revision read just before, each claimed id's stream absent */
  readonly checks: ConsistencyCheck[];
  /** the events that will be stored, in order, with the revisions they will take */
  readonly events: readonly Omit<StoredEvent, 'position'>[];
  readonly revisions: Map<string, number>;
};

const link = (target: string, revision: number) =>
  binaryEvent({ type: '$>', data: Buffer.from(`${revision}@${target}`, 'utf8') });

/**
 * The records of one append, in the call's order (KurrentDB's appendRecords keeps that order in
 * `$all`, across streams): each event, a link to it in each of its tags' streams, and a link in its
 * id's stream when the caller gave the id. Checks hold every written stream at the revision read just
 * before (so that links can name the revision each event takes; an `any` stream that moved meanwhile
 * is tried again), and every claimed id's stream absent: the server's own check keeps an id once,
 * whichever process writes it.
 */
const plan = async (k: Kdb, writes: readonly StreamWrite[]): Promise<E.Either<StoreError, Planned>> => {
  const recordedAt = new Date().toISOString();
  const given = [
    ...new Set(writes.flatMap((w) => w.events.flatMap((e) => (e.id === undefined ? [] : [e.id])))),
  ];
  const taken = await takenIds(k, given);
  const streams = [...new Set(writes.map((w) => w.stream))];
  const found = await eachAtMost(streams, (s) => headOf(k, k.names.stream(s)));
  const heads = new Map(streams.map((s, i) => [s, found[i] as number]));
  const revisions = new Map(heads);
  const seen = new Set<string>(taken);
  const records: AppendRecordInput[] = [];
  const checks: ConsistencyCheck[] = [];
  const written = new Set<string>();
  const events: Omit<StoredEvent, 'position'>[] = [];
  for (const { stream, expected, events: news } of writes) {
    const actual = revisions.get(stream) ?? -1;
    const refusal = expectationFailure(stream, expected, actual);
    if (refusal !== undefined) return E.left(refusal);
    let revision = actual;
    const target = k.names.stream(stream);
    for (const event of news) {
      const id = event.id ?? randomUUID();
      if (seen.has(id)) continue;
      seen.add(id);
      revision += 1;
      const occurredAt = event.occurredAt ?? recordedAt;
      records.push({
        streamName: target,
        record: jsonEvent({
          id: uuidOf(id),
          type: event.type,
          data: event.data as never,
          metadata: { [META.id]: id, [META.occurredAt]: occurredAt, [META.recordedAt]: recordedAt },
        }),
      });
      if (!written.has(stream)) {
        written.add(stream);
        const head = heads.get(stream) ?? -1;
        checks.push({
          type: STREAM_STATE,
          streamName: target,
          expectedState: head < 0 ? NO_STREAM : BigInt(head),
        });
      }
      for (const tag of new Set(event.tags ?? []))
        records.push({ streamName: k.names.tagged(tag), record: link(target, revision) });
      if (event.id !== undefined) {
        records.push({ streamName: k.names.id(id), record: link(target, revision) });
        checks.push({ type: STREAM_STATE, streamName: k.names.id(id), expectedState: NO_STREAM });
      }
      events.push({ stream, revision, id, type: event.type, data: event.data, occurredAt, recordedAt });
    }
    revisions.set(stream, revision);
  }
  return E.right({ records, checks, events, revisions });
};

/** Whether a refused append should be planned again: a stream moved, or an id was taken, meanwhile. */
const movedUnder = (error: unknown): boolean =>
  errorType(error) === 'append-consistency-violation' || errorType(error) === 'wrong-expected-version';

/** One atomic append of `writes`; the events it stored (with their positions, when `collect`). */
const appendOnce = async (
  k: Kdb,
  writes: readonly StreamWrite[],
  collect: boolean,
): Promise<E.Either<StoreError, AppendResult & { readonly stored: number }>> => {
  if (k.closed()) return E.left(failureOf(k, new Error('closed')));
  for (let attempt = 1; ; attempt++) {
    const planned = await plan(k, writes).catch((error: unknown) => E.left(failureOf(k, error)));
    if (E.isLeft(planned)) return planned;
    const { records, checks, events, revisions } = planned.right;
    if (events.length > 0) {
      try {
        await k.client.appendRecords(records, checks);
      } catch (error) {
        if (movedUnder(error) && attempt < TRIES) {
          await backOff(attempt);
          // Planned against heads another writer has moved since: a stream the caller expected at a
          // revision is refused by the plan itself next time round, with the revision it found.
          continue;
        }
        if (errorType(error) === 'unsupported') return E.left(unsupported(k));
        return E.left(failureOf(k, error));
      }
    }
    const appended = collect ? await positioned(k, events) : [];
    return E.right({ appended, revisions: Object.fromEntries(revisions), stored: events.length });
  }
};

/** The message for a server without multi-stream appends: syncline never appends stream by stream. */
export const unsupported = (k: Pick<Kdb, 'location'>): StoreError => ({
  _tag: 'StoreUnavailable',
  message:
    `the KurrentDB server at ${k.location.shown} cannot append records to several streams at once in ` +
    'order (appendRecords); syncline needs KurrentDB 26.1 or later, and does not append stream by stream instead',
});

/** The appended events with their `$all` positions, read back from their streams. */
const positioned = async (
  k: Kdb,
  events: readonly Omit<StoredEvent, 'position'>[],
): Promise<StoredEvent[]> => {
  const out: StoredEvent[] = [];
  const toStored = storedOf(k);
  const firstOf = new Map<string, number>();
  for (const e of events) if (!firstOf.has(e.stream)) firstOf.set(e.stream, e.revision);
  const byKey = new Map<string, StoredEvent>();
  for (const [stream, first] of firstOf)
    for await (const e of streamEvents(k, k.names.stream(stream), { fromRevision: BigInt(first) })) {
      const stored = toStored(e);
      byKey.set(`${stream}\u0000${stored.revision}`, stored);
    }
  for (const e of events) {
    const stored = byKey.get(`${e.stream}\u0000${e.revision}`);
    if (stored !== undefined) out.push({ ...e, position: stored.position });
  }
  return out;
};

export const kurrentWrites = (k: Kdb): Pick<EventStore, 'append' | 'appendAll'> => ({
  append: (writes) => async () => {
    const r = await appendOnce(k, writes, true);
    return E.map(({ appended, revisions }: AppendResult) => ({ appended, revisions }))(r);
  },
  /*
   * Not one transaction on KurrentDB: the batches are gathered into appends of about APPEND_BYTES,
   * each atomic. A file that fits in one is all or nothing, withdrawn included; a larger one is
   * stored an append at a time, and a withdrawal or a failure after the first leaves what was stored
   * (events with ids are kept once, so ingesting the file again is harmless).
   */
  appendAll: (batches, withdraw) => async () => {
    let pending: StreamWrite[] = [];
    let bytes = 0;
    let ids = 0;
    let appended = 0;
    const flush = async (): Promise<E.Either<StoreError, void>> => {
      if (pending.length === 0) return E.right(undefined);
      const r = await appendOnce(k, pending, false);
      pending = [];
      bytes = 0;
      ids = 0;
      if (E.isLeft(r)) return r;
      appended += r.right.stored;
      return E.right(undefined);
    };
    for await (const batch of batches) {
      for (const write of batch) {
        const size = write.events.reduce((n, e) => n + (JSON.stringify(e.data)?.length ?? 4) + 200, 0);
        const given = write.events.reduce((n, e) => n + (e.id === undefined ? 0 : 1), 0);
        if ((bytes + size > APPEND_BYTES || ids + given > IDS_PER_APPEND) && pending.length > 0) {
          const r = await flush();
          if (E.isLeft(r)) return r;
        }
        pending.push(write);
        bytes += size;
        ids += given;
      }
    }
    const reason = withdraw?.();
    if (reason !== undefined)
      return E.left<StoreError>(
        appended === 0
          ? { _tag: 'Withdrawn', message: reason }
          : {
              _tag: 'StoreUnavailable',
              message: `${reason}; KurrentDB stores a large file an append at a time, and the first ${appended} events are stored`,
            },
      );
    const r = await flush();
    return E.isLeft(r) ? r : E.right({ appended });
  },
});
