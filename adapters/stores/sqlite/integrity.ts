// The SQLite store's check of its own file (EventStore.checkIntegrity): SQLite's integrity check,
// its findings naming the table or index each damaged tree belongs to.
import Database from 'better-sqlite3';
import * as E from 'fp-ts/lib/Either.js';
import type { TaskEither } from 'fp-ts/lib/TaskEither.js';
import type { Integrity, StoreError } from '../../../engine/ports.js';

/**
 * integrity_check rather than quick_check: besides every page, it checks that each index holds
 * exactly its table's rows. The store answers through indexes (a stream's revision, an event id
 * already stored, a profile's tagged decisions), and a damaged index gives wrong answers without any
 * read failing. It costs about four times quick_check, a third of a second on a store of 100,000
 * profiles after a first sync (138 MB), against two to three seconds for folding it.
 */
const CHECK = 'PRAGMA integrity_check';

/** Findings kept: SQLite stops at this many, so a ruined file does not list every page it lost. */
const FINDINGS = 10;

/** A damaged file's schema may not read: the findings then name trees by number alone. */
const treeNames = (db: Database.Database): Map<number, string> => {
  try {
    const rows = db.prepare('SELECT rootpage, name FROM sqlite_schema WHERE rootpage > 0').raw().all();
    return new Map(rows as [number, string][]);
  } catch {
    return new Map();
  }
};

/** SQLite says `Tree 8 page 1097 cell 1: …`; the tree's name says what the damage touches. */
const named = (finding: string, names: ReadonlyMap<number, string>): string =>
  finding.replace(/^Tree (\d+) /, (whole, root: string) => {
    const name = names.get(Number(root));
    return name === undefined ? whole : `Tree ${root} (${name}) `;
  });

type SqliteError = InstanceType<typeof Database.SqliteError>;

const damaged = (error: unknown): error is SqliteError =>
  error instanceof Database.SqliteError && /^SQLITE_(CORRUPT|NOTADB)/.test(error.code);

const described = (error: SqliteError): string => `${error.message} (${error.code})`;

/** The check's lines for the whole file, or for one table and its indexes; throws as SQLite does. */
const checkLines = (db: Database.Database, table?: string): string[] => {
  const argument = table === undefined ? String(FINDINGS) : `"${table.replace(/"/g, '""')}"`;
  const rows = db.pragma(`integrity_check(${argument})`) as { integrity_check: string }[];
  // One row per finding, a finding sometimes several lines; a sound file gives the one row "ok".
  const lines = rows.flatMap((r) => r.integrity_check.split('\n'));
  return lines.length === 1 && lines[0] === 'ok' ? [] : lines;
};

/**
 * After checking the pages, the check reads every row (to compare indexes with their tables), and a
 * page too damaged to read stops it with SQLITE_CORRUPT, saying nowhere where. Checked one table at
 * a time, the tables that stop it are named.
 */
const tableByTable = (db: Database.Database, stopped: SqliteError): string[] => {
  let tables: string[];
  try {
    tables = db
      .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND rootpage > 0")
      .pluck()
      .all() as string[];
  } catch (error) {
    if (!damaged(error)) throw error;
    return [described(stopped)];
  }
  const findings: string[] = [];
  for (const table of tables) {
    try {
      findings.push(...checkLines(db, table));
    } catch (error) {
      if (!damaged(error)) throw error;
      findings.push(`table ${table}: ${described(error)}`);
    }
  }
  return findings.length > 0 ? findings : [described(stopped)];
};

/** `guarded` runs the work as the store runs its own (closed store, environment failures as values). */
export const sqliteIntegrity =
  (
    db: Database.Database,
    guarded: <A>(work: () => E.Either<StoreError, A>) => TaskEither<StoreError, A>,
  ): (() => TaskEither<StoreError, Integrity>) =>
  () =>
    guarded(() => {
      let lines: string[];
      try {
        lines = checkLines(db);
      } catch (error) {
        // Damage is what the check is for; other failures (a lock, the disk) are the environment's.
        if (!damaged(error)) throw error;
        lines = tableByTable(db, error);
      }
      const names = treeNames(db);
      const findings = lines
        .filter((line) => line !== '' && !line.startsWith('*** in database '))
        .slice(0, FINDINGS)
        .map((line) => named(line, names));
      return E.right({ check: CHECK, findings });
    });
