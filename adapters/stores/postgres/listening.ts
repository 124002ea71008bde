// How subscriptions learn of appends from any process: one connection per store LISTENs on the
// store's channel and wakes every waiting subscription; a poll bounds the wait if a notification is lost.
import pg from 'pg';

export type Listener = {
  /** Resolves at the next notification, after `pollMs`, or when `signal` aborts, whichever is first. */
  readonly next: (
    pollMs: number,
    signal: AbortSignal,
    delay: (ms: number, signal: AbortSignal) => Promise<void>,
  ) => Promise<void>;
  readonly close: () => Promise<void>;
};

/**
 * A listener on `channel` (already quoted), connecting on first use. A connection that fails or is
 * lost is dropped and made again at the next wait; meanwhile the poll alone wakes subscriptions.
 */
export const listenerOn = (config: pg.ClientConfig, channel: string): Listener => {
  const waiting = new Set<() => void>();
  let client: Promise<pg.Client | null> | null = null;
  let closed = false;
  const wakeAll = (): void => {
    for (const wake of [...waiting]) wake();
  };
  const connect = (): Promise<pg.Client | null> => {
    const c = new pg.Client(config);
    const dropped = (): void => {
      client = null;
      c.removeAllListeners('notification');
      void c.end().catch(() => undefined);
      // Whatever was appended while the connection was down: let the subscriptions look.
      wakeAll();
    };
    c.on('error', dropped);
    c.on('notification', wakeAll);
    return c
      .connect()
      .then(() => c.query(`LISTEN ${channel}`))
      .then(() => c)
      .catch(() => {
        dropped();
        return null;
      });
  };
  return {
    next: async (pollMs, signal, delay) => {
      if (closed || signal.aborted) return;
      client ??= connect();
      await client;
      // One signal for both, made by hand: AbortSignal.any keeps its sources' listeners on Node 20.
      const woken = new AbortController();
      const wake = (): void => woken.abort();
      waiting.add(wake);
      signal.addEventListener('abort', wake, { once: true });
      try {
        await delay(pollMs, woken.signal);
      } finally {
        waiting.delete(wake);
        signal.removeEventListener('abort', wake);
      }
    },
    close: async () => {
      closed = true;
      wakeAll();
      const c = await client;
      client = null;
      await c?.end().catch(() => undefined);
    },
  };
};
