// Every profile of the world and of a destination's ledger, in order, copied into a temporary table
// as a save commits and read back a page at a time: a run over ten million holds a page of ids.
import type { Database, Statement } from 'better-sqlite3';
import type { OrderedKeys } from '../../engine/state/engineState.js';

/** Ids read at a time: the caller's pages are cut from these. */
const READ = 2_000;

/*
 * Why a copy, and why then. The run that reads these saves the state between its batches (keep),
 * and folds as it goes: read from the tables themselves, the ids would change under it. Copied in the
 * transaction of a save, after its rows are written, they are the state this process holds, and a
 * temporary table costs the state file nothing (SQLite keeps it in a file of its own, not in
 * memory). A reader on a snapshot of its own would do as well, but would keep SQLite from
 * checkpointing the state file's log for the whole run, which a first sync of millions fills with
 * gigabytes.
 */
export class Everyone {
  private statements:
    | {
        readonly empty: Statement<[]>;
        readonly fill: Statement<[string]>;
        readonly first: Statement<[number], string>;
        readonly after: Statement<[string, number], string>;
        readonly has: Statement<[string], number>;
      }
    | undefined;

  constructor(private readonly db: Database) {}

  /**
   * Copies the ids, inside the caller's write transaction; the keys are read once it has committed.
   * SQLite orders text by its UTF-8 bytes: code-point order, which is a run's (see candidates).
   */
  fill(destinationId: string): () => OrderedKeys {
    // Made in a transaction that commits, so that a rollback (a save that found nothing to write)
    // never takes the table away; prepared once it exists.
    this.db.exec(`CREATE TEMP TABLE IF NOT EXISTS everyone (key TEXT PRIMARY KEY) WITHOUT ROWID`);
    const st = (this.statements ??= {
      empty: this.db.prepare(`DELETE FROM temp.everyone`),
      fill: this.db.prepare(
        `INSERT INTO temp.everyone (key)
         SELECT key FROM profiles WHERE scope = '' UNION SELECT key FROM entries WHERE scope = ?`,
      ),
      first: this.db.prepare(`SELECT key FROM temp.everyone ORDER BY key LIMIT ?`).pluck() as Statement<
        [number],
        string
      >,
      after: this.db
        .prepare(`SELECT key FROM temp.everyone WHERE key > ? ORDER BY key LIMIT ?`)
        .pluck() as Statement<[string, number], string>,
      has: this.db.prepare(`SELECT 1 FROM temp.everyone WHERE key = ?`).pluck() as Statement<
        [string],
        number
      >,
    });
    st.empty.run();
    const count = st.fill.run(destinationId).changes;
    return () => this.read(count);
  }

  private read(count: number): OrderedKeys {
    const st = this.statements;
    if (st === undefined) throw new Error('the ids of everyone are read before they were copied');
    let last: string | undefined;
    let page: string[] = [];
    let at = 0;
    let ended = false;
    const next = (n: number): string[] => {
      const out: string[] = [];
      while (out.length < n && !ended) {
        if (at === page.length) {
          page = last === undefined ? st.first.all(READ) : st.after.all(last, READ);
          at = 0;
          if (page.length === 0) {
            ended = true;
            break;
          }
          last = page[page.length - 1];
        }
        const take = Math.min(n - out.length, page.length - at);
        for (let i = 0; i < take; i++) out.push(page[at + i] as string);
        at += take;
      }
      return out;
    };
    return {
      count,
      has: (key) => st.has.get(key) !== undefined,
      next,
      // Emptied by the next copy, or when the connection closes: deleting millions of rows here
      // would cost the run's end what nothing needs.
      close: () => {
        ended = true;
        page = [];
      },
    };
  }
}
