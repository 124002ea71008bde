// The Destination contract (test/contract/destination.ts) against the mysql type, each test in a
// database of its own on the test server (MariaDB 10.11 here; MySQL 8 too), dropped after.
import { describe } from 'vitest';
import { mysqlDestinationType } from '../adapters/destinations/mysql/destination.js';
import { destinationContract } from './contract/destination.js';
import { dropMysqlDatabase, freshMysqlDatabase, mysqlAnswers } from './support/mysql.js';

describe.skipIf(!mysqlAnswers)('the mysql destination', () => {
  destinationContract('mysql', async (config) => {
    const { name, url } = await freshMysqlDatabase();
    const opened = await mysqlDestinationType.open(
      { ...config, type: 'mysql', options: { connection: { env: 'SYNCLINE_T_MYSQL' }, table: 'contacts' } },
      { SYNCLINE_T_MYSQL: url },
    )();
    if (opened._tag === 'Left') throw new Error(opened.left.message);
    const destination = opened.right;
    return {
      destination,
      cleanup: async () => {
        await destination.close();
        await dropMysqlDatabase(name);
      },
    };
  });
});
