// A worker thread that answers requests one at a time, in the order they were asked: started with
// the first request or ahead of it, unref'd while idle so it never keeps a process alive, and closed
// once answered.
import { parentPort, Worker } from 'node:worker_threads';

export type Thread<Req, Res> = {
  /** Rejects when the thread has failed (a bug there) or is closed: never for the work's own errors,
   *  which a thread returns as values. */
  readonly ask: (request: Req) => Promise<Res>;
  /** Boots the thread now rather than with the first request: booting takes tens of milliseconds. */
  readonly boot: () => void;
  /** Waits for the answers under way, then ends the thread. */
  readonly close: () => Promise<void>;
};

type Envelope<A> = { readonly id: number; readonly body: A };

/** `what` names the thread in errors ("SQLite destination apply"). */
export const thread = <Req, Res>(file: () => URL, data: unknown, what: string): Thread<Req, Res> => {
  let worker: Worker | null = null;
  let broken: Error | null = null;
  let closing = false;
  let nextId = 0;
  const pending = new Map<number, { resolve: (r: Res) => void; reject: (e: Error) => void }>();
  const outstanding = new Set<Promise<unknown>>();

  // An idle worker must not keep the process alive, and a busy one must: a CLI awaiting an answer
  // would otherwise exit with the request unanswered.
  const settle = (id: number): void => {
    pending.delete(id);
    if (pending.size === 0) worker?.unref();
  };
  const fail = (e: Error): void => {
    broken ??= e;
    for (const [id, p] of pending) {
      settle(id);
      p.reject(broken);
    }
  };
  const started = (): Worker => {
    const w = new Worker(file(), { workerData: data });
    w.on('message', ({ id, body }: Envelope<Res>) => {
      const p = pending.get(id);
      settle(id);
      p?.resolve(body);
    });
    const failure = (e: Error) => fail(new Error(`${what} failed: ${e.message}`, { cause: e }));
    w.on('error', failure);
    w.on('messageerror', failure);
    w.on('exit', (code) => fail(new Error(`${what} thread stopped (exit code ${code})`)));
    // After the listeners: adding a 'message' listener refs the worker's port again.
    w.unref();
    return w;
  };

  const ask = (request: Req): Promise<Res> => {
    if (closing) return Promise.reject(new Error(`the ${what} thread is closed`));
    if (broken !== null) return Promise.reject(broken);
    const id = ++nextId;
    const answer = new Promise<Res>((resolve, reject) => {
      worker ??= started();
      pending.set(id, { resolve, reject });
      if (pending.size === 1) worker.ref();
      try {
        worker.postMessage({ id, body: request } satisfies Envelope<Req>);
      } catch (e) {
        settle(id);
        throw e;
      }
    });
    const forget = () => void outstanding.delete(answer);
    answer.then(forget, forget);
    outstanding.add(answer);
    return answer;
  };

  const boot = (): void => {
    if (!closing && broken === null) worker ??= started();
  };

  const close = async (): Promise<void> => {
    closing = true;
    await Promise.allSettled([...outstanding]);
    if (worker !== null) await worker.terminate();
  };
  return { ask, boot, close };
};

/**
 * The worker's side: answers each request with `answer`, in order. An exception is a bug: it is left
 * to end the worker, and the thread rejects every request from then on.
 */
export const serve = <Req, Res>(what: string, answer: (request: Req) => Res): void => {
  const port = parentPort;
  if (port === null) throw new Error(`${what} runs only as a worker thread`);
  port.on('message', ({ id, body }: Envelope<Req>) => {
    port.postMessage({ id, body: answer(body) } satisfies Envelope<Res>);
  });
};
