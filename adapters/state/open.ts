// Where the engine's state file is, and opening it: made when missing, and rebuilt (emptied, to be
// folded again from the store) when it is of another format, does not match the store, or is asked to.
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { uptime } from 'node:os';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import * as E from 'fp-ts/lib/Either.js';
import type { EventStore } from '../../engine/ports.js';
import { parseStoreUrl } from '../stores/open.js';
import { StateDamaged } from './rows.js';
import { empty, formatOf, recreate, STATE_FORMAT } from './schema.js';
import { StateFile, type StateFailed } from './stateFile.js';

/**
 * The state file of a store: beside an SQLite store (`events.db` → `events.state.db`), under
 * `base/.syncline/` for a PostgreSQL one; none in memory.
 */
export const statePathFor = (storeUrl: string, base: string): string | undefined => {
  const where = parseStoreUrl(storeUrl, base);
  if (E.isRight(where) && where.right.kind === 'postgres') {
    // A server store has no file to sit beside: the state is this machine's, kept under `base` and
    // named after the store, so two stores (or two schemas) never share one.
    const name = `${where.right.shown.slice('postgres://'.length)}/${where.right.schema}`;
    return resolve(base, '.syncline', `postgres-${name.replace(/[^A-Za-z0-9._-]+/g, '-')}.state.db`);
  }
  if (E.isRight(where) && where.right.kind === 'kurrentdb') {
    const name = `${where.right.shown.replace(/^[a-z+]+:\/\//, '')}/${where.right.prefix}`;
    return resolve(base, '.syncline', `kurrentdb-${name.replace(/[^A-Za-z0-9._-]+/g, '-')}.state.db`);
  }
  if (E.isLeft(where) || where.right.kind !== 'sqlite') return undefined;
  const path = where.right.path;
  return path.endsWith('.db') ? `${path.slice(0, -3)}.state.db` : `${path}.state.db`;
};

export type OpenedState = {
  readonly file: StateFile;
  /** one line for stderr when the state is built afresh (missing, another format, another store, asked) */
  readonly notice?: string;
};

export type OpenStateOptions = {
  /**
   * Empty the file, to be folded again from the store's first event: the remedy for a state the
   * file holds but cannot give back (a damaged row), which nothing on opening can see.
   */
  readonly rebuild?: boolean;
  /** rows waiting to be saved beyond which a run's `keep` saves (see StateFile) */
  readonly keepFrom?: number;
};

/** The id of the event at `position`, or undefined when the store holds none there. */
const eventIdAt = async (store: EventStore, position: number): Promise<string | undefined> => {
  for await (const e of store.readAll(position - 1, 1)) return e.position === position ? e.id : undefined;
  return undefined;
};

const removeFile = (path: string): void => {
  for (const suffix of ['', '-wal', '-shm']) rmSync(`${path}${suffix}`, { force: true });
};

/**
 * Whether saves wait for the disk. By default they do not: the state is derived data, and waiting
 * for the disk at every save cost a cold sync of 1,000 changed profiles 40–60 ms, most of it. A
 * process killed at any point leaves a sound file (the operating system still writes what it was
 * given); a machine that stops (a power cut, a kernel crash) could leave it torn, so a state saved
 * before the machine last started is folded again from the store (see machineStart).
 * SYNCLINE_STATE_SYNCHRONOUS=NORMAL makes saves wait for the disk's log, and keeps the file across restarts.
 */
const durable = (): boolean => process.env.SYNCLINE_STATE_SYNCHRONOUS === 'NORMAL';

/** This run of the machine: Linux's boot id, else the minute it started. */
export const machineStart = (): string => {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return `started ${Math.round((Date.now() / 1000 - uptime()) / 60)}`;
  }
};

/** SQLite finds the file damaged, or no database: derived data like any other, built again. */
export const unreadable = (e: unknown): e is InstanceType<typeof Database.SqliteError> =>
  e instanceof Database.SqliteError && (e.code === 'SQLITE_NOTADB' || e.code === 'SQLITE_CORRUPT');

const connect = (path: string): Database.Database => {
  const db = new Database(path);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${durable() ? 'NORMAL' : 'OFF'}`);
    // A new process reads the rows it needs from a cold cache: mapped, each page costs no system
    // call (a cold sync of 1,000 changed profiles wrote its save in 20 ms rather than 85). An I/O
    // error then ends the process, which the file, derived data, survives. Only the file's first
    // 64 MiB: the pages a process touches through the map count as its own memory, and a first
    // sync of ten million profiles touches gigabytes of them.
    db.pragma(`mmap_size = ${64 * 1024 * 1024}`);
    // A save is not made to wait for the log to be copied into the file: closing copies it.
    db.pragma('wal_autocheckpoint = 16384');
    return db;
  } catch (e) {
    db.close();
    throw e;
  }
};

/** Makes the tables when the file has none or another format's; why it did, for the notice. */
const prepare = (db: Database.Database): 'new' | 'other-format' | undefined =>
  db
    .transaction(() => {
      const format = formatOf(db);
      if (format === STATE_FORMAT) return undefined;
      recreate(db);
      return format === undefined ? 'new' : 'other-format';
    })
    .immediate();

/**
 * Opens the state file at `path` for `store`. The state it holds is at some position of the store
 * (the caller catches up from there); when that position's event is not the one the state was
 * saved after (the store was restored from an older backup, or is another store), the state is
 * emptied and is folded from the first event, which `notice` says; so it is when `rebuild` asks.
 * A file whose rows cannot be read back throws (StateDamaged, or SQLite's SqliteError).
 */
export const openStateFile = async (
  path: string,
  store: EventStore,
  options: OpenStateOptions = {},
): Promise<E.Either<StateFailed, OpenedState>> => {
  const failed = (e: unknown): StateFailed => ({
    _tag: 'StateFailed',
    path,
    message: e instanceof Error ? e.message : String(e),
  });
  let db: Database.Database | undefined;
  let made: 'new' | 'other-format' | 'damaged' | undefined;
  try {
    mkdirSync(dirname(path), { recursive: true });
    try {
      const connected = connect(path);
      db = connected;
      made = prepare(connected);
      // Emptying reads every table's pages: a damaged one makes it a damaged file, made again.
      if (options.rebuild === true) connected.transaction(() => empty(connected)).immediate();
    } catch (e) {
      if (!unreadable(e)) throw e;
      db?.close();
      removeFile(path);
      db = connect(path);
      prepare(db);
      made = 'damaged';
    }
  } catch (e) {
    return E.left(failed(e));
  }
  try {
    const started = machineStart();
    if (options.rebuild === true)
      return E.right({
        file: new StateFile(db, path, started, options.keepFrom),
        notice: `rebuilding the engine state in ${path} from the store, as asked`,
      });
    const at = db
      .prepare(`SELECT name, value FROM meta WHERE name IN ('position', 'eventId', 'boot')`)
      .all() as {
      name: string;
      value: string | number;
    }[];
    const position = Number(at.find((r) => r.name === 'position')?.value ?? 0);
    const eventId = String(at.find((r) => r.name === 'eventId')?.value ?? '');
    const boot = String(at.find((r) => r.name === 'boot')?.value ?? '');
    let notice: string | undefined;
    if (position > 0 && !durable() && boot !== started) {
      db.transaction(() => empty(db)).immediate();
      notice =
        `the engine state in ${path} was saved before the machine last started, without waiting for ` +
        'the disk (so a stop may have cut it short): folding it again from the store';
    } else if (position > 0 && (await eventIdAt(store, position)) !== eventId) {
      db.transaction(() => empty(db)).immediate();
      notice =
        `the engine state in ${path} was saved at position ${position}, which this store does not hold ` +
        'as it was (a store restored from a backup, or another store): folding it again from the store';
    } else if (made !== undefined && position === 0 && (await eventIdAt(store, 1)) !== undefined) {
      notice =
        made === 'new'
          ? `building the engine state in ${path} from the store`
          : made === 'damaged'
            ? `the engine state in ${path} could not be read: building it again from the store`
            : `the engine state in ${path} is of another version of syncline: building it again from the store`;
    }
    return E.right({
      file: new StateFile(db, path, started, options.keepFrom),
      ...(notice === undefined ? {} : { notice }),
    });
  } catch (e) {
    db.close();
    // What the file holds cannot be read back: the caller says so (the remedy is a rebuild).
    if (e instanceof StateDamaged || unreadable(e)) throw e;
    return E.left(failed(e));
  }
};
