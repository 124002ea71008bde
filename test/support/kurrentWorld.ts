// Fault worlds on a KurrentDB server (test/support/faultWorld.ts): a store's copy under a prefix of its
// own, in the same `$all` order, and the sync stream read through the adapter where SQL would be used.
import {
  FORWARDS,
  KurrentDBClient,
  START,
  binaryEvent,
  jsonEvent,
  streamNameFilter,
  type AppendRecordInput,
} from '@kurrent/kurrentdb-client';
import * as E from 'fp-ts/lib/Either.js';
import { parseKurrentUrl, type KurrentLocation } from '../../adapters/stores/kurrentdb/url.js';
import { SYNC_PREFIX } from '../../domain/syncEvents.js';
import type { EventStore } from '../../engine/ports.js';

/** Below KurrentDB's MaxAppendSize (1 MiB), as the adapter's own appends are. */
const COPY_BYTES = 400 * 1024;

const located = (url: string): KurrentLocation => {
  const l = parseKurrentUrl(url);
  if (E.isLeft(l)) throw new Error(l.left);
  return l.right;
};

type Read = {
  readonly stream: string;
  readonly revision: bigint;
  readonly position: bigint;
  readonly record: AppendRecordInput['record'];
};

/** The records under `prefix` after `after` (exclusive), in `$all` order, links as links. */
async function* readPrefix(client: KurrentDBClient, prefix: string, after = -1n): AsyncGenerator<Read> {
  for await (const r of client.readAll({
    fromPosition: after < 0n ? START : { commit: after, prepare: after },
    direction: FORWARDS,
    resolveLinkTos: false,
    filter: streamNameFilter({ prefixes: [prefix] }),
  })) {
    const e = r.event;
    if (e === undefined || e.position === undefined || e.position.commit <= after) continue;
    const common = { id: e.id, type: e.type, metadata: e.metadata as never };
    yield {
      stream: e.streamId.slice(prefix.length),
      revision: e.revision,
      position: e.position.commit,
      record: e.isJson
        ? jsonEvent({ ...common, data: e.data as never })
        : binaryEvent({ ...common, data: e.data, metadata: e.metadata as Uint8Array }),
    };
  }
}

/**
 * Copies a KurrentDB store's streams under a fresh prefix, the index streams (tags, ids, checkpoints)
 * included, as the server holds them: in `$all` order (the engine folds in that order), with the same
 * event ids, metadata (syncline's ids and times), streams and revisions, in appends of a few hundred KiB
 * (appendRecords keeps a call's order in `$all`). Links name their targets under the new prefix. The
 * server gives the copies positions of their own: the positions sync events hold (where a run decided)
 * become the copy's positions of the same events, else a copied run would have decided before every
 * copied event. Returns how many records it copied.
 */
export const copyKurrentStore = async (fromUrl: string, toUrl: string): Promise<number> => {
  const [from, to] = [located(fromUrl), located(toUrl)];
  const client = KurrentDBClient.connectionString(from.connectionString);
  try {
    const positions = new Map<bigint, bigint>([[0n, 0n]]);
    let pending: Read[] = [];
    let bytes = 0;
    let last = -1n;
    let copied = 0;
    const flush = async (): Promise<void> => {
      if (pending.length === 0) return;
      await client.appendRecords(
        pending.map((r) => ({ streamName: `${to.prefix}${r.stream}`, record: r.record })),
      );
      // Read back in order: the same streams and revisions, and the copies' positions.
      let i = 0;
      for await (const c of readPrefix(client, to.prefix, last)) {
        const o = pending[i++];
        if (o === undefined || o.stream !== c.stream || o.revision !== c.revision)
          throw new Error(`the copy of ${o?.stream}@${o?.revision} is ${c.stream}@${c.revision}`);
        positions.set(o.position, c.position);
        last = c.position;
      }
      if (i !== pending.length) throw new Error(`the copy holds ${i} of ${pending.length} records`);
      copied += pending.length;
      pending = [];
      bytes = 0;
    };
    for await (const r of readPrefix(client, from.prefix)) {
      let record = r.record;
      let size = 200;
      if (record.type === '$>') {
        // `revision@stream`: the stream is the original's, under its prefix.
        const [revision, target] = Buffer.from(record.data as Uint8Array)
          .toString('utf8')
          .split(/@(.*)/s);
        if (!target?.startsWith(from.prefix)) throw new Error(`a link to ${target} in ${r.stream}`);
        const data = Buffer.from(`${revision}@${to.prefix}${target.slice(from.prefix.length)}`, 'utf8');
        record = binaryEvent({ id: record.id, type: '$>', data, metadata: record.metadata as Uint8Array });
      } else if (record.contentType === 'application/json') {
        const data = record.data as { position?: unknown };
        size += JSON.stringify(data).length;
        if (r.stream.startsWith(SYNC_PREFIX) && typeof data.position === 'number') {
          const at = BigInt(data.position);
          if (!positions.has(at)) await flush();
          const mapped = positions.get(at);
          if (mapped === undefined)
            throw new Error(`${r.stream}@${r.revision} names position ${at}, no event's`);
          record = jsonEvent({
            id: record.id,
            type: record.type,
            data: { ...data, position: Number(mapped) } as never,
            metadata: record.metadata as never,
          });
        }
      }
      if (bytes + size > COPY_BYTES) await flush();
      pending.push({ ...r, record });
      bytes += size;
    }
    await flush();
    return copied;
  } finally {
    await client.dispose();
  }
};

/** How many events of each type `stream` holds from `fromRevision` on, and its next revision. */
export const countTypes = async (
  store: EventStore,
  stream: string,
  fromRevision = 0,
  counts: Record<string, number> = {},
): Promise<{ counts: Record<string, number>; next: number }> => {
  let next = fromRevision;
  for await (const e of store.readStream(stream, fromRevision)) {
    counts[e.type] = (counts[e.type] ?? 0) + 1;
    next = e.revision + 1;
  }
  return { counts, next };
};
