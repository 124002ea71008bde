// The operator's main job end to end with the built CLI on three SQLite destinations (one per mode),
// the stories of every destination type (support/destinationStories.ts), told once per kind of event store.
import { existsSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { crmHoldings, DESTINATIONS, type DestinationId, type GroupRow } from './support/customerRounds.js';
import { destinationStories, type DestinationKind } from './support/destinationStories.js';
import { storeKinds } from './support/storeKinds.js';

/** SQLite destinations: each a file of its own in the world's directory, table `contacts`. */
const sqliteDestinations = (): DestinationKind => {
  let dir = '';
  const file = (id: DestinationId) => join(dir, `${id}.db`);
  const reading = <A>(id: DestinationId, read: (db: Database.Database) => A): A => {
    const db = new Database(file(id), { readonly: true });
    try {
      return read(db);
    } finally {
      db.close();
    }
  };
  return {
    type: 'sqlite',
    options: (id) => ({ path: `${id}.db`, table: 'contacts' }),
    setUp: (path) => {
      dir = path;
      // The CRM's file is there before syncline, its table's columns untyped.
      const db = new Database(file('crm'));
      db.exec(`CREATE TABLE contacts (email TEXT PRIMARY KEY, first_name, ltv);
        CREATE TABLE contacts_groups (record_key TEXT NOT NULL, group_name TEXT NOT NULL, PRIMARY KEY (record_key, group_name));
        ${crmHoldings('contacts', 'contacts_groups').join(';\n')};`);
      db.close();
      return Promise.resolve();
    },
    tearDown: () => Promise.resolve(),
    tableNames: () =>
      Promise.resolve(
        DESTINATIONS.filter(({ destinationId }) => existsSync(file(destinationId))).flatMap(
          ({ destinationId }) =>
            reading(destinationId, (db) =>
              db
                .prepare(`SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name`)
                .pluck()
                .all()
                .map((name) => `${destinationId}.db ${String(name)}`),
            ),
        ),
      ),
    ownTables: ['crm.db contacts', 'crm.db contacts_groups'],
    tables: (id) =>
      Promise.resolve(
        reading(id, (db) => ({
          rows: db.prepare('SELECT email, first_name, ltv FROM contacts ORDER BY email').all(),
          groups: db
            .prepare('SELECT record_key, group_name FROM contacts_groups ORDER BY record_key, group_name')
            .all() as GroupRow[],
        })),
      ),
  };
};

for (const store of storeKinds)
  describe.skipIf(!store.runs)(
    `syncline end to end on a ${store.name} store: apply, ingest, sync and status on SQLite destinations`,
    () => {
      const world = destinationStories(sqliteDestinations(), store);

      it('given the same file with ids, when ingested again, then nothing is appended', async () => {
        const head = (await world.status()).head;
        expect(await world.ok('ingest', 'round1.jsonl')).toEqual({ lines: 43, appended: 0, duplicates: 43 });
        expect(await world.cli('ingest', 'round1.jsonl')).toEqual({
          code: 0,
          stdout: 'ingested 0 events from round1.jsonl (43 already stored)\n',
          stderr: '',
        });
        expect((await world.status()).head).toBe(head);
      });

      it('when the status is read, then it names the state file this store keeps on this machine', async () => {
        expect((await world.status()).state.path).toBe(
          store.statePath(realpathSync(world.dir()), world.storeUrl()),
        );
      });
    },
  );
