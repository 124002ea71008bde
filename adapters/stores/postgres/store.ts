// The PostgreSQL EventStore: syncline's tables in a schema of an existing server, shared by any number
// of processes on any number of machines, with the same contract as the embedded SQLite store.
import * as E from 'fp-ts/lib/Either.js';
import * as TE from 'fp-ts/lib/TaskEither.js';
import pg from 'pg';
import type { EventStore, StoreError } from '../../../engine/ports.js';
import { failureOf, pgOver, reading, unreachable, type Pg } from './connection.js';
import { listenerOn } from './listening.js';
import { postgresReads } from './reading.js';
import { prepareSchema } from './schema.js';
import type { PostgresLocation } from './url.js';
import { postgresWrites } from './writing.js';

export type PostgresStoreOptions = {
  /** Whether the tables may be made (apply, ingest); commands that only read pass false. */
  readonly create?: boolean;
  /** The longest a subscription waits before looking, if no notification woke it (default 1 s). */
  readonly pollIntervalMs?: number;
  /** How long to wait for a connection before saying the server cannot be reached (default 10 s). */
  readonly connectTimeoutMs?: number;
};

/** Connections per process: a run reads and appends one at a time, a follower listens on one more. */
const POOL_SIZE = 4;

const checkpoints = (p: Pg): Pick<EventStore, 'getCheckpoint' | 'setCheckpoint'> => {
  const valueOf = async (name: string): Promise<number | null> => {
    const { rows } = await p.pool.query<{ value: string }>(
      `SELECT value FROM ${p.s}.checkpoints WHERE name = $1`,
      [name],
    );
    return rows[0] === undefined ? null : Number(rows[0].value);
  };
  return {
    getCheckpoint: reading(p, valueOf),
    // Each branch is one statement, so the compare and the set are atomic without a transaction.
    setCheckpoint: (name, expected, value) => async () => {
      try {
        const { rowCount } =
          expected === null
            ? await p.pool.query(
                `INSERT INTO ${p.s}.checkpoints (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING`,
                [name, value],
              )
            : await p.pool.query(`UPDATE ${p.s}.checkpoints SET value = $1 WHERE name = $2 AND value = $3`, [
                value,
                name,
                expected,
              ]);
        return rowCount === 1
          ? E.right(undefined)
          : E.left<StoreError>({ _tag: 'CheckpointConflict', name, expected, actual: await valueOf(name) });
      } catch (error) {
        return E.left(failureOf(p, error));
      }
    },
  };
};

/**
 * PostgreSQL checks its own pages (checksums, WAL); what can go wrong above them is rows written past
 * syncline: a stream whose revisions skip, positions that skip. Reads every event's stream once.
 */
const integrity =
  (p: Pg): EventStore['checkIntegrity'] =>
  () =>
  async () => {
    try {
      const { rows } = await p.pool.query<{ finding: string }>(
        `(SELECT format('stream %s holds revisions %s to %s but %s events', stream, min(revision), max(revision), count(*))
            AS finding
            FROM ${p.s}.events GROUP BY stream HAVING max(revision) + 1 <> count(*) OR min(revision) <> 0 LIMIT 5)
         UNION ALL
         (SELECT format('positions run to %s but %s events hold them', max(position), count(*))
            FROM ${p.s}.events HAVING max(position) <> count(*))`,
      );
      return E.right({
        check: 'revisions of every stream and the positions of every event (PostgreSQL checks its own pages)',
        findings: rows.map((r) => r.finding),
      });
    } catch (error) {
      return E.left(failureOf(p, error));
    }
  };

/**
 * Connects to the server `location` names and prepares syncline's schema there (see schema.ts). A
 * server that does not answer is StoreUnavailable: `cannot reach the store at postgres://…: <reason>`.
 */
export const openPostgresStore = async (
  location: PostgresLocation,
  options: PostgresStoreOptions = {},
): Promise<E.Either<{ readonly _tag: 'StoreUnavailable'; readonly message: string }, EventStore>> => {
  const config: pg.PoolConfig = {
    connectionString: location.connectionString,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
    max: POOL_SIZE,
    application_name: 'syncline',
  };
  const pool = new pg.Pool(config);
  // An idle connection the server ends (a restart, pg_terminate_backend) is dropped by the pool and
  // the next query opens another; without a listener the pool's 'error' would end the process.
  pool.on('error', () => undefined);
  let closed = false;
  const p = pgOver(pool, location, () => closed);
  let client: pg.PoolClient | undefined;
  try {
    client = await pool.connect();
  } catch (error) {
    await pool.end().catch(() => undefined);
    return E.left({ _tag: 'StoreUnavailable', message: unreachable(location, error) });
  }
  // As in writing.ts: a connection ended while checked out must not end the process.
  const lost = (): void => undefined;
  client.on('error', lost);
  try {
    const prepared = await prepareSchema(client, location, options.create ?? true);
    client.off('error', lost);
    client.release();
    if (E.isLeft(prepared)) {
      await pool.end();
      return E.left({ _tag: 'StoreUnavailable', message: prepared.left });
    }
  } catch (error) {
    client.off('error', lost);
    client.release(error instanceof Error ? error : undefined);
    await pool.end().catch(() => undefined);
    const failure = failureOf(p, error);
    return E.left({
      _tag: 'StoreUnavailable',
      message: 'message' in failure ? failure.message : failure._tag,
    });
  }
  const listener = listenerOn(config, p.channel);
  let closing: Promise<void> | null = null;
  return E.right({
    ...postgresWrites(p),
    ...postgresReads(p, listener, options.pollIntervalMs ?? 1000),
    ...checkpoints(p),
    // A commit is on disk when PostgreSQL acknowledges it (unless the server was told otherwise).
    flush: () => TE.right(undefined),
    checkIntegrity: integrity(p),
    close: () =>
      (closing ??= (async () => {
        closed = true;
        await listener.close();
        await pool.end().catch(() => undefined);
      })()),
  });
};
