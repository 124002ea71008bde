// Small helpers for the EventStore contract: unwrap results so a failing spec says what the store
// returned, drain async iterables, and seed streams without repeating boilerplate.
import * as E from 'fp-ts/lib/Either.js';
import type { TaskEither } from 'fp-ts/lib/TaskEither.js';
import type { AppendResult, EventStore, StoreError } from '../../engine/ports.js';

export const success = async <A, L = StoreError>(task: TaskEither<L, A>): Promise<A> => {
  const result = await task();
  if (E.isLeft(result))
    throw new Error(`expected the store to succeed, it returned ${JSON.stringify(result.left)}`);
  return result.right;
};

export const failure = async <A>(task: TaskEither<StoreError, A>): Promise<StoreError> => {
  const result = await task();
  if (E.isRight(result))
    throw new Error(`expected the store to refuse, it returned ${JSON.stringify(result.right)}`);
  return result.left;
};

export const collect = async <A>(items: AsyncIterable<A>): Promise<A[]> => {
  const out: A[] = [];
  for await (const item of items) out.push(item);
  return out;
};

/** Appends `count` events (data 0..count-1) to `stream`, whatever its revision. */
export const appended = (store: EventStore, stream: string, count: number): Promise<AppendResult> =>
  success(
    store.append([
      {
        stream,
        expected: 'any',
        events: Array.from({ length: count }, (_, i) => ({ type: 'Seeded', data: i })),
      },
    ]),
  );

/** Fails instead of hanging when a subscription does not end after its signal aborts. */
export const within = <A>(ms: number, what: string, promise: Promise<A>): Promise<A> => {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
};

/**
 * What a store promises about positions. Dense stores number events 1, 2, 3… as they are stored (the
 * embedded and PostgreSQL stores); others only promise positions that grow in their one order
 * (KurrentDB's `$all` commit positions, with its other streams' events between syncline's). The
 * specs name positions by ordinal: the position of the n-th event the store holds.
 */
export type StoreTraits = {
  /** default true */
  readonly densePositions?: boolean;
  /**
   * Whether appendAll holds one transaction whatever its size (default true). A store that cannot
   * (KurrentDB's appends are capped in size) is checked to say what it stored when it fails.
   */
  readonly appendAllInOneTransaction?: boolean;
};

/**
 * The positions of the `ordinals`-th events of `store` (0 is the position before the first): the
 * ordinals themselves for a dense store, so a spec still checks that it numbers events densely; for
 * another, read from the store, after checking that its positions grow strictly.
 */
export const positionsAt =
  (traits: StoreTraits) =>
  async (store: EventStore, ...ordinals: number[]): Promise<number[]> => {
    if (traits.densePositions !== false) return ordinals;
    const all = (await collect(store.readAll())).map((e) => e.position);
    all.forEach((p, i) => {
      if (i > 0 && p <= (all[i - 1] as number)) throw new Error(`positions do not grow: ${all.join(', ')}`);
    });
    return ordinals.map((n) => (n === 0 ? 0 : (all[n - 1] ?? Number.NaN)));
  };
