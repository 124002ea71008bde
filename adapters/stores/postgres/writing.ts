// Appending to the PostgreSQL store: one transaction per call under the store's write lock, expected
// revisions checked there, every event of a call inserted (with its tags) in one statement.
import { randomUUID } from 'node:crypto';
import * as E from 'fp-ts/lib/Either.js';
import type pg from 'pg';
import type {
  AppendResult,
  EventStore,
  StoreError,
  StoredEvent,
  StreamWrite,
} from '../../../engine/ports.js';
import { expectationFailure } from '../common.js';
import { failureOf, type Pg } from './connection.js';

/*
 * Why a reader by position never skips an event. A position taken from a sequence is not enough on
 * its own: a transaction that took 11 may commit after one that took 12, and a reader that has
 * passed 12 would never see 11. So every append takes the store's advisory lock first, and only
 * then reads stream heads, takes positions from the sequence and inserts; the lock is held until the
 * transaction ends. PostgreSQL makes a commit visible before it releases the transaction's locks, so
 * the next writer takes its positions only after every lower position is visible (or rolled back,
 * leaving a gap no one waits for): positions grow in commit order, and a reader that sees position p
 * sees everything below it. Every syncline writer's transaction id (pg_current_xact_id) is taken
 * under the same lock, so the order of positions is also the order of transactions; the docs'
 * table of stores says why readers do not also wait for pg_snapshot_xmin.
 *
 * The cost is that appends to one store commit one at a time, as in the SQLite store; a file ingest
 * holds the lock for its whole transaction, and other writers wait for it.
 */
const BEGIN = (p: Pg): string => `BEGIN; SELECT pg_advisory_xact_lock(${p.lock}); ${DENSE(p)}`;

/*
 * A sequence hands out a number once even when its transaction rolls back. Only the lock's holder
 * takes numbers, so it sets the sequence back to the last committed position when a rolled-back
 * append left it past that: positions stay dense (the engine takes position p + 1 right after p to
 * mean that nothing came between), and taking them stays a sequence's cheap nextval.
 */
const DENSE = (p: Pg): string => `
  SELECT CASE WHEN m = 0 THEN setval('${p.s}.positions', 1, false) ELSE setval('${p.s}.positions', m, true) END
    FROM (SELECT coalesce(max(position), 0) AS m FROM ${p.s}.events) x
   WHERE m <> coalesce(pg_sequence_last_value('${p.s}.positions'), 0)`;

/** Heads of the written streams, and which of the call's ids are stored already, in one round trip. */
const FOUND = (p: Pg): string => `
  SELECT true AS head, stream AS key, max(revision) AS revision FROM ${p.s}.events
   WHERE stream = ANY($1::text[]) GROUP BY stream
  UNION ALL
  SELECT false, id, NULL FROM ${p.s}.events WHERE id = ANY($2::text[])`;

/*
 * The events of a call in one statement, positions taken in the order of the call's events (nextval
 * over rows already sorted by their ordinal). Each event's data travels inside one JSON array and is
 * cut by json_array_elements, which hands back each element's text as written: a text[] parameter
 * would make the driver escape every quote of a batch record of a few hundred KiB, and the server
 * parse the array, for a third of the append's time. Tags travel the same way, an array per event.
 */
const INSERT = (p: Pg): string => `
  INSERT INTO ${p.s}.events (position, stream, revision, id, type, data, occurred_at, recorded_at, tags)
  SELECT nextval('${p.s}.positions'), stream, revision, id, type, data, occurred_at, $7,
         ARRAY(SELECT json_array_elements_text(tags))
    FROM (SELECT * FROM ROWS FROM (unnest($1::text[]), unnest($2::int[]), unnest($3::text[]), unnest($4::text[]),
                                   json_array_elements($5::json), unnest($6::text[]), json_array_elements($8::json))
            WITH ORDINALITY AS r(stream, revision, id, type, data, occurred_at, tags, ord)
           ORDER BY ord) r
  RETURNING position`;

export const postgresWrites = (p: Pg): Pick<EventStore, 'append' | 'appendAll'> => ({
  append: (writes) => async () =>
    inTransaction(p, async (client) => {
      const r = await appendWithin(p, client, writes, true);
      return E.map(({ appended, revisions }: Within) => ({ appended, revisions }))(r);
    }),
  appendAll: (batches, withdraw) => async () =>
    inTransaction(p, async (client) => {
      let appended = 0;
      const source = batches[Symbol.asyncIterator]();
      for (;;) {
        let next: IteratorResult<readonly StreamWrite[]>;
        try {
          next = await source.next();
        } catch (error) {
          // The caller's source failed, not the store: rolled back, and thrown on to the caller.
          throw new SourceFailed(error);
        }
        if (next.done === true) break;
        const r = await appendWithin(p, client, next.value, false);
        if (E.isLeft(r)) {
          await source.return?.();
          return r;
        }
        appended += r.right.stored;
      }
      const reason = withdraw?.();
      return reason === undefined
        ? E.right({ appended })
        : E.left<StoreError>({ _tag: 'Withdrawn', message: reason });
    }),
});

/**
 * Runs `work` in a transaction holding the write lock: committed (and subscribers notified) when it
 * answers Right, rolled back when Left or when it throws. A failure of the connection is a
 * StoreUnavailable; an exception of `work` itself (a batch source that throws) is too, as for SQLite.
 */
const inTransaction = async <A>(
  p: Pg,
  work: (client: pg.PoolClient) => Promise<E.Either<StoreError, A>>,
): Promise<E.Either<StoreError, A>> => {
  let client: pg.PoolClient;
  try {
    client = await p.pool.connect();
  } catch (error) {
    return E.left(failureOf(p, error));
  }
  let broken: unknown;
  // A checked-out client has no listener of the pool's: a connection the server ends mid-transaction
  // would emit an 'error' nobody hears, and end the process. Its query rejects too, and that is the failure.
  const lost = (error: unknown): void => {
    broken = error;
  };
  client.on('error', lost);
  try {
    await client.query(BEGIN(p));
    const result = await work(client);
    await client.query(E.isRight(result) ? `NOTIFY ${p.channel}; COMMIT` : 'ROLLBACK');
    return result;
  } catch (error) {
    // What ended the connection says more than the query that found it ended.
    const cause = broken ?? error;
    if (!(error instanceof SourceFailed)) broken = cause;
    await client.query('ROLLBACK').catch(() => undefined);
    if (error instanceof SourceFailed) throw error.cause;
    return E.left(failureOf(p, cause));
  } finally {
    client.off('error', lost);
    // A connection that failed is not handed to the next caller.
    client.release(broken instanceof Error ? broken : undefined);
  }
};

/** What appendAll's batch source threw: not the store's failure, so not turned into a StoreError. */
class SourceFailed extends Error {
  constructor(override readonly cause: unknown) {
    super('the batches of appendAll failed');
  }
}

type Within = AppendResult & { readonly stored: number };

/** The writes, inside the locked transaction: the events stored, or the first refusal. */
const appendWithin = async (
  p: Pg,
  client: pg.ClientBase,
  writes: readonly StreamWrite[],
  collect: boolean,
): Promise<E.Either<StoreError, Within>> => {
  const streams = [...new Set(writes.map((w) => w.stream))];
  const given = writes.flatMap((w) => w.events.flatMap((e) => (e.id === undefined ? [] : [e.id])));
  const { rows } = await client.query<{ head: boolean; key: string; revision: number | null }>(FOUND(p), [
    streams,
    given,
  ]);
  const revisions = new Map<string, number>();
  const seen = new Set<string>();
  for (const row of rows) {
    if (row.head) revisions.set(row.key, row.revision ?? -1);
    else seen.add(row.key);
  }
  const recordedAt = new Date().toISOString();
  // Column by column, as the INSERT's unnest takes them.
  const cols = {
    stream: [] as string[],
    revision: [] as number[],
    id: [] as string[],
    type: [] as string[],
    data: [] as string[],
    occurredAt: [] as string[],
  };
  const tags: string[] = [];
  const kept: Omit<StoredEvent, 'position' | 'recordedAt'>[] = [];
  for (const { stream, expected, events } of writes) {
    const actual = revisions.get(stream) ?? -1;
    const refusal = expectationFailure(stream, expected, actual);
    if (refusal !== undefined) return E.left(refusal);
    let revision = actual;
    for (const event of events) {
      const id = event.id ?? randomUUID();
      // The same id stored already, or earlier in this call: skipped, and it takes no revision.
      if (seen.has(id)) continue;
      seen.add(id);
      revision += 1;
      const occurredAt = event.occurredAt ?? recordedAt;
      cols.stream.push(stream);
      cols.revision.push(revision);
      cols.id.push(id);
      cols.type.push(event.type);
      cols.data.push(JSON.stringify(event.data) ?? 'null');
      cols.occurredAt.push(occurredAt);
      // Each tag once: a repeated tag would find the event twice.
      tags.push(JSON.stringify([...new Set(event.tags ?? [])]));
      if (collect) kept.push({ stream, revision, id, type: event.type, data: event.data, occurredAt });
    }
    revisions.set(stream, revision);
  }
  const stored = cols.id.length;
  let positions: number[] = [];
  if (stored > 0) {
    const inserted = await client.query<{ position: string }>(INSERT(p), [
      cols.stream,
      cols.revision,
      cols.id,
      cols.type,
      `[${cols.data.join(',')}]`,
      cols.occurredAt,
      recordedAt,
      `[${tags.join(',')}]`,
    ]);
    // RETURNING comes in the order the rows were inserted, which is the call's.
    positions = inserted.rows.map((r) => Number(r.position)).sort((a, b) => a - b);
  }
  const appended: StoredEvent[] = collect
    ? kept.map((e, i) => ({ position: positions[i] as number, ...e, recordedAt }))
    : [];
  // A Map until here: stream names are user data, and one called "__proto__" must stay a key.
  return E.right({ appended, revisions: Object.fromEntries(revisions), stored });
};
