// Turns a store URL from the command line or config (`memory:`, `sqlite:PATH`, `postgres://…`) into
// an open EventStore, so callers never pick an adapter themselves and unsupported stores fail clearly.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import * as TE from 'fp-ts/lib/TaskEither.js';
import type { EventStore } from '../../engine/ports.js';
import { openMemoryEventStore } from './memory.js';
import { openKurrentStore } from './kurrentdb/store.js';
import { KURRENT_SCHEMES, parseKurrentUrl, type KurrentLocation } from './kurrentdb/url.js';
import { openPostgresStore } from './postgres/store.js';
import { parsePostgresUrl, type PostgresLocation } from './postgres/url.js';
import { openSqliteStore } from './sqlite/store.js';

export type StoreOpenError =
  | { readonly _tag: 'BadStoreUrl'; readonly message: string }
  | { readonly _tag: 'StoreUnavailable'; readonly message: string };

export type StoreLocation =
  | { readonly kind: 'memory' }
  | { readonly kind: 'sqlite'; readonly path: string }
  | PostgresLocation
  | KurrentLocation;

const FORMS =
  'use memory:, sqlite:PATH (e.g. sqlite:.syncline/store.db), postgres://USER@HOST:PORT/DB[?schema=NAME] ' +
  'or kurrentdb://HOST:PORT?tls=false';

const badUrl = (message: string): StoreOpenError => ({ _tag: 'BadStoreUrl', message });

/** Where `url` points; a relative sqlite PATH is taken relative to `cwd`. */
export const parseStoreUrl = (
  url: string,
  cwd: string = process.cwd(),
): E.Either<StoreOpenError, StoreLocation> => {
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1]?.toLowerCase();
  const rest = scheme === undefined ? '' : url.slice(scheme.length + 1);
  if (scheme === 'memory') {
    return rest === '' ? E.right({ kind: 'memory' }) : E.left(badUrl(`memory: takes no path, got "${url}"`));
  }
  if (scheme === 'sqlite') {
    // sqlite:///abs/path is the common URL spelling of an absolute path; sqlite://x would name a host.
    const path = rest.startsWith('///') ? rest.slice(2) : rest;
    if (path === '' || path.startsWith('//')) {
      return E.left(
        badUrl(`"${url}" names no file; use sqlite:relative/path.db or sqlite:///absolute/path.db`),
      );
    }
    return E.right({ kind: 'sqlite', path: resolve(cwd, path) });
  }
  if (scheme === 'postgres' || scheme === 'postgresql') {
    return E.mapLeft(badUrl)(parsePostgresUrl(url));
  }
  if (scheme !== undefined && KURRENT_SCHEMES.includes(scheme)) {
    return E.mapLeft(badUrl)(parseKurrentUrl(url));
  }
  return E.left(badUrl(`"${url}" is not a store URL this syncline understands; ${FORMS}`));
};

/**
 * Opens the store `url` points at. A TaskEither although today's adapters open synchronously:
 * server stores will have to connect first, and callers should not have to change for them.
 */
export const openStore =
  (
    url: string,
    cwd: string = process.cwd(),
    options: {
      readonly mustExist?: boolean;
      /** told once when a writer has waited a few seconds for another process's write lock */
      readonly onWaiting?: () => void;
    } = {},
  ): TE.TaskEither<StoreOpenError, EventStore> =>
  async () => {
    // Lazy like any TaskEither: nothing is opened (no file created) until the task runs.
    const where = parseStoreUrl(url, cwd);
    if (E.isRight(where) && where.right.kind === 'postgres')
      return openPostgresStore(where.right, { create: options.mustExist !== true });
    if (E.isRight(where) && where.right.kind === 'kurrentdb') return openKurrentStore(where.right);
    return Promise.resolve().then(() =>
      E.chain((location: StoreLocation): E.Either<StoreOpenError, EventStore> => {
        if (location.kind === 'postgres' || location.kind === 'kurrentdb') throw new Error('opened above');
        if (location.kind === 'memory') return E.right(openMemoryEventStore());
        // Commands that only read should say there is nothing yet, not leave an empty store behind.
        if (options.mustExist === true && !existsSync(location.path)) {
          return E.left({
            _tag: 'StoreUnavailable',
            message:
              `there is no store at ${location.path} yet: record a configuration with \`syncline apply\` ` +
              'and events with `syncline ingest` first, or point --store at an existing store',
          });
        }
        return openSqliteStore(location.path, {
          create: options.mustExist !== true,
          ...(options.onWaiting === undefined ? {} : { onWaiting: options.onWaiting }),
        });
      })(where),
    );
  };
