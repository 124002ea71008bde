// Each destination's part of the state file: the tables of its ledger and key claims, its row (the
// configuration and the ledger's scalars) and its pending commands, read into views and saved back.
import type { Database, Statement } from 'better-sqlite3';
import type { DestinationView } from '../../engine/state/engineState.js';
import { keepsWrittenValues } from '../../domain/destination.js';
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
  readDestinationRow,
  runAt,
  textRows,
} from './rows.js';
import type { Keyed } from './schema.js';
import { DiskKeySet, DiskTable, type Rows, type Saved } from './tables.js';

/** A destination's tables and what of its pending commands is on disk. */
type DestinationRows = {
  readonly tables: Saved[];
  readonly claims: DiskTable<string | Set<string>>;
  /** the ids of its pending commands on disk */
  readonly pending: Set<string>;
  /** its row as last saved or read */
  row: string;
};

export class DestinationsOnDisk {
  private readonly each = new Map<string, DestinationRows>();
  private readonly addPending: Statement<[string, string, string]>;
  private readonly dropPending: Statement<[string, string]>;
  private readonly pendingOf: Statement<[string], { key: string; value: string }>;

  constructor(
    db: Database,
    private readonly rows: Record<Keyed, Rows>,
  ) {
    this.addPending = db.prepare(`INSERT INTO pending (scope, key, value) VALUES (?, ?, ?)`);
    this.dropPending = db.prepare(`DELETE FROM pending WHERE scope = ? AND key = ?`);
    this.pendingOf = db.prepare(`SELECT key, value FROM pending WHERE scope = ? ORDER BY seq`);
  }

  private rowsOf(destinationId: string): DestinationRows {
    let d = this.each.get(destinationId);
    if (d === undefined) {
      const claims = new DiskTable(this.rows.claims, destinationId, claimRows);
      d = { tables: [claims], claims, pending: new Set(), row: '' };
      this.each.set(destinationId, d);
    }
    return d;
  }

  /** DestinationTables.ledger: a ledger over the destination's tables. */
  ledger(destinationId: string): Ledger {
    const d = this.rowsOf(destinationId);
    const entries = new DiskTable(this.rows.entries, destinationId, entryRows);
    const owners = new DiskTable(this.rows.owners, destinationId, textRows);
    const failures = new DiskTable(this.rows.failures, destinationId, failureRows);
    const retryRequested = new DiskKeySet(this.rows.retries, destinationId);
    d.tables.push(entries, owners, failures, retryRequested);
    return { ...initialLedger(), entries, owners, failures, retryRequested };
  }

  /** DestinationTables.claims */
  claims(destinationId: string): Holders {
    return this.rowsOf(destinationId).claims;
  }

  /** Every table of every destination, for the state file's saves. */
  *tables(): Generator<Saved> {
    for (const d of this.each.values()) yield* d.tables;
  }

  /** Reads every destination the file holds into `views`, in the order they were first configured. */
  load(views: Map<string, DestinationView>): void {
    views.clear();
    // Every destination's, not only those the file holds: a save that failed (rolled back) left the
    // row and pending ids it meant to write to a destination the file does not hold, and the next
    // save would take them for written and leave the destination out.
    for (const d of this.each.values()) {
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
        keepsValues: row.config !== null && keepsWrittenValues(row.config),
        taken: row.taken,
      };
      const d = this.rowsOf(id);
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
      views.set(id, v);
    }
  }

  /** Writes what changed of `views` (inside the caller's transaction). */
  write(views: Map<string, DestinationView>): void {
    let seq = 0;
    for (const [id, v] of views) {
      const d = this.rowsOf(id);
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
  }
}
