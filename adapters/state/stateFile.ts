// The engine's state kept in an SQLite file beside the event store: opened in time independent of the
// number of profiles, read row by row as a command needs it, and saved with its position atomically.
import { randomUUID } from 'node:crypto';
import type { Database as Db, Statement } from 'better-sqlite3';
import * as E from 'fp-ts/lib/Either.js';
import type { EngineState, OrderedKeys } from '../../engine/state/engineState.js';
import { groupRows, profileRows } from './rows.js';
import { KEYED, type Keyed } from './schema.js';
import { DiskRelation, DiskTable, Rows, type Saved } from './tables.js';
import { DestinationsOnDisk } from './destinations.js';
import { isBusy } from '../stores/sqlite/writeLock.js';
import { closeKeepingLog, KEPT_LOG_BYTES } from '../walMode.js';
import { DiskTouches } from './touches.js';
import { Everyone } from './everyone.js';

export type StateFailed = { readonly _tag: 'StateFailed'; readonly path: string; readonly message: string };

/** Rows waiting to be saved beyond which a run saves between its batches: about 50 MiB of them. */
const KEEP_FROM = 200_000;

/** What a save did: wrote the changes, found none, or found another process had saved first. */
export type SaveResult = 'saved' | 'unchanged' | 'lost';

/**
 * The state in the file, in a read transaction held from one save to the next: every row read
 * comes from the state as of the last save (this process's or, after a realign, another's), never
 * from a state another process saved meanwhile. Saving upgrades that transaction: SQLite refuses
 * when another process saved since the snapshot (SQLITE_BUSY_SNAPSHOT), which is the compare-and-set.
 */
export class StateFile {
  readonly state: EngineState;
  private readonly rows: Record<Keyed, Rows>;
  private readonly world: Saved[];
  private readonly touches: DiskTouches;
  private readonly everyoneRows: Everyone;
  private readonly destinations: DestinationsOnDisk;
  private readonly meta: Statement<[string], { value: string | number }>;
  private readonly setMeta: Statement<[string | number, string]>;
  /** the position saved last (or read at the last realign) */
  private savedAt: number;
  /** another process saved after this one's snapshot: nothing more is saved until a realign */
  private stale = false;
  /** the token of the save this process's snapshot holds (each save writes a new one) */
  private token = '';
  /** how many times the state was replaced by the one another process saved (see realign) */
  realigned = 0;

  constructor(
    private readonly db: Db,
    readonly path: string,
    /** this run of the machine, saved with the state (see machineStart in open.ts) */
    private readonly boot: string,
    private readonly keepFrom: number = KEEP_FROM,
  ) {
    this.rows = Object.fromEntries(KEYED.map((k) => [k, new Rows(db, k)])) as Record<Keyed, Rows>;
    this.meta = db.prepare(`SELECT value FROM meta WHERE name = ?`);
    this.setMeta = db.prepare(`UPDATE meta SET value = ? WHERE name = ?`);
    this.destinations = new DestinationsOnDisk(db, this.rows);
    const profiles = new DiskTable(this.rows.profiles, '', profileRows);
    const groups = new DiskTable(this.rows.groups, '', groupRows);
    const members = new DiskRelation(this.rows.members);
    this.touches = new DiskTouches(db);
    this.everyoneRows = new Everyone(db);
    this.world = [profiles, groups, members, this.touches];
    this.state = {
      position: 0,
      eventId: '',
      world: { profiles, groups, members },
      destinations: new Map(),
      touches: this.touches,
      tables: { ledger: (id) => this.destinations.ledger(id), claims: (id) => this.destinations.claims(id) },
      keep: () => this.keepIfDue(),
      everyone: (id) => this.everyone(id),
    };
    db.exec('BEGIN');
    this.savedAt = this.load();
  }

  /** Reads the position and the destinations (configs, ledger scalars, pending commands) from the file. */
  private load(): number {
    const s = this.state;
    s.position = Number(this.meta.get('position')?.value ?? 0);
    s.eventId = String(this.meta.get('eventId')?.value ?? '');
    this.token = String(this.meta.get('token')?.value ?? '');
    for (const t of this.world) t.forget();
    this.destinations.load(s.destinations);
    return s.position;
  }

  /** About how many rows the changes since the last save will write. */
  private get unsaved(): number {
    let n = 0;
    for (const t of this.world) n += t.unsaved;
    for (const t of this.destinations.tables()) n += t.unsaved;
    return n;
  }

  /**
   * A run's `keep`: saves once the changes waiting are many, so that a long run (a first sync of
   * millions) holds a bounded part of them in memory. Saving changes nothing a run relies on, and a
   * save lost to another process leaves this one's state as it was (see save).
   */
  private keepIfDue(): void {
    if (this.stale || this.unsaved < this.keepFrom) return;
    // A failure to write is told by the command's own save at its end, which meets it again.
    this.save({ duringRun: true });
  }

  /**
   * EngineState.everyone: saved first, whether or not anything changed, with the ids copied in the
   * same transaction, so that they are this process's state. None when another process saved since
   * this one's snapshot: the run then lists them from its state in memory.
   */
  private everyone(destinationId: string): OrderedKeys | undefined {
    let read: (() => OrderedKeys) | undefined;
    const saved = this.save({
      duringRun: true,
      within: () => {
        read = this.everyoneRows.fill(destinationId);
      },
    });
    return E.isRight(saved) && saved.right === 'saved' ? read?.() : undefined;
  }

  /** Whether anything was folded since the last save. */
  get changed(): boolean {
    if (this.state.position !== this.savedAt) return true;
    return this.world.some((t) => t.changed) || [...this.destinations.tables()].some((t) => t.changed);
  }

  /**
   * Saves what was folded since the last save, and the position, in one transaction. 'lost' when
   * another process saved first: this one's state stays right in memory, and `realign` takes up the
   * other's at a point where nothing relies on the state (between runs, before catching up).
   */
  save(
    options: {
      readonly duringRun?: boolean;
      /** more to write in the save's transaction: a save is made then even with nothing changed */
      readonly within?: () => void;
    } = {},
  ): E.Either<StateFailed, SaveResult> {
    if (this.stale) return E.right('lost');
    if (!this.changed && options.within === undefined) {
      this.refresh();
      return E.right('unchanged');
    }
    const token = randomUUID();
    try {
      // The first write upgrades the read transaction, or fails if another process saved since.
      this.setMeta.run(token, 'token');
    } catch (e) {
      if (!isBusy(e)) return E.left(this.failed(e));
      this.stale = true;
      return E.right('lost');
    }
    try {
      this.write();
      options.within?.();
      this.db.exec('COMMIT');
    } catch (e) {
      // SQLite rolls back the whole transaction itself on some errors (a full disk, an I/O error).
      if (this.db.inTransaction) this.db.exec('ROLLBACK');
      this.db.exec('BEGIN');
      this.stale = true;
      return E.left(this.failed(e));
    }
    for (const t of this.world) t.committed();
    for (const t of this.destinations.tables()) t.committed();
    this.savedAt = this.state.position;
    this.token = token;
    this.db.exec('BEGIN');
    // Another process may have saved between the commit and the new snapshot: then this one reads
    // its state from now on, and must take it up before folding on. That needs the instant between
    // two statements of this thread; during a run, which holds on to its destinations, it is a failure.
    if (this.meta.get('token')?.value !== token) {
      if (options.duringRun === true)
        throw new Error(`another process saved the engine state in ${this.path} the instant after this one`);
      this.realignNow();
    }
    return E.right('saved');
  }

  /**
   * With nothing to save, a new snapshot: one held for long would keep SQLite from moving other
   * processes' saves from the write-ahead log into the file, which would then grow. If another
   * process saved meanwhile, its state is taken up (nothing of this one's is lost: it changed nothing).
   */
  private refresh(): void {
    this.db.exec('ROLLBACK');
    this.db.exec('BEGIN');
    if (this.meta.get('token')?.value !== this.token) this.realignNow();
  }

  private write(): void {
    for (const t of this.world) t.write();
    this.destinations.write(this.state.destinations);
    this.setMeta.run(this.state.position, 'position');
    this.setMeta.run(this.state.eventId, 'eventId');
    this.setMeta.run(this.boot, 'boot');
  }

  /** Whether a save was lost to another process: see realign. */
  get isStale(): boolean {
    return this.stale;
  }

  /**
   * After a lost save: drops what this process folded since its last save and takes up the state
   * the file holds now; the caller catches up from its position. Only where nothing holds on to the
   * state's destinations or values (between runs, before catching up).
   */
  realign(): void {
    if (!this.stale) return;
    this.db.exec('ROLLBACK');
    this.db.exec('BEGIN');
    this.realignNow();
  }

  private realignNow(): void {
    this.savedAt = this.load();
    this.stale = false;
    this.realigned++;
  }

  private failed(e: unknown): StateFailed {
    return { _tag: 'StateFailed', path: this.path, message: e instanceof Error ? e.message : String(e) };
  }

  close(): void {
    if (this.db.inTransaction) this.db.exec('ROLLBACK');
    closeKeepingLog(this.db, KEPT_LOG_BYTES);
  }
}
