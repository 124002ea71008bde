// Reading the PostgreSQL store: events a page at a time by position, stream or tag, events by id,
// and subscriptions that wake on the appends' NOTIFY and poll as well, so a lost notification only delays.
import type pg from 'pg';
import type { EventStore, StoredEvent } from '../../../engine/ports.js';
import { StoreReadFailed } from '../../../engine/ports.js';
import { DEFAULT_BATCH_SIZE, abortableDelay, paged, readingAll, subscription, type Rows } from '../common.js';
import { reading, type Pg } from './connection.js';
import type { Listener } from './listening.js';

/** A stored event as a query returns it (rowMode array): bigint position as text, data as JSON text. */
type EventRow = readonly [
  position: string,
  stream: string,
  revision: number,
  id: string,
  type: string,
  data: string,
  occurredAt: string,
  recordedAt: string,
];

/** data::text, so the driver hands the JSON over unparsed: it is parsed only when its event is handed on. */
const COLUMNS = 'position, stream, revision, id, type, data::text, occurred_at, recorded_at';

const toStored = ([
  position,
  stream,
  revision,
  id,
  type,
  data,
  occurredAt,
  recordedAt,
]: EventRow): StoredEvent => ({
  position: Number(position),
  stream,
  revision,
  id,
  type,
  data: parsed(position, data),
  occurredAt,
  recordedAt,
});

/** The column is json, so only text written past syncline could fail here. */
const parsed = (position: string, data: string): unknown => {
  try {
    return JSON.parse(data) as unknown;
  } catch {
    throw new StoreReadFailed({
      _tag: 'StoreUnavailable',
      message: `the store's event at position ${position} does not hold JSON data: the store is damaged`,
    });
  }
};

const ROWS: Rows<EventRow> = {
  event: toStored,
  bytes: (row) => row[5].length,
  position: (row) => Number(row[0]),
};

/** Ids per lookup query: each travels as one array parameter, the chunk only bounds its size. */
const CHUNK = 10_000;

export const postgresReads = (
  p: Pg,
  listener: Listener,
  pollIntervalMs: number,
): Pick<
  EventStore,
  'readStream' | 'readTagged' | 'readAll' | 'subscribe' | 'streamRevision' | 'head' | 'knownIds' | 'readByIds'
> => {
  const rows = reading(p, async (text: string, values: unknown[]): Promise<EventRow[]> => {
    const r = await p.pool.query<EventRow>({ text, values, rowMode: 'array' } as pg.QueryArrayConfig);
    return r.rows;
  });
  const single = reading(p, async <A>(text: string, values: unknown[]): Promise<A | undefined> => {
    const r = await p.pool.query({ text, values, rowMode: 'array' } as pg.QueryArrayConfig);
    return (r.rows[0] as unknown[] | undefined)?.[0] as A | undefined;
  });
  // See writing.ts for why reading by position never skips an event committed later.
  const fetchAfter = (position: number, limit: number) =>
    rows(`SELECT ${COLUMNS} FROM ${p.s}.events WHERE position > $1 ORDER BY position LIMIT $2`, [
      position,
      limit,
    ]);
  const fetchAfterLeavingOut = (prefix: string) => (position: number, limit: number) =>
    rows(
      `SELECT ${COLUMNS} FROM ${p.s}.events WHERE position > $1 AND NOT starts_with(stream, $2)
        ORDER BY position LIMIT $3`,
      [position, prefix, limit],
    );
  const chunked = async <A>(ids: readonly string[], each: (chunk: readonly string[]) => Promise<A[]>) => {
    const all: A[] = [];
    for (let start = 0; start < ids.length; start += CHUNK)
      all.push(...(await each(ids.slice(start, start + CHUNK))));
    return all;
  };
  return {
    readStream: (stream, fromRevision = 0) =>
      paged(
        (from, limit) =>
          rows(
            `SELECT ${COLUMNS} FROM ${p.s}.events WHERE stream = $1 AND revision >= $2 ORDER BY revision LIMIT $3`,
            [stream, from, limit],
          ),
        Math.max(0, fromRevision),
        DEFAULT_BATCH_SIZE,
        ([, , revision]) => revision + 1,
        ROWS,
      ),
    readTagged: (tag) =>
      paged(
        (after, limit) =>
          rows(
            `SELECT ${COLUMNS} FROM ${p.s}.events WHERE tags @> ARRAY[$1::text] AND position > $2
              ORDER BY position LIMIT $3`,
            [tag, after, limit],
          ),
        0,
        DEFAULT_BATCH_SIZE,
        ROWS.position,
        ROWS,
      ),
    readAll: readingAll(fetchAfter, fetchAfterLeavingOut, ROWS),
    subscribe: (afterPosition, signal) =>
      subscription(
        fetchAfter,
        Math.max(0, afterPosition),
        signal,
        (_position, aborted) => listener.next(pollIntervalMs, aborted, abortableDelay),
        () => !p.closed(),
        ROWS,
      ),
    streamRevision: async (stream) =>
      (await single<number | null>(`SELECT max(revision) FROM ${p.s}.events WHERE stream = $1`, [stream])) ??
      -1,
    head: async () =>
      Number((await single<string | null>(`SELECT max(position) FROM ${p.s}.events`, [])) ?? 0),
    knownIds: async (ids) =>
      new Set(
        await chunked(ids, async (chunk) =>
          (await rows(`SELECT id FROM ${p.s}.events WHERE id = ANY($1::text[])`, [chunk])).map((r) => r[0]),
        ),
      ),
    readByIds: async (ids) => {
      const found = await chunked(ids, (chunk) =>
        rows(`SELECT ${COLUMNS} FROM ${p.s}.events WHERE id = ANY($1::text[]) ORDER BY position`, [chunk]),
      );
      return new Map(found.map((row) => [row[3], toStored(row)]));
    },
  };
};
