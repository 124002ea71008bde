// Two processes opening the same new SQLite file at the same moment: both must open it in WAL mode,
// the store as well as the destination (see adapters/walMode.ts for why SQLite refuses one of them).
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runScript } from './support/cli.js';

const BUILT = (file: string) => new URL(`../dist/adapters/${file}`, import.meta.url).href;

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'syncline-wal-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/**
 * A script that imports `imports`, waits at the barrier given as its first argument (a directory:
 * each process leaves a file there once loaded and goes on when both have, so both open together),
 * runs `body` on the file given as its second, and prints what went wrong.
 */
const opener = (name: string, imports: string, body: string): string => {
  const script = join(dir, `${name}.mjs`);
  writeFileSync(
    script,
    `${imports}
import { readdirSync as barrierEntries, writeFileSync as arrive } from 'node:fs';
const [barrier, file] = [process.argv[2], process.argv[3]];
arrive(barrier + '/' + process.pid, '');
while (barrierEntries(barrier).length < 2);
try {
${body}
} catch (e) {
  console.log('failed: ' + e.message);
}
`,
  );
  return script;
};

/** Runs `script` twice at once per file, `pairs` times; returns every output and the files. */
const together = async (
  script: string,
  name: (i: number) => string,
  pairs: number,
): Promise<{ outputs: string[]; files: string[] }> => {
  const outputs: string[] = [];
  const files: string[] = [];
  for (let i = 0; i < pairs; i++) {
    const file = join(dir, name(i));
    files.push(file);
    const barrier = join(dir, `barrier-${i}`);
    mkdirSync(barrier);
    const runs = await Promise.all([0, 1].map(() => runScript(script, 30_000, [barrier, file])));
    outputs.push(...runs.map((r) => r.stdout.trim()));
  }
  return { outputs, files };
};

/** The file's journal mode, read afresh. */
const journalOf = (file: string): unknown => {
  const db = new Database(file, { readonly: true });
  try {
    return db.pragma('journal_mode', { simple: true });
  } finally {
    db.close();
  }
};

describe('two processes opening a new SQLite file at once', () => {
  it('given a destination file that does not exist yet, when two processes open it at the same moment, then both open it in WAL mode', async () => {
    const script = opener(
      'destination',
      `import { connect } from ${JSON.stringify(BUILT('destinations/sqlite/apply.js'))};`,
      `const db = connect(file);
console.log(db.pragma('journal_mode', { simple: true }));
db.close();`,
    );
    const { outputs, files } = await together(script, (i) => `crm-${i}.db`, 6);
    expect(outputs).toEqual(Array.from({ length: 12 }, () => 'wal'));
    expect(files.map(journalOf)).toEqual(files.map(() => 'wal'));
  }, 60_000);

  it('given a store file that does not exist yet, when two processes open it at the same moment, then both open it with its schema in WAL mode', async () => {
    const script = opener(
      'store',
      `import { openSqliteStore } from ${JSON.stringify(BUILT('stores/sqlite/store.js'))};`,
      `const opened = openSqliteStore(file);
if (opened._tag === 'Left') console.log('failed: ' + opened.left.message);
else { console.log('head ' + (await opened.right.head())); await opened.right.close(); }`,
    );
    const { outputs, files } = await together(script, (i) => `events-${i}.db`, 6);
    // head() reads the events table: both processes found the schema in place.
    expect(outputs).toEqual(Array.from({ length: 12 }, () => 'head 0'));
    expect(files.map(journalOf)).toEqual(files.map(() => 'wal'));
  }, 60_000);
});

describe('closing a file in WAL mode', () => {
  const written = (path: string, rows: number): Database.Database => {
    const db = new Database(path);
    db.pragma('journal_mode = WAL');
    db.pragma('wal_autocheckpoint = 0');
    db.exec('CREATE TABLE t (x TEXT)');
    const insert = db.prepare('INSERT INTO t VALUES (?)');
    db.transaction(() => {
      for (let i = 0; i < rows; i++) insert.run(`row ${i} ${'x'.repeat(100)}`);
    })();
    return db;
  };
  const rowsIn = (path: string): number => {
    const db = new Database(path, { readonly: true });
    try {
      return db.prepare('SELECT count(*) FROM t').pluck().get() as number;
    } finally {
      db.close();
    }
  };

  it('given a log under the limit, when closed keeping it, then the log stays, the file alone lacks the rows, and the next connection reads every one', async () => {
    const { closeKeepingLog } = await import('../adapters/walMode.js');
    const path = join(dir, 'small.db');
    const db = written(path, 1_000);
    const size = statSync(`${path}-wal`).size;
    closeKeepingLog(db, size + 1);
    expect(db.open).toBe(false);
    expect(statSync(`${path}-wal`).size).toBe(size);
    expect(statSync(path).size).toBeLessThan(size);
    expect(rowsIn(path)).toBe(1_000);
  });

  it('given a log over the limit, when closed, then it is checkpointed into the file and removed, as SQLite closes', async () => {
    const { closeKeepingLog } = await import('../adapters/walMode.js');
    const path = join(dir, 'large.db');
    const db = written(path, 1_000);
    closeKeepingLog(db, statSync(`${path}-wal`).size - 1);
    expect(existsSync(`${path}-wal`)).toBe(false);
    expect(rowsIn(path)).toBe(1_000);
  });
});
