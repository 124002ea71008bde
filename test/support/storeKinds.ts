// The event stores the CLI stories run on, so one story checks them all: an SQLite file in the world's
// own directory, a fresh schema on the test PostgreSQL server, a fresh prefix on a KurrentDB server.
import { join } from 'node:path';
import { afterAll } from 'vitest';
import * as E from 'fp-ts/lib/Either.js';
import { openStore } from '../../adapters/stores/open.js';
import type { EventStore } from '../../engine/ports.js';
import { kurrentServer } from './kurrentdb.js';
import { dropSchemas, postgresAnswers, postgresStoreUrl } from './postgres.js';

export type StoreKind = {
  readonly name: 'sqlite' | 'postgres' | 'kurrentdb';
  /** whether the kind can run here: describe.skipIf(!kind.runs) */
  readonly runs: boolean;
  /** whether positions count events 1, 2, 3… (KurrentDB's `$all` positions only grow) */
  readonly densePositions: boolean;
  /**
   * A store of one world's own: the URL to pass as --store or to write as the config file's `store`,
   * a relative path being relative to the world's directory.
   */
  readonly freshUrl: () => string;
  /** Where the CLI keeps the engine state for the store at `url`, relative to `dir`. */
  readonly statePath: (dir: string, url: string) => string;
  /** Drops the stores freshUrl made outside the worlds' directories (PostgreSQL schemas): for afterAll. */
  readonly dropStores: () => Promise<void>;
};

export const SQLITE_STORE_URL = 'sqlite:events.db';

/*
 * The KurrentDB server of the file's stories: the stand-in, started as the file loads (the CLI's
 * processes connect to it) and stopped after its last test, or SYNCLINE_KURRENTDB_URL's server.
 */
const kurrent = kurrentServer();
await kurrent.start();
afterAll(kurrent.stop);
let prefixes = 0;

export const storeKinds: readonly StoreKind[] = [
  {
    name: 'sqlite',
    runs: true,
    densePositions: true,
    freshUrl: () => SQLITE_STORE_URL,
    // beside the store's file
    statePath: (dir, url) => join(dir, url.replace(/^sqlite:/, '').replace(/\.db$/, '.state.db')),
    dropStores: () => Promise.resolve(),
  },
  {
    name: 'postgres',
    runs: postgresAnswers,
    densePositions: true,
    freshUrl: () => postgresStoreUrl(),
    // on this machine, under the directory's .syncline, named after the server, database and schema
    statePath: (dir, url) => {
      const u = new URL(url);
      const name = [
        u.username,
        u.hostname,
        u.port || '5432',
        u.pathname.slice(1),
        u.searchParams.get('schema'),
      ];
      return join(dir, '.syncline', `postgres-${name.join('-')}.state.db`);
    },
    dropStores: dropSchemas,
  },
  {
    name: 'kurrentdb',
    runs: true,
    densePositions: false,
    // A prefix of the world's own: nothing to drop, the other worlds' streams are never read.
    freshUrl: () => kurrent.url(`w${process.pid}-${Date.now().toString(36)}-${++prefixes}-`),
    // on this machine, under the directory's .syncline, named after the server and the prefix
    statePath: (dir, url) => {
      const u = new URL(url.replace(/^kurrentdb:/, 'http:'));
      const name = `${u.hostname}-${u.port}-${u.searchParams.get('prefix') ?? ''}`;
      return join(dir, '.syncline', `kurrentdb-${name.replace(/[^A-Za-z0-9._-]+/g, '-')}.state.db`);
    },
    dropStores: () => Promise.resolve(),
  },
];

/** Opens the store at `url` (relative to `dir`) from the test itself for `work`, and closes it after. */
export const withStoreAt = async <A>(
  url: string,
  dir: string,
  work: (store: EventStore) => Promise<A>,
): Promise<A> => {
  const opened = await openStore(url, dir, { mustExist: true })();
  if (E.isLeft(opened)) throw new Error(opened.left.message);
  try {
    return await work(opened.right);
  } finally {
    await opened.right.close();
  }
};
