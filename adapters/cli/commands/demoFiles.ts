// The demo's directory: made afresh (deleting only what an earlier demo made), its files written
// (config, people, a CRM with contacts of its own), and its destinations read back for the report.
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import * as TE from 'fp-ts/lib/TaskEither.js';
import { pipe } from 'fp-ts/lib/function.js';
import type { DestinationConfig } from '../../../domain/destination.js';
import * as demo from '../../demo/scenario.js';
import type { DemoServer } from '../../demo/servers.js';
import { failed, type CliError } from '../errors.js';

const { optionOf } = demo;

const messageOf = (e: unknown): string => (e instanceof Error ? e.message : String(e));
/** File system and SQLite failures here are the environment's (no space, no permission). */
export const attempt = <A>(what: string, work: () => Promise<A>): TE.TaskEither<CliError, A> =>
  TE.tryCatch(work, (e) => failed(`${what}: ${messageOf(e)}`));

const contentsOf = (dir: string): Promise<'missing' | 'file' | string[]> =>
  readdir(dir).catch((e: NodeJS.ErrnoException) =>
    e.code === 'ENOENT' ? 'missing' : e.code === 'ENOTDIR' ? 'file' : Promise.reject(e),
  );

/** Recreates DIR, but deletes only what an earlier demo made (or an empty directory). */
export const prepareDir = (cwd: string, arg: string): TE.TaskEither<CliError, string> => {
  const dir = resolve(cwd, arg);
  const up = relative(dir, cwd);
  if (up === '' || !(up.startsWith('..') || isAbsolute(up)))
    return TE.left(failed(`${arg} contains the current directory; run the demo from outside it`));
  return pipe(
    attempt(`cannot read ${arg}`, () => contentsOf(dir)),
    TE.filterOrElse(
      (found) =>
        found === 'missing' || (found !== 'file' && (found.length === 0 || found.includes(demo.DEMO_MARKER))),
      () =>
        failed(
          `${arg} already exists and is not a syncline demo directory (it has no ${demo.DEMO_MARKER} file); ` +
            'choose another DIR, or remove it yourself',
        ),
    ),
    TE.chain(() =>
      attempt(`cannot create ${arg}`, async () => {
        await rm(dir, { recursive: true, force: true });
        await mkdir(dir, { recursive: true });
        await writeFile(join(dir, demo.DEMO_MARKER), demo.MARKER_TEXT);
        return dir;
      }),
    ),
  );
};

export const writeJsonl = (file: string, events: readonly unknown[]): Promise<void> =>
  writeFile(file, `${events.map((e) => JSON.stringify(e)).join('\n')}\n`);

/** The CRM as it was before syncline: its own column (source) and its own tag (Partner). */
const seedCrm = (file: string, contacts: readonly demo.Contact[]): void => {
  const db = new Database(file);
  try {
    db.exec(demo.CRM_TABLES);
    const contact = db.prepare('INSERT INTO contacts (email, first_name, source) VALUES (?, ?, ?)');
    const tag = db.prepare('INSERT INTO contacts_groups (record_key, group_name) VALUES (?, ?)');
    db.transaction(() => {
      for (const c of contacts) {
        contact.run(c.email, c.firstName, c.source);
        for (const t of c.tags) tag.run(c.email, t);
      }
    })();
  } finally {
    db.close();
  }
};

/**
 * The config file is what `cd DIR && syncline …` reads, so its paths are relative to DIR. With
 * `server`, it names the server's destinations instead, and the CRM is seeded there, not in crm.db.
 */
export const setUp = (
  dir: string,
  store: string,
  server: DemoServer | undefined,
): TE.TaskEither<CliError, demo.DemoPopulation> =>
  attempt('cannot write the demo files', async () => {
    const p = demo.demoPopulation();
    const config = { store, destinations: server?.destinations ?? demo.demoDestinations };
    await writeFile(join(dir, 'syncline.config.json'), `${JSON.stringify(config, null, 2)}\n`);
    await writeJsonl(join(dir, 'people.jsonl'), p.events);
    if (server === undefined) seedCrm(join(dir, 'crm.db'), p.contacts);
    return p;
  });

/** A destination read back: counts, and a sample of the records with the most lists. */
export type TableView = {
  readonly destinationId: string;
  /** where the table is, for --json: its file, or its server (and schema) */
  readonly at: Readonly<Record<string, string>>;
  /** where the table is, for the report */
  readonly where: string;
  readonly table: string;
  readonly rows: number;
  readonly tagged: number;
  readonly head: readonly string[];
  readonly sample: readonly (readonly string[])[];
};

export const readTable = (dir: string, d: DestinationConfig): TableView => {
  const sql = demo.readBack(d);
  const db = new Database(join(dir, optionOf(d, 'path')), { readonly: true });
  try {
    const sample = db.prepare(sql.sample).raw().all() as (string | number | null)[][];
    return {
      destinationId: d.destinationId,
      at: { file: optionOf(d, 'path') },
      where: `${optionOf(d, 'path')}, table ${optionOf(d, 'table')}`,
      table: optionOf(d, 'table'),
      rows: db.prepare(sql.rows).pluck().get() as number,
      tagged: db.prepare(sql.tagged).pluck().get() as number,
      head: [...sql.fields, 'groups'],
      sample: sample.map((row) => [
        ...row.slice(0, -1).map((v) => (v === null ? '' : String(v))),
        (JSON.parse(String(row.at(-1))) as string[]).join(', '),
      ]),
    };
  } finally {
    db.close();
  }
};

/** The package this syncline runs from: the built file is four levels below package.json. */
const PACKAGE_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const MAIN = join(PACKAGE_ROOT, 'dist', 'adapters', 'cli', 'main.js');

const isSyncline = (root: string): boolean => {
  try {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { name?: unknown };
    return pkg.name === 'syncline' && existsSync(MAIN);
  } catch {
    return false;
  }
};

/**
 * How the demo's hints spell the command so that each runs exactly as printed: `npx syncline` when
 * the demo's directory is inside the clone it runs from (npx finds the clone's own bin there, and
 * would look in the npm registry anywhere else), else the built file itself, run by node.
 */
export const commandFor = (dir: string): string => {
  const inside = relative(PACKAGE_ROOT, dir);
  const within = inside !== '' && !inside.startsWith('..') && !isAbsolute(inside);
  if (within && isSyncline(PACKAGE_ROOT)) return 'npx syncline';
  return `node ${demo.quoted(MAIN)}`;
};
