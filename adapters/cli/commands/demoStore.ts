// Where the demo keeps its store: events.db in its directory, or, with `--store postgres://…`, a
// schema of that server, emptied only when an earlier demo made it, as the directory is.
import * as E from 'fp-ts/lib/Either.js';
import * as TE from 'fp-ts/lib/TaskEither.js';
import * as demo from '../../demo/scenario.js';
import { dropPostgresSchema, isDemoStore } from '../../stores/postgres/demo.js';
import { parseStoreUrl } from '../../stores/open.js';
import type { CliContext } from '../command.js';
import { failed, storeFailed, type CliError } from '../errors.js';

export type DemoStore = {
  /** the URL the demo opens, relative to its directory */
  readonly url: string;
  /** what the config file records: the same store, never a password */
  readonly recorded: string;
  /** how the introduction names it */
  readonly shown: string;
};

/**
 * The demo's store: `--store` when it names a PostgreSQL server (after emptying the schema an earlier
 * demo made there, and refusing one that holds anything else), else the SQLite file in its directory.
 */
export const demoStore = (ctx: CliContext): TE.TaskEither<CliError, DemoStore> => {
  const local = { url: demo.STORE_URL, recorded: demo.STORE_URL, shown: 'events.db' };
  if (!ctx.options.storeGiven) return TE.right(local);
  const where = parseStoreUrl(ctx.options.store, ctx.io.cwd);
  if (E.isLeft(where)) return TE.left(storeFailed(where.left.message));
  const location = where.right;
  if (location.kind !== 'postgres')
    return TE.left(
      failed(
        'the demo keeps its store in its directory, or on a PostgreSQL server given with --store postgres://…',
      ),
    );
  const recorded = `${location.shown}?schema=${location.schema}`;
  const made = { url: ctx.options.store, recorded, shown: `${recorded} (schema ${location.schema})` };
  return async () => {
    const found = await isDemoStore(location);
    if (E.isLeft(found)) return E.left(storeFailed(found.left));
    if (found.right === 'other')
      return E.left(
        failed(
          `the schema ${location.schema} of ${location.shown} holds a store the demo did not make; ` +
            'name another schema with ?schema=NAME, or drop it yourself',
        ),
      );
    if (found.right === 'demo') {
      const dropped = await dropPostgresSchema(location);
      if (E.isLeft(dropped)) return E.left(storeFailed(dropped.left));
    }
    return E.right(made);
  };
};
