// A worker thread that answers requests one at a time, in the order they were asked: started with
// the first request or ahead of it, unref'd while idle so it never keeps a process alive, and closed
// once answered; or one such thread shared by a whole process, whose users each hold a lease.
import { parentPort, Worker } from 'node:worker_threads';

export type Thread<Req, Res> = {
  /** Rejects when the thread has failed (a bug there) or is closed: never for the work's own errors,
   *  which a thread returns as values. */
  readonly ask: (request: Req) => Promise<Res>;
  /** Boots the thread now rather than with the first request: booting takes tens of milliseconds. */
  readonly boot: () => void;
  /** Whether the thread has booted and waits for requests: until then, one asked waits for the boot. */
  readonly ready: () => boolean;
  /** Waits for the answers under way, then ends the thread; a lease (see shared) waits for its own
   *  answers and lets go, leaving the thread to the other leases. */
  readonly close: () => Promise<void>;
  /** Whether the thread has failed (a bug there): it answers nothing any more. */
  readonly failed: () => boolean;
};

type Envelope<A> = { readonly id: number; readonly body: A };

/** The id of the message a worker sends once it has booted (requests count from 1). */
const READY = 0;

/** `what` names the thread in errors ("SQLite destination apply"). */
export const thread = <Req, Res>(file: () => URL, what: string): Thread<Req, Res> => {
  let worker: Worker | null = null;
  let broken: Error | null = null;
  let closing = false;
  let booted = false;
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
    const w = new Worker(file());
    w.on('message', ({ id, body }: Envelope<Res>) => {
      if (id === READY) {
        booted = true;
        return;
      }
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
  return { ask, boot, ready: () => booted && broken === null, close, failed: () => broken !== null };
};

/**
 * A lease on a thread the whole process shares: it asks as a thread of its own would, in turn with
 * the other leases, and closing it waits for its own answers only, then asks `farewell` (a lease's
 * last request: to let go of what the thread keeps for it) and leaves the thread running for the
 * next lease. A thread that failed (a bug there) fails its leases, and is replaced for leases taken
 * afterwards.
 *
 * Why share: a thread is a V8 isolate of its own, which boots in tens of milliseconds and optimises
 * its code only once that code has run for a while. With a thread per user, a sync of each of several
 * destinations would pay both again: sharing takes a sync of 1% changes after others from 93 to 75 ms,
 * and from 78 to 73 ms (medians of 24 syncs in alternating processes).
 */
export const shared = <Req, Res>(
  file: () => URL,
  what: string,
): ((farewell: Req) => Thread<Req, Res>) & { readonly running: () => boolean } => {
  let current: Thread<Req, Res> | null = null;
  const lease = (farewell: Req): Thread<Req, Res> => {
    if (current === null || current.failed()) current = thread<Req, Res>(file, what);
    const t = current;
    let closing: Promise<void> | null = null;
    const mine = new Set<Promise<unknown>>();
    const ask = (request: Req): Promise<Res> => {
      if (closing !== null) return Promise.reject(new Error(`the ${what} thread is closed`));
      asked = true;
      const answer = t.ask(request);
      const forget = () => void mine.delete(answer);
      answer.then(forget, forget);
      mine.add(answer);
      return answer;
    };
    // A lease that never asked has nothing on the thread to let go of: its close does not wait for
    // a thread still booting (a short run answered on the caller's thread never asks).
    let asked = false;
    const close = (): Promise<void> =>
      (closing ??= (async () => {
        await Promise.allSettled([...mine]);
        if (asked && !t.failed()) await t.ask(farewell).catch(() => undefined);
      })());
    return { ask, boot: t.boot, ready: t.ready, close, failed: t.failed };
  };
  /** whether the process has a working thread of this kind already (booted by an earlier lease) */
  return Object.assign(lease, { running: () => current !== null && !current.failed() });
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
  port.postMessage({ id: READY, body: null } satisfies Envelope<null>);
};
