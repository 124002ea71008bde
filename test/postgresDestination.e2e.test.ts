// The operator's job end to end with the built CLI into PostgreSQL (support/destinationStories.ts), its warehouse
// a table of the user's whose trigger refuses a row; then `describe postgres`, `validate`, and the password.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempDir } from './support/cli.js';
import { crmHoldings, type GroupRow } from './support/customerRounds.js';
import { destinationStories, type DestinationKind } from './support/destinationStories.js';
import { dropSchemas, freshSchema, onServer, POSTGRES_URL, postgresAnswers } from './support/postgres.js';

const PASSWORD = 'pw-Never-Shown-42';
/** The server trusts local connections: the password is there only to be looked for in what syncline prints and stores. */
const withPassword = (url: string): string => {
  const u = new URL(url);
  u.password = PASSWORD;
  return u.toString();
};

/** PostgreSQL destinations: a table each in a schema of the world's own, read with SQL. */
const postgresDestinations = (): DestinationKind => {
  const schema = freshSchema();
  return {
    type: 'postgres',
    options: (id) => ({ connection: { env: 'PG_URL' }, schema, table: id }),
    env: () => ({ PG_URL: withPassword(POSTGRES_URL) }),
    password: PASSWORD,
    // The warehouse's own trigger refuses a name; the CRM's table is typed.
    setUp: async () => {
      await onServer(`CREATE SCHEMA "${schema}"; SET search_path TO "${schema}";
        CREATE TABLE warehouse (email text PRIMARY KEY, first_name jsonb, ltv jsonb);
        CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$
          BEGIN IF NEW.first_name = '"REFUSED"'::jsonb THEN RAISE EXCEPTION 'the warehouse refuses that name'; END IF; RETURN NEW; END $$;
        CREATE TRIGGER refuse BEFORE INSERT OR UPDATE ON warehouse FOR EACH ROW EXECUTE FUNCTION refuse();
        CREATE TABLE crm (email text PRIMARY KEY, first_name text, ltv integer);
        CREATE TABLE crm_groups (record_key text NOT NULL, group_name text NOT NULL, PRIMARY KEY (record_key, group_name));
        ${crmHoldings('crm', 'crm_groups').join(';\n')};`);
    },
    tearDown: () => dropSchemas(),
    tableNames: async () =>
      (
        await onServer<{ table_name: string }>(
          `SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1`,
          [schema],
        )
      ).map((t) => t.table_name),
    ownTables: ['crm', 'crm_groups', 'warehouse'],
    tables: async (table) => ({
      rows: await onServer(
        `SELECT email, first_name, ltv FROM "${schema}"."${table}" ORDER BY email COLLATE "C"`,
      ),
      groups: await onServer<GroupRow>(
        `SELECT record_key, group_name FROM "${schema}"."${table}_groups" ORDER BY record_key COLLATE "C", group_name COLLATE "C"`,
      ),
    }),
    warehouseRefuses: { firstName: 'REFUSED', message: 'the warehouse refuses that name' },
  };
};

describe.skipIf(!postgresAnswers)('syncline end to end on postgres destinations', () => {
  const world = destinationStories(postgresDestinations());

  it('then the password is nowhere in the store', () => {
    expect(readFileSync(join(world.dir(), 'events.db')).includes(PASSWORD)).toBe(false);
  });
});

describe.skipIf(!postgresAnswers)('syncline describe postgres and validate', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  beforeAll(async () => {
    dir = await tempDir();
  });
  afterAll(() => dir.remove());
  const config = (options: Record<string, unknown>) =>
    dir.write('syncline.config.json', {
      destinations: [
        {
          destinationId: 'wh',
          type: 'postgres',
          collection: { kind: 'all' },
          keyField: 'email',
          mapping: { email: 'email', plan: 'plan' },
          options,
        },
      ],
    });

  it('when described, then it lists the three modes, sync the default, its options and the column types it chooses', async () => {
    const r = await runCli(['describe', 'postgres', '--json']);
    expect(r.code).toBe(0);
    const d = JSON.parse(r.stdout) as {
      modes: { name: string; default: boolean }[];
      options: { name: string }[];
      description: string;
    };
    expect(d.modes.map((m) => [m.name, m.default])).toEqual([
      ['sync', true],
      ['additive', false],
      ['enrich', false],
    ]);
    expect(d.options.map((o) => o.name)).toEqual(['connection', 'schema', 'table', 'groupsTable']);
    expect(d.description).toContain('jsonb');
  });

  it('given a server that refuses connections, when validated, then it fails with a clear message without the password', async () => {
    await config({ connection: { env: 'PG_URL' }, table: 'contacts' });
    const r = await runCli(['validate'], {
      cwd: dir.path,
      env: { PG_URL: `postgres://postgres:${PASSWORD}@127.0.0.1:1/postgres` },
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      'destination wh: cannot reach PostgreSQL at options.connection (from env PG_URL)',
    );
    expect(r.stderr).toContain('ECONNREFUSED');
    expect(r.stderr + r.stdout).not.toContain(PASSWORD);
  });

  it('given a table without a mapped column, when validated, then it names table and column and alters nothing', async () => {
    const schema = freshSchema();
    await onServer(`CREATE SCHEMA "${schema}"; CREATE TABLE "${schema}".contacts (email text PRIMARY KEY)`);
    await config({ connection: POSTGRES_URL, schema, table: 'contacts' });
    const r = await runCli(['validate'], { cwd: dir.path });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('destination wh: table contacts has no column plan');
    expect(
      await onServer(`SELECT table_name FROM information_schema.tables WHERE table_schema = $1`, [schema]),
    ).toEqual([{ table_name: 'contacts' }]);
    await dropSchemas();
  });

  it('given a literal connection URL with a password, when validated, then it is refused without repeating it', async () => {
    await config({ connection: withPassword(POSTGRES_URL), table: 'contacts' });
    const r = await runCli(['validate'], { cwd: dir.path });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('options.connection: holds a password');
    expect(r.stderr).not.toContain(PASSWORD);
  });
});
