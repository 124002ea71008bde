// The engine's state kept in an SQLite file beside the event store: opened in time independent of the
// number of profiles, read row by row as a command needs it, and saved with its position atomically.
import { randomUUID } from 'node:crypto';
import type { Database as Db, Statement } from 'better-sqlite3';
import * as E from 'fp-ts/lib/Either.js';
import type { DestinationView, EngineState, OrderedKeys } from '../../engine/state/engineState.js';
import { emptyClaims } from '../../projections/claims.js';
import type { Holders } from '../../projections/holders.js';
import { initialLedger, type Ledger } from '../../projections/ledger.js';
import { addPending, pendingCommands } from '../../projections/pending.js';
import {
  claimRows,
  destinationRow,
  entryRows,
  failureRows,
  pendingRow,
  groupRows,
  profileRows,
  readDestinationRow,
  runAt,
  textRows,
} from './rows.js';
import { KEYED, type Keyed } from './schema.js';
import { DiskKeySet, DiskRelation, DiskTable, Rows, type Saved } from './tables.js';
import { isBusy } from '../stores/sqlite/writeLock.js';
import { DiskTouches } from './touches.js';
import { Everyone } from './everyone.js';

export type StateFailed = { readonly _tag: 'StateFailed'; readonly path: string; readonly message: string };

/** Rows waiting to be saved beyond which a run saves between its batches: about 50 MiB of them. */
const KEEP_FROM = 200_000;

/** What a save did: wrote the changes, found none, or found another process had saved first. */
export type SaveResult = 'saved' | 'unchanged' | 'lost';

/** A destination's tables and what of its pending commands is on disk. */
type DestinationRows = {
  readonly tables: Saved[];
  readonly claims: DiskTable<string | Set<string>>;
  /** the ids of its pending commands on disk */
  readonly pending: Set<string>;
  /** its row as last saved or read */
  row: string;
};

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
  private readonly perDestination = new Map<string, DestinationRows>();
  private readonly meta: Statement<[string], { value: string | number }>;
  private readonly setMeta: Statement<[string | number, string]>;
  private readonly addPending: Statement<[string, string, string]>;
  private readonly dropPending: Statement<[string, string]>;
  private readonly pendingOf: Statement<[string], { key: string; value: string }>;
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
    this.addPending = db.prepare(`INSERT INTO pending (scope, key, value) VALUES (?, ?, ?)`);
    this.dropPending = db.prepare(`DELETE FROM pending WHERE scope = ? AND key = ?`);
    this.pendingOf = db.prepare(`SELECT key, value FROM pending WHERE scope = ? ORDER BY seq`);
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
      tables: { ledger: (id) => this.ledger(id), claims: (id) => this.claimsOf(id) },
      keep: () => this.keepIfDue(),
      everyone: (id) => this.everyone(id),
    };
    db.exec('BEGIN');
    this.savedAt = this.load();
  }

  private tablesOf(destinationId: string): DestinationRows {
    let d = this.perDestination.get(destinationId);
    if (d === undefined) {
      const claims = new DiskTable(this.rows.claims, destinationId, claimRows);
      d = { tables: [claims], claims, pending: new Set(), row: '' };
      this.perDestination.set(destinationId, d);
    }
    return d;
  }

  private ledger(destinationId: string): Ledger {
    const d = this.tablesOf(destinationId);
    const entries = new DiskTable(this.rows.entries, destinationId, entryRows);
    const owners = new DiskTable(this.rows.owners, destinationId, textRows);
    const failures = new DiskTable(this.rows.failures, destinationId, failureRows);
    const retryRequested = new DiskKeySet(this.rows.retries, destinationId);
    d.tables.push(entries, owners, failures, retryRequested);
    return { ...initialLedger(), entries, owners, failures, retryRequested };
  }

  private claimsOf(destinationId: string): Holders {
    return this.tablesOf(destinationId).claims;
  }

  /** Reads the position and the destinations (configs, ledger scalars, pending commands) from the file. */
  private load(): number {
    const s = this.state;
    s.position = Number(this.meta.get('position')?.value ?? 0);
    s.eventId = String(this.meta.get('eventId')?.value ?? '');
    this.token = String(this.meta.get('token')?.value ?? '');
    s.destinations.clear();
    for (const t of this.world) t.forget();
    // Every destination's, not only those the file holds: a save that failed (rolled back) left the
    // row and pending ids it meant to write to a destination the file does not hold, and the next
    // save would take them for written and leave the destination out.
    for (const d of this.perDestination.values()) {
      d.tables.length = 1;
      d.claims.forget();
      d.pending.clear();
      d.row = '';
    }
    const rows = [...this.rows.destinations.all('')].map((r) => ({
      id: r.key,
      row: readDestinationRow(String(r.value), r.key),
    }));
    for (const { id, row } of rows.sort((a, b) => a.row.seq - b.row.seq)) {
      const ledger: Ledger = {
        ...this.ledger(id),
        open: runAt(row, row.open),
        lastFinished: runAt(row, row.lastFinished),
        lastRun: runAt(row, row.lastRun),
        runs: row.runCount,
        revision: row.revision,
        taken: row.taken,
      };
      const d = this.tablesOf(id);
      for (const p of this.pendingOf.all(id)) {
        addPending(ledger.pending, pendingRow(p.value, p.key));
        d.pending.add(p.key);
      }
      const v: DestinationView = {
        destinationId: id,
        config: row.config,
        configPosition: row.configPosition,
        claims: row.config ? emptyClaims(row.config, d.claims) : null,
        ledger,
      };
      d.row = destinationRow(row.seq, v.config, v.configPosition, ledger);
      s.destinations.set(id, v);
    }
    return s.position;
  }

  /** About how many rows the changes since the last save will write. */
  private get unsaved(): number {
    let n = 0;
    for (const t of this.world) n += t.unsaved;
    for (const d of this.perDestination.values()) for (const t of d.tables) n += t.unsaved;
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
    return (
      this.world.some((t) => t.changed) ||
      [...this.perDestination.values()].some((d) => d.tables.some((t) => t.changed))
    );
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
    for (const d of this.perDestination.values()) for (const t of d.tables) t.committed();
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
    let seq = 0;
    for (const [id, v] of this.state.destinations) {
      const d = this.tablesOf(id);
      for (const t of d.tables) t.write();
      const row = destinationRow(seq++, v.config, v.configPosition, v.ledger);
      if (row !== d.row) {
        this.rows.destinations.put.run('', id, row);
        d.row = row;
      }
      const now = new Set<string>();
      // New ones in the order decided, after those on disk: they were all decided after them.
      for (const cmd of pendingCommands(v.ledger.pending)) {
        now.add(cmd.commandId);
        if (!d.pending.has(cmd.commandId)) this.addPending.run(id, cmd.commandId, JSON.stringify(cmd));
      }
      for (const commandId of d.pending) if (!now.has(commandId)) this.dropPending.run(id, commandId);
      d.pending.clear();
      for (const commandId of now) d.pending.add(commandId);
    }
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
    this.db.close();
  }
}
