// Reading the PostgreSQL store: events a page at a time by position, stream or tag, events by id,
// and subscriptions that wake on the appends' NOTIFY and poll as well, so a lost notification only delays.
import type pg from 'pg';
import type { EventStore } from '../../../engine/ports.js';
import { abortableDelay } from '../common.js';
import { eventOfRow, pagedReads, type EventRow } from '../eventRows.js';
import { reading, type Pg } from './connection.js';
import type { Listener } from './listening.js';

/** data::text, so the driver hands the JSON over unparsed: it is parsed only when its event is handed on. */
const COLUMNS = 'position, stream, revision, id, type, data::text, occurred_at, recorded_at';

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
  // rowMode array: the bigint position comes as text, and the data as JSON text (COLUMNS' data::text).
  const rows = reading(p, async (text: string, values: unknown[]): Promise<EventRow<string>[]> => {
    const r = await p.pool.query<EventRow<string>>({ text, values, rowMode: 'array' } as pg.QueryArrayConfig);
    return r.rows;
  });
  const single = reading(p, async <A>(text: string, values: unknown[]): Promise<A | undefined> => {
    const r = await p.pool.query({ text, values, rowMode: 'array' } as pg.QueryArrayConfig);
    return (r.rows[0] as unknown[] | undefined)?.[0] as A | undefined;
  });
  const chunked = async <A>(ids: readonly string[], each: (chunk: readonly string[]) => Promise<A[]>) => {
    const all: A[] = [];
    for (let start = 0; start < ids.length; start += CHUNK)
      all.push(...(await each(ids.slice(start, start + CHUNK))));
    return all;
  };
  return {
    ...pagedReads(
      {
        // See writing.ts for why reading by position never skips an event committed later.
        after: (position, limit) =>
          rows(`SELECT ${COLUMNS} FROM ${p.s}.events WHERE position > $1 ORDER BY position LIMIT $2`, [
            position,
            limit,
          ]),
        afterLeavingOut: (prefix) => (position, limit) =>
          rows(
            `SELECT ${COLUMNS} FROM ${p.s}.events WHERE position > $1 AND NOT starts_with(stream, $2)
              ORDER BY position LIMIT $3`,
            [position, prefix, limit],
          ),
        stream: (stream) => (from, limit) =>
          rows(
            `SELECT ${COLUMNS} FROM ${p.s}.events WHERE stream = $1 AND revision >= $2 ORDER BY revision LIMIT $3`,
            [stream, from, limit],
          ),
        tagged: (tag) => (after, limit) =>
          rows(
            `SELECT ${COLUMNS} FROM ${p.s}.events WHERE tags @> ARRAY[$1::text] AND position > $2
              ORDER BY position LIMIT $3`,
            [tag, after, limit],
          ),
      },
      (_position, aborted) => listener.next(pollIntervalMs, aborted, abortableDelay),
      () => !p.closed(),
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
      return new Map(found.map((row) => [row[3], eventOfRow(row)]));
    },
  };
};
