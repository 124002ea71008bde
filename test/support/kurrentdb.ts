// The KurrentDB server the suites run against: a real one when SYNCLINE_KURRENTDB_URL names it, else
// the stand-in under test/kurrentdb/, started for the suite; every store in it gets a prefix of its own.
import { startStandIn, type StandIn } from '../kurrentdb/standIn.js';

export type KurrentServer = {
  /** what the suite runs against, for its name */
  readonly what: string;
  readonly start: () => Promise<void>;
  readonly stop: () => Promise<void>;
  /** a store URL on the server with syncline's streams under `prefix` */
  readonly url: (prefix: string) => string;
};

/** SYNCLINE_KURRENTDB_URL, e.g. kurrentdb://127.0.0.1:2113?tls=false */
const REAL = process.env['SYNCLINE_KURRENTDB_URL'];

export const kurrentServer = (options: { multiStreamAppend?: boolean } = {}): KurrentServer => {
  let standIn: StandIn | undefined;
  const base = (): string => {
    if (REAL !== undefined && REAL !== '') return REAL;
    if (standIn === undefined) throw new Error('the stand-in KurrentDB server is not started');
    // The client waits its discovery interval (500 ms) before its first connection, even to one node.
    return `${standIn.url}&discoveryInterval=10`;
  };
  return {
    what: REAL !== undefined && REAL !== '' ? 'a real server' : 'the stand-in server',
    start: async () => {
      if (REAL === undefined || REAL === '') standIn = await startStandIn(options);
    },
    stop: async () => {
      await standIn?.close();
    },
    url: (prefix) => `${base()}${base().includes('?') ? '&' : '?'}prefix=${encodeURIComponent(prefix)}`,
  };
};
