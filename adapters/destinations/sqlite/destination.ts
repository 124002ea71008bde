// The SQLite destination: one row per record in `table` (a column per mapped field, the key field as
// primary key) and its lists/tags as (record_key, group_name) rows in `groupsTable`.
//
// Value encoding is described in tables.ts: strings, numbers and null are stored natively in
// untyped columns; booleans and arrays as BLOBs of their JSON, so lookup returns what apply wrote.
// How a batch is written (one transaction; one command's failure never undoes the others) is in
// apply.ts, and how records are read back in lookup.ts. better-sqlite3 blocks its thread,
// so both run on worker threads the process's destinations share, with a connection each
// (applier.ts, reader.ts); commands cross to the writer in the compact form of
// wire.ts. A private in-memory database keeps both on the caller's thread.
import Database from 'better-sqlite3';
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import { pipe } from 'fp-ts/lib/function.js';
import type { Command, CommandOutcome, DestinationTypeDescription } from '../../../domain/command.js';
import type { ObservedRecord } from '../../../domain/decision.js';
import type { DestinationConfig } from '../../../domain/destination.js';
import { SYNC_MODES } from '../../../domain/modes.js';
import type { Destination, DestinationError, DestinationType, OpenError } from '../../../engine/ports.js';
import { shared, type Thread } from '../../thread.js';
import { workerFile } from '../../workerFile.js';
import { openFailed, resolveOptions } from '../options.js';
import { withoutSecrets } from '../secrets.js';
import { answerApply, type ApplyRequest, type ApplyResponse } from './applier.js';
import { applierOn, connect } from './apply.js';
import { openMessage, placeOf, type Place } from './errors.js';
import { countOn, lookupOn } from './lookup.js';
import { SQLITE_OPTIONS, sqliteChecks, sqliteOptionDescriptions } from './options.js';
import { answerLookup, type LookupRequest, type LookupResponse } from './reader.js';
import type { Connection } from './connections.js';
import { tableNamesOf, type TableNames } from './tables.js';
import { outcomesOf, toWire, type WireFailure } from './wire.js';

export const sqliteDescription: DestinationTypeDescription = {
  type: 'sqlite',
  description:
    'A table in a SQLite file: one row per record, one column per mapped field, plus a groups table.',
  modes: [...SYNC_MODES],
  defaultMode: 'sync',
  options: sqliteOptionDescriptions,
};

type Applied = E.Either<DestinationError, CommandOutcome[]>;
type Found = E.Either<DestinationError, readonly ObservedRecord[]>;
type Counted = E.Either<DestinationError, number | null>;

/** Where lookups and applies run, and how they end: on threads of their own, or on the caller's. */
type Work = {
  readonly lookup: (keys: readonly string[]) => Promise<Found>;
  readonly count: (atMost?: number) => Promise<Counted>;
  readonly apply: (commands: readonly Command[]) => Promise<Applied>;
  /** The run has ended: see Destination.tidy. */
  readonly tidy: () => Promise<void>;
  /** Waits for the work under way before letting go of it. */
  readonly close: () => Promise<void>;
  /** A run of this many profiles starts: see Destination.expect. */
  readonly expect?: (profiles: number) => void;
};

/**
 * A run of at most this many profiles looks up and applies on the caller's thread, unless the
 * threads are up already: a cold `syncline sync` of 1,000 changed profiles otherwise waits for two
 * threads to boot (100–150 ms each, more than the whole run's lookups and applies take here).
 */
const SHORT_RUN = 5_000;

/*
 * One reader and one writer thread serve every SQLite destination of the process (see shared in
 * thread.ts), each destination with a connection of its own on both. Booting a thread (a fresh V8
 * isolate loading better-sqlite3) takes 80–115 ms of a core, which a short run never earns back: the
 * reader boots when a run says it is long (expect), or with the first lookup of a caller that never
 * says, and until it is up a long run's lookups are answered on the caller's thread, so a first sync
 * waits for no boot either. The writer starts with a long run's first apply, so a plan (lookups
 * only) never starts it; booted ahead too, it gains a first sync nothing more and makes a sync of 1%
 * changes 7–15% slower (alternating runs; why is not known). In WAL mode the reader never waits for
 * the writer and sees its last commit, and the engine looks the next batch up while the writer
 * applies and it records.
 */
const readers = shared<LookupRequest, LookupResponse>(
  () =>
    workerFile(
      import.meta.url,
      './readerThread.js',
      '../../../dist/adapters/destinations/sqlite/readerThread.js',
    ),
  'SQLite destination lookup',
);
const writers = shared<ApplyRequest, ApplyResponse>(
  () =>
    workerFile(
      import.meta.url,
      './applierThread.js',
      '../../../dist/adapters/destinations/sqlite/applierThread.js',
    ),
  'SQLite destination apply',
);
let leases = 0;

/** The reader's and the applier's answers on the caller's thread, with connections of their own. */
const here = (connection: Connection) => ({
  lookup: (request: LookupRequest): Promise<LookupResponse> =>
    new Promise((resolve) => resolve(answerLookup(request))),
  apply: (request: ApplyRequest): Promise<ApplyResponse> =>
    new Promise((resolve) => resolve(answerApply(request))),
  release: (): void => {
    answerLookup({ connection, release: true });
    answerApply({ connection, release: true });
  },
});

const onThreads = (place: Place, names: TableNames): Work => {
  const connection: Connection = { id: ++leases, place, names };
  const reader = readers({ connection, release: true });
  const local = here(connection);
  // Leased with the first apply: a lease is what boots the writer, if no destination has yet.
  let writer: Thread<ApplyRequest, ApplyResponse> | null = null;
  let closed = false;
  /** a short run's lookups and applies are answered here (see SHORT_RUN) */
  let short = false;
  /** a run said how long it is: the reader was booted then if it was long */
  let expected = false;
  const read = (request: LookupRequest): Promise<LookupResponse> =>
    short || (expected && !reader.ready()) ? local.lookup(request) : reader.ask(request);
  return {
    // The reader answers each request with its own kind (see LookupResponse).
    lookup: (keys) => read({ connection, keys }) as Promise<Found>,
    // Here always: one query, asked before a run knows its length, and answered here long before a
    // booting reader could.
    count: (atMost) =>
      local.lookup({
        connection,
        count: true,
        ...(atMost === undefined ? {} : { atMost }),
      }) as Promise<Counted>,
    apply: async (commands) => {
      if (closed) throw new Error('the SQLite destination apply thread is closed');
      const request = { connection, apply: JSON.stringify(toWire(commands)) };
      if (!short) writer ??= writers({ connection, release: true });
      return E.map((failed: WireFailure[]) => outcomesOf(commands, failed))(
        await (writer === null ? local.apply(request) : writer.ask(request)),
      );
    },
    // Decided between runs only, when nothing is under way: once a run has applied on the apply
    // thread, later ones do too, so the destination's writes never cross from one thread to another.
    expect: (profiles) => {
      short = writer === null && profiles <= SHORT_RUN && !writers.running();
      expected = true;
      if (profiles > SHORT_RUN) reader.boot();
    },
    // Queued behind the run's last apply on the writer's thread. Failing to checkpoint loses nothing
    // (SQLite checkpoints again later), and a closed thread has nothing left to checkpoint.
    tidy: () =>
      writer === null
        ? Promise.resolve()
        : writer.ask({ connection, checkpoint: true }).then(
            () => undefined,
            () => undefined,
          ),
    close: async () => {
      closed = true;
      await Promise.all([reader.close(), writer?.close()]);
      local.release();
    },
  };
};

/** For a database private to one connection (`:memory:`, or `''` for a temporary file). */
const inThread = (db: Database.Database, names: TableNames, place: Place): Work => {
  const lookup = lookupOn(db, names, place);
  const count = countOn(db, names, place);
  const apply = applierOn(db, names, place);
  // A bug's exception rejects, as it does from a thread, rather than throwing at the caller.
  return {
    lookup: (keys) => new Promise((resolve) => resolve(lookup(keys))),
    count: (atMost) => new Promise((resolve) => resolve(count(atMost))),
    apply: (commands) =>
      new Promise((resolve) =>
        resolve(E.map((failed: WireFailure[]) => outcomesOf(commands, failed))(apply(toWire(commands)))),
      ),
    // An in-memory database has no write-ahead log.
    tidy: () => Promise.resolve(),
    close: () => Promise.resolve(),
  };
};

/** `db` is the private database of an in-memory destination; a file's are opened on the threads. */
const sqliteDestination = (db: Database.Database | null, place: Place, names: TableNames): Destination => {
  const work = db !== null ? inThread(db, names, place) : onThreads(place, names);
  let closed: Promise<void> | null = null;
  return {
    describe: () => sqliteDescription,
    // Work happens when the task runs, so re-running a task repeats the call.
    lookup: (keys) => () => work.lookup(keys),
    count: (atMost) => () => work.count(atMost),
    apply: (commands) => () => work.apply(commands),
    tidy: () => work.tidy(),
    ...(work.expect === undefined ? {} : { expect: work.expect }),
    close: () =>
      (closed ??= work.close().finally(() => {
        if (db?.open === true) db.close();
      })),
  };
};

/**
 * Why the file could never be opened or created, found without creating anything: opening a
 * destination is also what `plan` and `status` do, and they must leave no file behind. The file is
 * created (with its directory) by the first apply. Throws for a path through a file (ENOTDIR) or a
 * directory it may not enter (EACCES), as opening would.
 */
const refuseUnreachable = (file: string): void => {
  const found = statSync(file, { throwIfNoEntry: false });
  if (found === undefined) return;
  if (found.isDirectory())
    throw Object.assign(new Error(`EISDIR: illegal operation on a directory, open '${file}'`), {
      code: 'EISDIR',
      syscall: 'open',
    });
  // An existing file is read, never written, to find it is a database: SQLite says so at the header.
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    db.pragma('user_version');
  } finally {
    db.close();
  }
};

const openDatabase = (
  config: DestinationConfig,
  place: Place,
): E.Either<OpenError, Database.Database | null> =>
  E.tryCatch(
    () => {
      // ':memory:' is private to one connection: nothing on disk to share with the threads.
      if (place.file === ':memory:') return connect(place.file);
      refuseUnreachable(place.file);
      return null;
    },
    (e) => openFailed(config, openMessage(e, place)),
  );

/**
 * Options are read and checked as `validate` checks them (sqlite/options.ts); from then on, messages
 * name the file and tables by their labels, so a value read from a variable is never in one.
 */
const open: DestinationType['open'] = (config, env) => () =>
  Promise.resolve(
    pipe(
      resolveOptions<typeof SQLITE_OPTIONS>(config, sqliteType, env),
      E.flatMap(({ values, labels, secrets }) => {
        const { path, table, groupsTable } = values;
        // ':memory:' is no file: better-sqlite3 opens it as given, and a private database it stays.
        const file = path === ':memory:' ? path : resolve(path);
        const place = placeOf(file, labels.path ?? path, secrets);
        const names = tableNamesOf(config, table, groupsTable, labels);
        return E.map((db: Database.Database | null) => sqliteDestination(db, place, names))(
          openDatabase(config, place),
        );
      }),
    ),
  );

const sqliteType: DestinationType = { description: sqliteDescription, checks: sqliteChecks, open };

/** Wrapped (see secrets.ts): whatever slips past the labels above, no message holds a variable's value. */
export const sqliteDestinationType: DestinationType = withoutSecrets(sqliteType);
