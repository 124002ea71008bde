// An apply call on PostgreSQL: one transaction, each segment in multi-row statements under a
// savepoint; a segment the database refuses (a constraint, a trigger, a type) is halved until the
// refused commands are found, so that only they fail, with the database's message, and the rest land.
import type pg from 'pg';
import * as E from 'fp-ts/lib/Either.js';
import type { Command, CommandOutcome } from '../../../domain/command.js';
import type { DestinationError } from '../../../engine/ports.js';
import { failureOf, fromDriver, refusalOf, refusedRow, transient, type Server } from './connection.js';
import { planOf, segmentsOf, type Planned } from './plan.js';
import { writeSegment } from './segment.js';
import type { Names, Queryable, TableState } from './tables.js';

/** The checked tables, created when missing (see destination.ts). */
export type TablesOn = (
  db: Queryable,
  create: boolean,
) => Promise<E.Either<DestinationError, TableState | null>>;

/**
 * Writes `segment` under a savepoint; when the database refuses it for what a row holds, undoes it
 * and tries each half, down to the single command it refuses. Adds each refusal to `failed`.
 */
const settle = async (
  db: pg.ClientBase,
  names: Names,
  state: TableState,
  segment: readonly Planned[],
  failed: Map<number, string>,
  server: Server,
): Promise<void> => {
  await db.query('SAVEPOINT syncline_segment');
  try {
    const refused = await writeSegment(db, names, state, segment);
    await db.query('RELEASE SAVEPOINT syncline_segment');
    for (const [i, message] of refused) failed.set(i, message);
  } catch (error) {
    if (!refusedRow(error)) throw error;
    await db.query('ROLLBACK TO SAVEPOINT syncline_segment');
    await db.query('RELEASE SAVEPOINT syncline_segment');
    if (segment.length === 1) {
      failed.set((segment[0] as Planned).index, `the database refused it: ${refusalOf(error, server)}`);
      return;
    }
    const half = Math.ceil(segment.length / 2);
    await settle(db, names, state, segment.slice(0, half), failed, server);
    await settle(db, names, state, segment.slice(half), failed, server);
  }
};

/** The outcomes of `commands` written in one transaction, or why the call as a whole failed. */
export const applyCommands = async (
  pool: pg.Pool,
  names: Names,
  tables: TablesOn,
  server: Server,
  commands: readonly Command[],
): Promise<E.Either<DestinationError, CommandOutcome[]>> => {
  if (commands.length === 0) return E.right([]);
  let db: pg.PoolClient;
  try {
    db = await pool.connect();
  } catch (error) {
    return E.left(failureOf(error, server));
  }
  let broken: unknown;
  try {
    await db.query('BEGIN');
    const checked = await tables(db, true);
    if (E.isLeft(checked)) {
      await db.query('ROLLBACK');
      return checked;
    }
    const state = checked.right as TableState;
    const failed = new Map<number, string>();
    const planned: Planned[] = [];
    commands.forEach((c, i) => {
      const p = planOf(names, state, c, i);
      if (E.isLeft(p)) failed.set(i, p.left);
      else planned.push(p.right);
    });
    for (const segment of segmentsOf(planned)) await settle(db, names, state, segment, failed, server);
    await db.query('COMMIT');
    return E.right(
      commands.map((c, i): CommandOutcome => {
        const message = failed.get(i);
        return message === undefined
          ? { commandId: c.commandId, status: 'ok' }
          : { commandId: c.commandId, status: 'error', retryable: false, message };
      }),
    );
  } catch (error) {
    if (!fromDriver(error)) throw error;
    if (transient(error)) broken = error;
    await db.query('ROLLBACK').catch(() => undefined);
    return E.left(failureOf(error, server));
  } finally {
    // A connection that failed is dropped from the pool rather than handed to the next call.
    db.release(broken instanceof Error ? broken : undefined);
  }
};
