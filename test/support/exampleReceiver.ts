// The example http receiver (examples/http-receiver) as the suites start it: in this process, on a
// port of its own, over a SQLite file in a directory that closing removes.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type Database from 'better-sqlite3';

export const RECEIVER_PROGRAM = fileURLToPath(
  new URL('../../examples/http-receiver/receiver.mjs', import.meta.url),
);

export type ExampleReceiver = {
  readonly url: string;
  readonly db: Database.Database;
  /** the SQLite file it keeps its records in */
  readonly database: string;
  readonly close: () => Promise<void>;
};
type Options = { port?: number; host?: string; database: string; secret?: string; toleranceSeconds?: number };

// Plain JavaScript, imported by path: the type is what the example's JSDoc promises.
const { startReceiver } = (await import(RECEIVER_PROGRAM)) as {
  startReceiver: (options: Options) => Promise<Omit<ExampleReceiver, 'database'>>;
};

/** A fresh receiver; `close` stops it and removes its file. */
export const startExampleReceiver = async (
  options: { secret?: string; port?: number } = {},
): Promise<ExampleReceiver> => {
  const dir = mkdtempSync(join(tmpdir(), 'syncline-receiver-'));
  const database = join(dir, 'receiver.db');
  const r = await startReceiver({ database, ...options });
  return {
    url: r.url,
    db: r.db,
    database,
    close: async () => {
      await r.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
};

/** Every record the receiver holds, sorted by key: fields and groups as JSON values. */
export const heldBy = (r: ExampleReceiver): { key: string; fields: unknown; groups: unknown }[] =>
  (
    r.db.prepare('SELECT key, fields, groups FROM records ORDER BY key').all() as {
      key: string;
      fields: string;
      groups: string;
    }[]
  ).map((row) => ({
    key: row.key,
    fields: JSON.parse(row.fields) as unknown,
    groups: JSON.parse(row.groups) as unknown,
  }));
