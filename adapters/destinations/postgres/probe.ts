// What `syncline validate` checks of a PostgreSQL destination without writing: that the server answers,
// and that the tables (where they exist) have the columns, key and privileges a sync needs.
import pg from 'pg';
import * as E from 'fp-ts/lib/Either.js';
import type { OpenError } from '../../../engine/ports.js';
import { failureOf, reasonOf, type Server } from './connection.js';
import { checkTables, privilegeProblems, type Names } from './tables.js';

/** One line per problem (none when all is well), each naming the server by its label, never a password. */
export const probe = async (
  opened: E.Either<OpenError, { readonly names: Names; readonly server: Server }>,
): Promise<readonly string[]> => {
  if (E.isLeft(opened)) return [opened.left.message];
  const { names, server } = opened.right;
  const client = new pg.Client({
    connectionString: server.connectionString,
    connectionTimeoutMillis: 10_000,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (error) {
    return [failureOf(error, server).message];
  }
  try {
    // Read only: validate never writes, whatever a bug here might try.
    await client.query('BEGIN READ ONLY');
    const checked = await checkTables(client, names, false);
    if (E.isLeft(checked)) return [checked.left.message];
    return await privilegeProblems(client, names, checked.right);
  } catch (error) {
    return [server.redact(`PostgreSQL at ${server.shown} could not be checked: ${reasonOf(error)}`)];
  } finally {
    await client.query('ROLLBACK').catch(() => undefined);
    await client.end().catch(() => undefined);
  }
};
