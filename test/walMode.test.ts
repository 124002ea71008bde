// Two processes opening the same new SQLite file at the same moment: both must open it in WAL mode,
// the store as well as the destination (see adapters/walMode.ts for why SQLite refuses one of them).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runScript } from './support/cli.js';

const BUILT = (file: string) => new URL(`../dist/adapters/${file}`, import.meta.url).href;

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'syncline-wal-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** A script that waits for `startAt` (so both processes open together), opens, and prints the mode. */
const opener = (name: string, open: string): string => {
  const script = join(dir, `${name}.mjs`);
  writeFileSync(
    script,
    `${open.split('\n')[0]}
const startAt = Number(process.argv[2]);
while (Date.now() < startAt);
try {
  ${open.split('\n').slice(1).join('\n  ')}
} catch (e) {
  console.log('failed: ' + e.message);
}
`,
  );
  return script;
};

const together = async (script: string, args: (i: number) => string, pairs: number): Promise<string[]> => {
  const outputs: string[] = [];
  for (let i = 0; i < pairs; i++) {
    // Far enough ahead that both processes have loaded their modules and are spinning.
    const startAt = String(Date.now() + 600);
    const runs = await Promise.all([0, 1].map(() => runScript(script, 30_000, [startAt, args(i)])));
    outputs.push(...runs.map((r) => r.stdout.trim()));
  }
  return outputs;
};

describe('two processes opening a new SQLite file at once', () => {
  it('given a destination file that does not exist yet, when two processes open it at the same moment, then both open it in WAL mode', async () => {
    const script = opener(
      'destination',
      `import { connect } from ${JSON.stringify(BUILT('destinations/sqliteApply.js'))};
const db = connect(process.argv[3]);
console.log(db.pragma('journal_mode', { simple: true }));
db.close();`,
    );
    const outputs = await together(script, (i) => join(dir, `crm-${i}.db`), 6);
    expect(outputs).toEqual(Array.from({ length: 12 }, () => 'wal'));
  }, 60_000);

  it('given a store file that does not exist yet, when two processes open it at the same moment, then both open it with its schema in WAL mode', async () => {
    const script = opener(
      'store',
      `import { openSqliteStore } from ${JSON.stringify(BUILT('stores/sqlite.js'))};
const opened = openSqliteStore(process.argv[3]);
if (opened._tag === 'Left') console.log('failed: ' + opened.left.message);
else { console.log(String(await opened.right.head())); await opened.right.close(); }`,
    );
    const outputs = await together(script, (i) => join(dir, `events-${i}.db`), 6);
    expect(outputs).toEqual(Array.from({ length: 12 }, () => '0'));
  }, 60_000);
});
