// The stand-in's in-memory database: streams, the $all transaction log with growing positions, and
// KurrentDB's write rules (expected state per stream, idempotency by event id, all-or-nothing commits).
import { applyMaxCount } from './metadata.js';

/** An event as the stand-in stores it; `position` is its $all commit position (= prepare position). */
export type StoredEvent = {
  readonly stream: string;
  readonly revision: number;
  readonly id: string;
  readonly type: string;
  readonly isJson: boolean;
  readonly data: Uint8Array;
  readonly metadata: Uint8Array;
  /** .NET ticks (100ns since the Unix epoch), as the server puts in the "created" metadata entry */
  readonly created: bigint;
  readonly position: number;
};

export type ProposedEvent = Omit<StoredEvent, 'stream' | 'revision' | 'position' | 'created'>;

/** KurrentDB's expected versions: -2 any, -1 no stream, -4 stream exists, n >= 0 a revision. */
export const ANY = -2;
export const NO_STREAM = -1;
export const STREAM_EXISTS = -4;
/** v2 consistency checks may also expect a soft-deleted (-5) or tombstoned (-6) stream. */
export const DELETED = -5;
export const TOMBSTONED = -6;

export type StreamWrite = {
  readonly stream: string;
  readonly expected: number;
  readonly events: ProposedEvent[];
};

export type WriteOutcome =
  | {
      readonly kind: 'ok';
      /** per write, the stream's last revision after the commit (-1 if it still has no events) */
      readonly lastRevisions: number[];
      /** the log position of the last event the commit wrote, or of the last event an idempotent retry matched */
      readonly position: number;
      readonly idempotent: boolean;
    }
  | {
      readonly kind: 'wrong-expected-version';
      readonly index: number;
      readonly stream: string;
      readonly expected: number;
      /** the stream's last revision, -1 when the stream has no events */
      readonly actual: number;
    };

/** Several streams' expectations and their events, in log order, each naming its stream by index. */
export type Transaction = {
  readonly streams: readonly { readonly stream: string; readonly expected: number }[];
  readonly events: readonly { readonly streamIndex: number; readonly event: ProposedEvent }[];
};

export type StreamFailure = {
  /** the stream's index in the transaction */
  readonly index: number;
  readonly stream: string;
  readonly expected: number;
  /** the stream's last revision, -1 when the stream has no events */
  readonly actual: number;
};

export type TransactionOutcome =
  Extract<WriteOutcome, { kind: 'ok' }> | { readonly kind: 'failed'; readonly failures: StreamFailure[] };

type Decision = { kind: 'ok' } | { kind: 'idempotent'; last: number } | { kind: 'conflict' };

/** Positions grow by each record's size on disk, like a transaction file; the log starts after a header. */
const FIRST_POSITION = 4096;
const RECORD_OVERHEAD = 120;
const utf8 = (s: string) => Buffer.byteLength(s, 'utf8');

export class EventLog {
  readonly all: StoredEvent[] = [];
  private readonly streams = new Map<string, StoredEvent[]>();
  private readonly listeners = new Set<(events: readonly StoredEvent[]) => void>();
  private nextPosition = FIRST_POSITION;

  /** The events of a stream as written (before $maxCount), or undefined when it has none. */
  stream(name: string): readonly StoredEvent[] | undefined {
    return this.streams.get(name);
  }

  /** The events a read of the stream may see: $maxCount in its metadata stream hides older ones. */
  readable(name: string): readonly StoredEvent[] | undefined {
    const events = this.streams.get(name);
    return events === undefined ? undefined : applyMaxCount(events, this.streams.get(`$$${name}`));
  }

  lastRevision(name: string): number {
    return (this.streams.get(name)?.length ?? 0) - 1;
  }

  /** The position one past the newest record: where the next record would go. */
  get head(): number {
    return this.nextPosition;
  }

  onCommit(listener: (events: readonly StoredEvent[]) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * One atomic commit over several streams (a single-stream append is a commit of one write): every
   * expectation is checked first, and either every event lands, in order, or none does. A failure is
   * reported for the first stream the server's StorageWriterService lists (streams in order).
   */
  commit(writes: readonly StreamWrite[]): WriteOutcome {
    const outcome = this.commitTransaction({
      streams: writes,
      events: writes.flatMap((w, streamIndex) => w.events.map((event) => ({ streamIndex, event }))),
    });
    if (outcome.kind === 'ok') return outcome;
    const first = outcome.failures[0]!;
    return { kind: 'wrong-expected-version', ...first };
  }

  /**
   * The server's multi-stream write (StorageWriterService.WritePrepares and VerifyCommitChecks): each
   * stream is checked with its own events' ids (a stream without events is a check only); all ok:
   * the events land in the given order, each stream's revisions continuing in that order; every stream
   * with events an idempotent retry: success as the original commit, nothing written (failed checks on
   * check-only streams do not matter then); else every failing stream, and every idempotent one, is
   * reported, in stream order, and nothing is written.
   */
  commitTransaction(tx: Transaction): TransactionOutcome {
    const decisions = tx.streams.map((s, i) =>
      this.decide({
        ...s,
        events: tx.events.filter((e) => e.streamIndex === i).map((e) => e.event),
      }),
    );
    const written = new Set(tx.events.map((e) => e.streamIndex));
    if (decisions.every((d) => d.kind === 'ok')) return this.write(tx);
    const writing = [...written];
    if (writing.length > 0 && writing.every((i) => decisions[i]!.kind === 'idempotent')) {
      // A retry of a write that already happened: answer as the original commit did, write nothing.
      const lastRevisions = tx.streams.map((s, i) => {
        const d = decisions[i]!;
        return d.kind === 'idempotent' ? d.last : this.lastRevision(s.stream);
      });
      const position = Math.max(
        ...writing.map((i) => {
          const d = decisions[i]! as { last: number };
          return this.streams.get(tx.streams[i]!.stream)![d.last]!.position;
        }),
      );
      return { kind: 'ok', lastRevisions, position, idempotent: true };
    }
    const failures: StreamFailure[] = [];
    tx.streams.forEach((s, index) => {
      if (decisions[index]!.kind === 'ok') return;
      failures.push({ index, stream: s.stream, expected: s.expected, actual: this.lastRevision(s.stream) });
    });
    return { kind: 'failed', failures };
  }

  private write(tx: Transaction): TransactionOutcome {
    const created = BigInt(Date.now()) * 10_000n;
    const written: StoredEvent[] = [];
    for (const { streamIndex, event } of tx.events) {
      const stream = tx.streams[streamIndex]!.stream;
      const events = this.streams.get(stream) ?? [];
      const stored: StoredEvent = {
        ...event,
        stream,
        revision: events.length,
        created,
        position: this.nextPosition,
      };
      this.nextPosition +=
        RECORD_OVERHEAD +
        utf8(stored.stream) +
        utf8(stored.type) +
        stored.data.length +
        stored.metadata.length;
      events.push(stored);
      this.streams.set(stream, events);
      written.push(stored);
    }
    this.all.push(...written);
    const position = written.length > 0 ? written[written.length - 1]!.position : -1;
    for (const listener of this.listeners) listener(written);
    return {
      kind: 'ok',
      lastRevisions: tx.streams.map((s) => this.lastRevision(s.stream)),
      position,
      idempotent: false,
    };
  }

  /**
   * KurrentDB's commit check for one stream (the server's IndexWriter.CheckCommit): with `any` or
   * `stream_exists` the first event's id decides (already in the stream: every event must be, else the
   * write conflicts); with `no_stream` or a revision behind the end, the events must sit at exactly the
   * revisions the expectation implies; a revision equal to the end is a plain append.
   */
  private decide(write: StreamWrite): Decision {
    const events = this.streams.get(write.stream) ?? [];
    const current = events.length - 1;
    const ids = write.events.map((e) => e.id);
    // the stand-in deletes nothing, so no stream is ever soft-deleted or tombstoned
    if (write.expected === DELETED || write.expected === TOMBSTONED) return { kind: 'conflict' };
    if (write.expected === STREAM_EXISTS && current < 0) return { kind: 'conflict' };
    if (write.expected === ANY || write.expected === STREAM_EXISTS) {
      const byId = new Map(events.map((e) => [e.id, e.revision]));
      if (ids.length === 0 || !byId.has(ids[0]!)) return { kind: 'ok' };
      if (!ids.every((id) => byId.has(id))) return { kind: 'conflict' };
      return { kind: 'idempotent', last: byId.get(ids[ids.length - 1]!)! };
    }
    if (write.expected < current) {
      if (ids.length === 0) return { kind: 'conflict' };
      const matches = ids.every((id, i) => events[write.expected + 1 + i]?.id === id);
      return matches ? { kind: 'idempotent', last: write.expected + ids.length } : { kind: 'conflict' };
    }
    return write.expected === current ? { kind: 'ok' } : { kind: 'conflict' };
  }
}
