// The operator's job end to end with the built CLI into MySQL: the stories of every destination type
// (support/destinationStories.ts) in one database, its tables read row by row in SQL; then MySQL's own.
import { describe, expect, it } from 'vitest';
import { byEmail, crmHoldings, sortGroups, type GroupRow } from './support/customerRounds.js';
import { destinationStories, type DestinationKind } from './support/destinationStories.js';
import { dropMysqlDatabase, freshMysqlDatabase, mysqlAnswers, onMysql } from './support/mysql.js';

const ENV = 'SYNCLINE_E2E_MYSQL';
let db: { name: string; url: string } | undefined;
const inDatabase = <R = Record<string, unknown>>(sql: string): Promise<R[]> => onMysql<R>(sql, [], db?.name);

/** A JSON column's text, as the value it holds. */
const json = (cell: unknown): unknown => JSON.parse(String(cell));

/** MySQL destinations: a table each in a database of the world's own, read with SQL. */
const mysqlDestinations: DestinationKind = {
  type: 'mysql',
  options: (id) => ({ connection: { env: ENV }, table: id }),
  env: () => ({ [ENV]: db?.url ?? '' }),
  setUp: async () => {
    db = await freshMysqlDatabase();
    // The CRM's own tables are typed.
    for (const statement of [
      `CREATE TABLE crm (email VARCHAR(255) COLLATE utf8mb4_bin PRIMARY KEY, first_name VARCHAR(100), ltv INT)`,
      `CREATE TABLE crm_groups (record_key VARCHAR(255) COLLATE utf8mb4_bin NOT NULL,
         group_name VARCHAR(100) COLLATE utf8mb4_bin NOT NULL, PRIMARY KEY (record_key, group_name))`,
      ...crmHoldings('crm', 'crm_groups'),
    ])
      await inDatabase(statement);
  },
  tearDown: async () => {
    if (db !== undefined) await dropMysqlDatabase(db.name);
  },
  tableNames: async () =>
    (
      await onMysql<{ t: string }>(
        'SELECT TABLE_NAME AS t FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? ORDER BY TABLE_NAME',
        [db?.name],
      )
    ).map((n) => n.t),
  ownTables: ['crm', 'crm_groups'],
  tables: async (table) => {
    // CAST(… AS CHAR): a JSON column's own text on both servers (mysql2 may parse JSON columns itself).
    const typed = table === 'crm';
    const rows = await inDatabase(
      typed
        ? 'SELECT email, first_name, ltv FROM crm'
        : `SELECT email, CAST(first_name AS CHAR) AS first_name, CAST(ltv AS CHAR) AS ltv FROM \`${table}\``,
    );
    const groups = await inDatabase<GroupRow>(`SELECT record_key, group_name FROM \`${table}_groups\``);
    return {
      rows: rows
        .map((r) => ({
          email: r['email'] as string,
          first_name: typed ? r['first_name'] : json(r['first_name']),
          ltv: typed ? r['ltv'] : json(r['ltv']),
        }))
        .sort(byEmail),
      groups: sortGroups(groups.map((g) => ({ record_key: g.record_key, group_name: g.group_name }))),
    };
  },
};

describe.skipIf(!mysqlAnswers)('syncline end to end into MySQL: three modes, two rounds', () => {
  const world = destinationStories(mysqlDestinations);

  it('given a table that lacks a mapped column, when validated, then the problem names table and column', async () => {
    await inDatabase('ALTER TABLE crm DROP COLUMN ltv');
    const r = await world.cli('validate');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('destination crm: table crm has no column ltv');
  });

  it('when `syncline describe mysql` runs, then it lists the three modes, the default and the options', async () => {
    const d = (await world.ok('describe', 'mysql')) as Record<string, unknown>;
    expect(d).toMatchObject({ type: 'mysql', defaultMode: 'sync' });
    expect((d['modes'] as { name: string; default: boolean }[]).map((m) => [m.name, m.default])).toEqual([
      ['sync', true],
      ['additive', false],
      ['enrich', false],
    ]);
    expect((d['options'] as { name: string }[]).map((o) => o.name)).toEqual([
      'connection',
      'table',
      'groupsTable',
    ]);
    const text = await world.cli('describe', 'mysql');
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/mysql/);
    expect(text.stdout).toMatch(/JSON/);
    expect(text.stdout).toMatch(/connection/);
  });
});
