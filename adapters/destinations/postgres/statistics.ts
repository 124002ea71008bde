// Keeping the planner's picture of the tables current after a run that changed many rows, as one
// does after a bulk load: until autovacuum analyzes them, PostgreSQL plans as if they were tiny.
import type pg from 'pg';
import type { CommandOutcome } from '../../../domain/command.js';
import { qualified, type Names } from './tables.js';

/**
 * Rows written since the last ANALYZE below which a run leaves the statistics to autovacuum: its own
 * threshold is 50 rows plus a tenth of the table, and it comes within a minute. What cannot wait is
 * a table that was empty or small when last analyzed (or never was, as one syncline just created and
 * filled): the planner then takes the group rows' `record_key` for unselective and answers a sync of
 * 1,000 changed profiles with sequential scans of both tables, 7–12 ms per statement at 100,000 rows,
 * where the index makes each a fraction of a millisecond.
 */
const AT_LEAST = 1_000;

export type Statistics = {
  /** counts the rows an apply call changed */
  readonly applied: (outcomes: readonly CommandOutcome[]) => void;
  /** analyzes the tables when the rows written since the last time are many for their size */
  readonly refresh: (pool: pg.Pool) => Promise<void>;
};

export const statisticsOf = (names: Names): Statistics => {
  let written = 0;
  let refreshing: Promise<void> = Promise.resolve();
  const refresh = async (pool: pg.Pool): Promise<void> => {
    if (written < AT_LEAST) return;
    const t = qualified(names, names.table);
    const g = qualified(names, names.groupsTable);
    // reltuples is -1 for a table never analyzed: then any thousand rows are many.
    const { rows } = await pool.query<{ n: number }>(
      `SELECT greatest(reltuples, 0)::float8 AS n FROM pg_class WHERE oid = to_regclass($1)`,
      [t],
    );
    const known = rows[0]?.n ?? 0;
    if (written < known / 10) return;
    written = 0;
    // An ANALYZE of a table the user cannot analyze is a warning, not an error, and changes nothing.
    await pool.query(`ANALYZE ${t}, ${g}`);
  };
  return {
    applied: (outcomes) => {
      for (const o of outcomes) if (o.status === 'ok') written += 1;
    },
    // One at a time, and never a rejection: statistics are an optimisation, a failure loses nothing.
    refresh: (pool) => (refreshing = refreshing.then(() => refresh(pool)).catch(() => undefined)),
  };
};
