// The event stores the CLI stories run on, so one story checks both: an SQLite file in the world's own
// directory, and a fresh schema on the test PostgreSQL server (skipped where no server answers).
import { join } from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import { openStore } from '../../adapters/stores/open.js';
import type { EventStore } from '../../engine/ports.js';
import { dropSchemas, postgresAnswers, postgresStoreUrl } from './postgres.js';

export type StoreKind = {
  readonly name: 'sqlite' | 'postgres';
  /** whether the kind can run here: describe.skipIf(!kind.runs) */
  readonly runs: boolean;
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

export const storeKinds: readonly StoreKind[] = [
  {
    name: 'sqlite',
    runs: true,
    freshUrl: () => SQLITE_STORE_URL,
    // beside the store's file
    statePath: (dir, url) => join(dir, url.replace(/^sqlite:/, '').replace(/\.db$/, '.state.db')),
    dropStores: () => Promise.resolve(),
  },
  {
    name: 'postgres',
    runs: postgresAnswers,
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
