// One apply call: one transaction, multi-row statements per segment; when the server refuses a row
// (a constraint, a trigger, a value), the call is redone one command per savepoint so only that one fails.
import type { Pool, PoolConnection } from 'mysql2/promise';
import * as E from 'fp-ts/lib/Either.js';
import type { Command, CommandOutcome } from '../../../domain/command.js';
import type { DestinationError } from '../../../engine/ports.js';
import { isCallFailure, isDriverError, refusedRow, unavailable, type Place } from './errors.js';
import { plan, segments, type Planned } from './segments.js';
import type { TableNames, TableState } from './tables.js';
import { writeSegment } from './write.js';

const ok = (c: Command): CommandOutcome => ({ commandId: c.commandId, status: 'ok' });

/**
 * Applies `commands` on a connection of `pool` in one transaction. `tables` checks (and creates)
 * the tables first: DDL commits by itself in MySQL, so it runs before the transaction begins.
 */
export const applyOn = async (
  pool: Pool,
  names: TableNames,
  place: Place,
  tables: () => Promise<E.Either<DestinationError, TableState>>,
  commands: readonly Command[],
): Promise<E.Either<DestinationError, CommandOutcome[]>> => {
  if (commands.length === 0) return E.right([]);
  let db: PoolConnection | null = null;
  let broken = false;
  try {
    const checked = await tables();
    if (E.isLeft(checked)) return checked;
    const state = checked.right;
    const outcomes = commands.map(ok);
    const fail = (at: number, message: string): void => {
      const c = commands[at] as Command;
      outcomes[at] = { commandId: c.commandId, status: 'error', retryable: false, message };
    };
    const planned: Planned[] = [];
    commands.forEach((c, at) => {
      const p = plan(c, at, names, state);
      if ('refused' in p) fail(at, p.refused);
      else planned.push(p);
    });
    db = await pool.getConnection();
    const conn = db;
    const attempt = async (): Promise<Map<number, string>> => {
      const refused = new Map<number, string>();
      for (const segment of segments(planned))
        for (const [at, message] of await writeSegment(conn, names, state, segment)) refused.set(at, message);
      return refused;
    };
    await conn.query('START TRANSACTION');
    let refused: Map<number, string>;
    try {
      refused = await attempt();
    } catch (e) {
      if (!isDriverError(e) || isCallFailure(e)) throw e;
      await conn.query('ROLLBACK');
      await conn.query('START TRANSACTION');
      refused = new Map();
      // One savepoint per command: a refused row is undone alone, every other command lands.
      for (const c of planned) {
        await conn.query('SAVEPOINT syncline_command');
        try {
          for (const [at, message] of await writeSegment(conn, names, state, [c])) refused.set(at, message);
        } catch (failure) {
          if (!isDriverError(failure) || isCallFailure(failure)) throw failure;
          await conn.query('ROLLBACK TO SAVEPOINT syncline_command');
          refused.set(c.at, refusedRow(failure, place, state.columns));
        }
      }
    }
    await conn.query('COMMIT');
    for (const [at, message] of refused) fail(at, message);
    return E.right(outcomes);
  } catch (e) {
    if (!isDriverError(e)) throw e;
    broken = e.fatal === true;
    if (db !== null && !broken) await db.query('ROLLBACK').catch(() => (broken = true));
    return E.left(unavailable(e, place));
  } finally {
    if (db !== null) {
      if (broken) db.destroy();
      else db.release();
    }
  }
};
