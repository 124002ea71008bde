// The mysql destination type beyond the contract: values keep their JSON type through each column type
// they can go to, a value a column cannot hold or a row the server refuses (a trigger, a constraint)
// fails only its own command, keys are exact strings, tables are never altered, and no message holds the password.
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import type { Command } from '../domain/command.js';
import type { DestinationConfig } from '../domain/destination.js';
import type { Value } from '../domain/values.js';
import type { Destination } from '../engine/ports.js';
import { mysqlDestinationType } from '../adapters/destinations/mysql/destination.js';
import { resolveDestination } from '../adapters/destinations/registry.js';
import { contractConfig, create, update } from './contract/destinationHelpers.js';
import { applied, fieldsOf, openedDestinations } from './support/openedDestinations.js';
import { dropMysqlDatabase, freshMysqlDatabase, mysqlAnswers, onMysql } from './support/mysql.js';

const ENV = 'SYNCLINE_T_MYSQL';
const config = (options: Record<string, unknown> = {}): DestinationConfig => ({
  ...contractConfig,
  type: 'mysql',
  options: { connection: { env: ENV }, table: 'contacts', ...options },
});

const destinations = openedDestinations(mysqlDestinationType);
const made: string[] = [];
let db: { name: string; url: string };
const open = (c: DestinationConfig = config(), env: NodeJS.ProcessEnv = { [ENV]: db.url }) =>
  destinations.open(c, env);
const sql = (text: string, values: unknown[] = []) => onMysql(text, values, db.name);

describe.skipIf(!mysqlAnswers)('the mysql destination type', () => {
  beforeEach(async () => {
    db = await freshMysqlDatabase();
    made.push(db.name);
  });
  afterAll(async () => {
    await destinations.closeAll();
    for (const name of made) await dropMysqlDatabase(name);
  });

  /** A table of the user's with `email` the key and `note` of `type`. */
  const typedTable = async (type: string): Promise<Destination> => {
    await sql(`CREATE TABLE contacts (email VARCHAR(255) COLLATE utf8mb4_bin PRIMARY KEY,
      first_name TEXT, ltv DECIMAL(12,2), code VARCHAR(20), note ${type})`);
    return open();
  };

  describe('type fidelity: what apply writes, lookup reads back with its JSON type', () => {
    const fits: [string, Value][] = [
      ['JSON', '100'],
      ['JSON', 100],
      ['JSON', [1, '1', true, null]],
      ['JSON', 'Zoë 🚀'],
      ['INT', -42],
      ['BIGINT', Number.MAX_SAFE_INTEGER],
      ['DECIMAL(10,2)', 1200.5],
      ['DECIMAL(10,2)', -0.25],
      ['DOUBLE', 0.1 + 0.2],
      ['DOUBLE', 1e21],
      ['FLOAT', 1.5],
      ['TINYINT(1)', true],
      ['BOOLEAN', false],
      ['BIT(1)', true],
      ['VARCHAR(50)', 'Ada Lovelace'],
      ['TEXT', 'true'],
      ['TEXT', 'Zoë Ångström, 张伟 🚀'],
      ['VARBINARY(50)', 'bytes ✓'],
      ["ENUM('gold','silver')", 'gold'],
      ['INT', null],
    ];
    it.each(fits)(
      'given a %s column, when %j is written, then lookup reads back the same value and type',
      async (type, value) => {
        const d = await typedTable(type);
        expect(await applied(d, [create('a@example.com', { set: { note: value } })])).toMatchObject([
          { status: 'ok' },
        ]);
        expect((await fieldsOf(d, 'a@example.com'))?.note).toStrictEqual(value);
      },
    );

    it('given a table syncline created, when every kind of value is written, then each reads back as written', async () => {
      const d = await open();
      const values: Value[] = ['100', 100, -12.75, true, false, null, [], ['a', 1], '', 'Zoë 🚀'];
      for (const [i, v] of values.entries())
        await applied(d, [create(`k${i}@example.com`, { set: { note: v, ltv: v } })]);
      for (const [i, v] of values.entries())
        expect(await fieldsOf(d, `k${i}@example.com`)).toMatchObject({ note: v, ltv: v });
      const columns = await sql(
        `SELECT COLUMN_NAME AS c, DATA_TYPE AS t, COLLATION_NAME AS coll FROM information_schema.COLUMNS
          WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'contacts' ORDER BY ORDINAL_POSITION`,
      );
      expect(columns[0]).toMatchObject({ c: 'email', t: 'varchar' });
      expect(String(columns[0]?.['coll'])).toMatch(/^utf8mb4_(nopad_bin|0900_bin)$/);
    });

    it("given another table's JSON column of the same name, when a text column is written, then it holds the plain string", async () => {
      await sql('CREATE TABLE other (id INT PRIMARY KEY, note JSON)');
      const d = await typedTable('TEXT');
      await applied(d, [create('a@example.com', { set: { note: 'plain' } })]);
      expect(await sql('SELECT note FROM contacts')).toEqual([{ note: 'plain' }]);
      expect((await fieldsOf(d, 'a@example.com'))?.note).toBe('plain');
    });

    const refusals: [string, Value, RegExp][] = [
      ['INT', 12.5, /^field note: column type int(\(11\))? holds whole numbers, not 12\.5$/],
      ['INT', '12', /^field note: column type int(\(11\))? holds whole numbers, not the string "12"$/],
      [
        'DECIMAL(10,2)',
        1.255,
        /^field note: column type decimal\(10,2\) holds at most 2 decimals, not 1\.255$/,
      ],
      ['TINYINT(1)', 1, /^field note: column type tinyint\(1\) holds true and false, not 1$/],
      ['VARCHAR(50)', 100, /^field note: column type varchar\(50\) holds strings, not 100$/],
      ['TEXT', ['a'], /^field note: column type text holds strings, not a list$/],
      ['VARCHAR(3)', 'too long', /^field note \(column type varchar\(3\)\): Data too long for column 'note'/],
      ['TINYINT', 1000, /^field note \(column type tinyint(\(4\))?\): Out of range value for column 'note'/],
      [
        "ENUM('gold','silver')",
        'bronze',
        /^field note \(column type enum\('gold','silver'\)\): Data truncated for column 'note'/,
      ],
    ];
    it.each(refusals)(
      'given a %s column, when %j is written, then only that command fails, naming the field and the column type',
      async (type, value, message) => {
        const d = await typedTable(type);
        const outcomes = await applied(d, [
          create('a@example.com', { set: { first_name: 'A' } }),
          create('b@example.com', { set: { note: value } }),
          create('c@example.com', { set: { first_name: 'C' } }),
        ]);
        expect(outcomes.map((o) => o.status)).toEqual(['ok', 'error', 'ok']);
        expect(outcomes[1]).toMatchObject({
          retryable: false,
          message: expect.stringMatching(message) as unknown,
        });
        const rows = await sql('SELECT email FROM contacts ORDER BY email');
        expect(rows.map((r) => r['email'])).toEqual(['a@example.com', 'c@example.com']);
      },
    );
  });

  describe('a row the server refuses fails only its own command', () => {
    it('given a trigger that refuses some rows, when a batch is applied, then only those fail with its message and the rest land', async () => {
      const d = await open();
      await applied(d, [create('seed@example.com')]);
      await sql(`CREATE TRIGGER no_blocked BEFORE INSERT ON contacts FOR EACH ROW
        IF NEW.email LIKE 'blocked%' THEN SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'blocked addresses are refused'; END IF`);
      await sql(`CREATE TRIGGER no_blocked_update BEFORE UPDATE ON contacts FOR EACH ROW
        IF JSON_EXTRACT(NEW.first_name, '$') = 'Refused' THEN SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'that name is refused'; END IF`);
      const commands = [
        create('a@example.com', { set: { first_name: 'A' }, add: ['VIP'] }),
        create('blocked1@example.com', { add: ['VIP'] }),
        create('b@example.com', { set: { first_name: 'B' } }),
        update('seed@example.com', { set: { first_name: 'Refused' }, add: ['VIP'] }),
        create('blocked2@example.com'),
        create('c@example.com', { add: ['Newsletter'] }),
      ];
      const outcomes = await applied(d, commands);
      expect(outcomes.map((o) => o.status)).toEqual(['ok', 'error', 'ok', 'error', 'error', 'ok']);
      expect(outcomes[1]).toMatchObject({ retryable: false, message: 'blocked addresses are refused' });
      expect(outcomes[3]).toMatchObject({ retryable: false, message: 'that name is refused' });
      expect(await sql('SELECT email FROM contacts ORDER BY email')).toEqual(
        ['a@example.com', 'b@example.com', 'c@example.com', 'seed@example.com'].map((email) => ({ email })),
      );
      expect(await sql('SELECT record_key, group_name FROM contacts_groups ORDER BY record_key')).toEqual([
        { record_key: 'a@example.com', group_name: 'VIP' },
        { record_key: 'c@example.com', group_name: 'Newsletter' },
      ]);
      // Once the trigger is gone, the refused commands land when applied again.
      await sql('DROP TRIGGER no_blocked');
      await sql('DROP TRIGGER no_blocked_update');
      const again = await applied(d, [commands[1], commands[3], commands[4]] as Command[]);
      expect(again.map((o) => o.status)).toEqual(['ok', 'ok', 'ok']);
      expect(await fieldsOf(d, 'seed@example.com')).toMatchObject({ first_name: 'Refused' });
    });

    it('given a CHECK constraint, when a row breaks it, then only that command fails with the server message', async () => {
      await sql(`CREATE TABLE contacts (email VARCHAR(255) COLLATE utf8mb4_bin PRIMARY KEY, first_name TEXT,
        ltv INT CHECK (ltv >= 0), code TEXT, note JSON)`);
      const d = await open();
      const outcomes = await applied(d, [
        create('a@example.com', { set: { ltv: 1 } }),
        create('b@example.com', { set: { ltv: -1 } }),
      ]);
      expect(outcomes.map((o) => o.status)).toEqual(['ok', 'error']);
      expect(outcomes[1]).toMatchObject({
        message: expect.stringMatching(/CONSTRAINT .* failed/i) as unknown,
      });
    });
  });

  describe('keys and tables', () => {
    it('given keys that differ only in case or a trailing space, when created, then they are different records', async () => {
      const d = await open();
      const keys = ['ada@example.com', 'Ada@example.com', 'ada@example.com '];
      await applied(
        d,
        keys.map((k, i) => create(k, { set: { ltv: i } })),
      );
      for (const [i, k] of keys.entries()) expect((await fieldsOf(d, k))?.ltv).toBe(i);
    });

    it('given an existing table without a mapped column, when opened, then it fails naming table and column, and nothing is altered', async () => {
      await sql(
        'CREATE TABLE contacts (email VARCHAR(255) PRIMARY KEY, first_name TEXT, ltv INT, code TEXT)',
      );
      const r = await mysqlDestinationType.open(config(), { [ENV]: db.url })();
      expect(r).toMatchObject({
        _tag: 'Left',
        left: { message: 'destination contract: table contacts has no column note' },
      });
      const columns = await sql(
        `SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE()`,
      );
      expect(columns).toHaveLength(4);
    });

    it('given no tables, when counted and looked up, then nothing is created', async () => {
      const d = await open();
      expect(await d.count?.()()).toEqual({ _tag: 'Right', right: null });
      expect(await d.lookup(['a@example.com'])()).toEqual({ _tag: 'Right', right: [] });
      expect(
        await sql('SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()'),
      ).toEqual([]);
    });
  });

  describe('secrets and failures', () => {
    it('given a literal URL with a password, when checked, then it is refused so that it never enters the store', () => {
      const r = resolveDestination(config({ connection: 'mysql://root:s3cret-pw@127.0.0.1:3306/x' }));
      expect(r._tag).toBe('Left');
      expect(JSON.stringify(r)).not.toContain('s3cret-pw');
      expect(JSON.stringify(r)).toContain('must not hold a password');
    });

    it('given a server that refuses the password, when opened, then the message names the server and never the password', async () => {
      const url = new URL(db.url);
      url.username = 'syncline_nobody';
      url.password = 'pa55-word-xyz';
      const r = await mysqlDestinationType.open(config(), { [ENV]: url.toString() })();
      expect(r._tag).toBe('Left');
      expect(JSON.stringify(r)).not.toContain('pa55-word-xyz');
      expect(JSON.stringify(r)).toContain(`options.connection (from env ${ENV})`);
    });

    it('given a server that stopped answering, when applied, then the call fails as retryable', async () => {
      const d = await open();
      await applied(d, [create('a@example.com')]);
      // Every connection of this database is killed: the pool's idle one is lost.
      const ids = await onMysql<{ id: number }>(
        'SELECT ID AS id FROM information_schema.PROCESSLIST WHERE DB = ? AND ID <> CONNECTION_ID()',
        [db.name],
      );
      for (const { id } of ids) await onMysql(`KILL ${id}`).catch(() => undefined);
      const r = await d.apply([create('b@example.com')])();
      // The pool may notice the kill and connect again: then the apply lands.
      if (r._tag === 'Left')
        expect(r.left).toMatchObject({ _tag: 'DestinationUnavailable', retryable: true });
      else expect(r.right).toMatchObject([{ status: 'ok' }]);
    });
  });
});
