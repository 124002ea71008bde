// The postgres destination type beyond the contract: values keep their JSON type through each column
// type they can go to, a value a column cannot hold or a row the database refuses fails only its own
// command, tables are created (never altered), and an unreachable server is a retryable failure.
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import type { DestinationConfig } from '../domain/destination.js';
import type { Value } from '../domain/values.js';
import type { Destination } from '../engine/ports.js';
import { postgresDestinationType } from '../adapters/destinations/postgres/destination.js';
import { contractConfig, create, remove, update } from './contract/destinationHelpers.js';
import { applied, fieldsOf, openedDestinations } from './support/openedDestinations.js';
import { dropSchemas, freshSchema, onServer, POSTGRES_URL, postgresAnswers } from './support/postgres.js';

const config = (schema: string, options: Record<string, unknown> = {}): DestinationConfig => ({
  ...contractConfig,
  type: 'postgres',
  options: { connection: POSTGRES_URL, schema, table: 'contacts', ...options },
});

const destinations = openedDestinations(postgresDestinationType);
const open = (c: DestinationConfig, env: NodeJS.ProcessEnv = {}): Promise<Destination> =>
  destinations.open(c, env);

describe.skipIf(!postgresAnswers)('the postgres destination type', () => {
  let schema: string;
  beforeEach(() => {
    schema = freshSchema();
  });
  afterAll(async () => {
    await destinations.closeAll();
    await dropSchemas();
  });

  /** A table of the user's, one column per type, with `email` the key and `note` of `type`. */
  const typedTable = async (type: string): Promise<Destination> => {
    await onServer(`CREATE SCHEMA "${schema}"; CREATE TABLE "${schema}".contacts (email text PRIMARY KEY,
      first_name text, ltv numeric, code text, note ${type})`);
    return open(config(schema));
  };

  describe('type fidelity: what apply writes, lookup reads back with its JSON type', () => {
    const fits: [string, Value][] = [
      ['jsonb', 'x'],
      ['jsonb', 100],
      ['jsonb', '100'],
      ['jsonb', true],
      ['jsonb', [1, '1', true, null]],
      ['json', ['a', 2]],
      ['text', 'Zoë 🚀'],
      ['character varying(5)', 'short'],
      ['boolean', false],
      ['smallint', -32768],
      ['integer', 2147483647],
      ['bigint', Number.MAX_SAFE_INTEGER],
      ['numeric', 1200.5],
      ['numeric', 0.30000000000000004],
      ['numeric', 1e21],
      ['numeric(10,2)', 12.25],
      ['real', 0.1],
      ['double precision', -12.75],
      ['double precision', 5e-324],
      ['text[]', ['red', 'gr"een', 'a\\b', null]],
      ['integer[]', [1, 2, 3]],
      ['boolean[]', [true, false]],
      ['double precision[]', [1.5, -2]],
      ['text[]', []],
      ['date', '2024-02-29'],
      ['integer', null],
    ];
    it.each(fits)(
      'given a %s column, when %j is written, then lookup reads the same value back',
      async (type, value) => {
        const d = await typedTable(type);
        expect(await applied(d, [create('a@example.com', { set: { note: value } })])).toEqual([
          expect.objectContaining({ status: 'ok' }),
        ]);
        expect((await fieldsOf(d, 'a@example.com'))?.note).toEqual(value);
      },
    );

    const refused: [string, Value, string][] = [
      ['integer', 'abc', 'the string "abc"'],
      ['integer', 1.5, 'not a whole number'],
      ['smallint', 40000, 'out of its range'],
      ['bigint', 2 ** 60, 'out of its range'],
      ['text', 100, 'the number 100'],
      ['character varying(3)', 'toolong', 'longer than 3 characters'],
      ['boolean', 'true', 'the string "true"'],
      ['numeric(10,2)', 1.005, 'more than 2 decimal places'],
      ['numeric(4,2)', 123.5, 'more than 2 digits before the point'],
      ['real', 1 / 3, 'a real keeps only about 7 digits'],
      ['double precision', [1], 'the list [1]'],
      ['text[]', 'red', 'the string "red"'],
      ['integer[]', [1, 'x'], 'its element the string "x"'],
      ['date', 5, 'the number 5'],
    ];
    it.each(refused)(
      'given a %s column, when %j is written, then only that command fails, naming the field and the column type',
      async (type, value, why) => {
        const d = await typedTable(type);
        const outcomes = await applied(d, [
          create('a@example.com', { set: { first_name: 'Ada' } }),
          create('b@example.com', { set: { first_name: 'Bo', note: value } }),
          create('c@example.com', { set: { first_name: 'Cy' } }),
        ]);
        expect(outcomes.map((o) => o.status)).toEqual(['ok', 'error', 'ok']);
        const shown = (
          await onServer<{ t: string }>(
            `SELECT format_type(atttypid, atttypmod) AS t FROM pg_attribute WHERE attrelid = '"${schema}".contacts'::regclass AND attname = 'note'`,
          )
        )[0]?.t;
        expect(outcomes[1]).toMatchObject({ retryable: false });
        const message = (outcomes[1] as { message: string }).message;
        expect(message).toContain(`field note: a column of type ${shown} cannot hold`);
        expect(message).toContain(why);
        expect(await onServer(`SELECT email FROM "${schema}".contacts ORDER BY email`)).toEqual([
          { email: 'a@example.com' },
          { email: 'c@example.com' },
        ]);
      },
    );

    it('given a bigint someone else wrote past 2^53, when looked up, then its digits are kept as text', async () => {
      const d = await typedTable('bigint');
      await onServer(
        `INSERT INTO "${schema}".contacts (email, note) VALUES ('big@example.com', 9007199254740993)`,
      );
      expect((await fieldsOf(d, 'big@example.com'))?.note).toBe('9007199254740993');
    });
  });

  describe('tables', () => {
    it('given no schema, when a lookup and a count run, then nothing is created; the first apply creates text and jsonb columns', async () => {
      const d = await open(config(schema));
      expect(await d.lookup(['a@example.com'])()).toEqual({ _tag: 'Right', right: [] });
      expect(await d.count?.()()).toEqual({ _tag: 'Right', right: null });
      expect(await onServer(`SELECT 1 FROM pg_namespace WHERE nspname = $1`, [schema])).toEqual([]);
      await applied(d, [create('a@example.com')]);
      const columns = await onServer(
        `SELECT table_name, column_name, data_type FROM information_schema.columns WHERE table_schema = $1 ORDER BY table_name, ordinal_position`,
        [schema],
      );
      expect(columns).toEqual([
        { table_name: 'contacts', column_name: 'email', data_type: 'text' },
        ...['first_name', 'ltv', 'code', 'note'].map((c) => ({
          table_name: 'contacts',
          column_name: c,
          data_type: 'jsonb',
        })),
        { table_name: 'contacts_groups', column_name: 'record_key', data_type: 'text' },
        { table_name: 'contacts_groups', column_name: 'group_name', data_type: 'text' },
      ]);
    });

    it('given runs that wrote a thousand rows and a tenth of the table since the last ANALYZE, when tidied, then both tables are analyzed; after fewer, they are not', async () => {
      const analyzed = async () =>
        onServer<{ relname: string; n: number }>(
          `SELECT relname, reltuples::float8 AS n FROM pg_class WHERE relnamespace = to_regnamespace($1) AND relkind = 'r' ORDER BY relname`,
          [`"${schema}"`],
        );
      const d = await open(config(schema));
      const rows = (prefix: string, n: number) =>
        Array.from({ length: n }, (_, i) => create(`${prefix}${i}@example.com`, { add: ['VIP'] }));
      await applied(d, rows('o', 999));
      // Autovacuum would analyze them too, within a minute: kept out, so that what is seen is syncline's.
      await onServer(
        `ALTER TABLE "${schema}".contacts SET (autovacuum_enabled = false); ALTER TABLE "${schema}".contacts_groups SET (autovacuum_enabled = false)`,
      );
      await d.tidy?.();
      expect(await analyzed()).toEqual([
        { relname: 'contacts', n: -1 },
        { relname: 'contacts_groups', n: -1 },
      ]);
      await applied(d, rows('p', 12_000));
      await d.tidy?.();
      expect(await analyzed()).toEqual([
        { relname: 'contacts', n: 12_999 },
        { relname: 'contacts_groups', n: 12_999 },
      ]);
      // More than a thousand rows but less than a tenth of the table: autovacuum's to keep up with.
      // Commands that fail write nothing, and do not count.
      const refused = Array.from({ length: 300 }, (_, i) =>
        update(`nobody${i}@example.com`, { set: { code: 'x' } }),
      );
      const outcomes = await applied(d, [...rows('q', 1_100), ...refused]);
      expect(outcomes.filter((o) => o.status === 'error')).toHaveLength(300);
      await d.tidy?.();
      expect((await analyzed())[0]).toEqual({ relname: 'contacts', n: 12_999 });
      // Counted since the last ANALYZE: with these, a tenth.
      await applied(d, rows('r', 200));
      await d.tidy?.();
      expect((await analyzed())[0]).toEqual({ relname: 'contacts', n: 14_299 });
    });

    it('given a table without a mapped column, when looked up or applied, then it fails naming table and column, and the table is not altered', async () => {
      await onServer(
        `CREATE SCHEMA "${schema}"; CREATE TABLE "${schema}".contacts (email text PRIMARY KEY, first_name text, ltv numeric, code text)`,
      );
      const d = await open(config(schema));
      const expected = {
        _tag: 'Left',
        left: { _tag: 'DestinationMisconfigured', message: 'table contacts has no column note' },
      };
      expect(await d.lookup(['a@example.com'])()).toEqual(expected);
      expect(await d.apply([create('a@example.com')])()).toEqual(expected);
      expect(
        await onServer(
          `SELECT count(*)::int AS n FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'contacts'`,
          [schema],
        ),
      ).toEqual([{ n: 4 }]);
    });
  });

  describe('a row the database refuses fails only its own command', () => {
    it('given a trigger refusing some rows and a unique field, when a batch is applied, then only those commands fail, with the database message, and the rest land', async () => {
      await onServer(`CREATE SCHEMA "${schema}";
        CREATE TABLE "${schema}".contacts (email text PRIMARY KEY, first_name jsonb, ltv jsonb, code jsonb UNIQUE, note jsonb);
        CREATE FUNCTION "${schema}".refuse() RETURNS trigger LANGUAGE plpgsql AS $$
          BEGIN IF NEW.email LIKE '%@refused.example' THEN RAISE EXCEPTION 'no refused.example addresses: %', NEW.email; END IF; RETURN NEW; END $$;
        CREATE TRIGGER refuse BEFORE INSERT OR UPDATE ON "${schema}".contacts FOR EACH ROW EXECUTE FUNCTION "${schema}".refuse();`);
      const d = await open(config(schema));
      await applied(d, [create('old@example.com', { add: ['VIP', 'Partner'] })]);
      const commands = [
        create('a@example.com', { set: { code: 'A' }, add: ['VIP'] }),
        create('x@refused.example', { add: ['VIP'] }),
        create('b@example.com', { set: { code: 'A' } }),
        update('old@example.com', { set: { email: 'y@refused.example' } }),
        create('c@example.com', { add: ['Newsletter'] }),
        remove('nobody@example.com'),
      ];
      const outcomes = await applied(d, commands);
      expect(outcomes.map((o) => o.status)).toEqual(['ok', 'error', 'error', 'error', 'ok', 'ok']);
      expect(outcomes[1]).toMatchObject({
        retryable: false,
        message: expect.stringContaining('no refused.example addresses: x@refused.example') as unknown,
      });
      expect(outcomes[2]).toMatchObject({
        message: expect.stringContaining('duplicate key value violates unique constraint') as unknown,
      });
      expect(outcomes[3]).toMatchObject({
        message: expect.stringContaining('no refused.example addresses: y@refused.example') as unknown,
      });
      expect(await onServer(`SELECT email FROM "${schema}".contacts ORDER BY email`)).toEqual(
        ['a@example.com', 'c@example.com', 'old@example.com'].map((email) => ({ email })),
      );
      expect(
        await onServer(`SELECT record_key, group_name FROM "${schema}".contacts_groups ORDER BY 1, 2`),
      ).toEqual([
        { record_key: 'a@example.com', group_name: 'VIP' },
        { record_key: 'c@example.com', group_name: 'Newsletter' },
        { record_key: 'old@example.com', group_name: 'Partner' },
        { record_key: 'old@example.com', group_name: 'VIP' },
      ]);
    });
  });

  describe('an unreachable server', () => {
    it('given a connection URL with a password read from a variable, when applied, then the failure is retryable and holds no password', async () => {
      const d = await open(config(schema, { connection: { env: 'PG_URL' } }), {
        PG_URL: 'postgres://postgres:s3cret-pw@127.0.0.1:1/postgres',
      });
      const r = await d.apply([create('a@example.com')])();
      expect(r).toMatchObject({ _tag: 'Left', left: { _tag: 'DestinationUnavailable', retryable: true } });
      const message = (r as { left: { message: string } }).left.message;
      expect(message).toContain('cannot reach PostgreSQL at options.connection (from env PG_URL)');
      expect(message).not.toContain('s3cret-pw');
    });

    it('given a literal connection URL with a password, when opened, then it is refused without repeating it', async () => {
      const r = await postgresDestinationType.open(
        config(schema, { connection: 'postgres://u:s3cret-pw@127.0.0.1/db' }),
        {},
      )();
      expect(r._tag).toBe('Left');
      const message = (r as { left: { message: string } }).left.message;
      expect(message).toContain('options.connection: holds a password');
      expect(message).not.toContain('s3cret-pw');
    });
  });
});
