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
