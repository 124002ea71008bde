// Fault injection, the engine state file: a row it cannot give back, or SQLite finding it damaged,
// stops a command with one line naming the file and the remedy (--rebuild-state), which folds it again;
// and `status --check` finds damaged pages of the store that no command reads.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { population } from '../adapters/demo/people.js';
import { checkpointed, damagePage, pagesOf, type Page } from './support/damage.js';
import {
  copyWorld,
  createWorld,
  ingestEvents,
  launch,
  removeWorld,
  syncToEnd,
  type FaultWorld,
} from './support/faultWorld.js';

const PROFILES = 2_000;

const worlds: FaultWorld[] = [];
const track = (w: FaultWorld): FaultWorld => (worlds.push(w), w);
afterAll(() => Promise.all(worlds.map(removeWorld)));

type Output = { readonly code: number | null; readonly stdout: string; readonly stderr: string };

const cli = async (w: FaultWorld, ...args: string[]): Promise<Output> => {
  const { code, stdout, stderr } = await launch(w, args).exit;
  return { code, stdout, stderr };
};

const statePath = (w: FaultWorld): string => w.storePath.replace(/\.db$/, '.state.db');

/** Runs `sql` on the world's state file, as another program (or a bug) might. */
const onState = (w: FaultWorld, sql: string): void => {
  const db = new Database(statePath(w));
  try {
    db.exec(sql);
  } finally {
    db.close();
  }
};

/** status --json without where its state is kept, run ids and times, which differ between worlds. */
const comparable = (stdout: string): unknown => {
  const { state: _, ...rest } = JSON.parse(stdout) as { state?: unknown };
  return JSON.stringify(rest)
    .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, 'RUN')
    .replace(/\d{4}-\d\d-\d\dT[\d:.]+Z/g, 'TIME');
};

let synced: FaultWorld;

/** A change to the first profile, as a JSONL file in every world. */
const CHANGE = {
  type: 'ProfilePropertiesChanged',
  data: { profileId: 'p0000001', set: { plan: 'changed' } },
} as const;
const CHANGE_FILE = 'change.jsonl';
const FIRST_ROW = "UPDATE profiles SET value = 'x' WHERE key = 'p0000001'";

beforeAll(async () => {
  synced = track(await createWorld([...population(PROFILES)], 'all'));
  await syncToEnd(synced);
  checkpointed(synced.storePath);
  await writeFile(join(synced.dir, CHANGE_FILE), `${JSON.stringify(CHANGE)}\n`);
}, 180_000);

describe('a state file holding rows it cannot give back', () => {
  const damaged = (path: string) =>
    new RegExp(
      `^syncline: the engine state in ${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is damaged \\(([^\n]+)\\): run the command again with --rebuild-state\n$`,
    );

  /** A page in the middle of the leaves of `table` in the state file, overwritten with noise. */
  const pageOf = (table: string) => (w: FaultWorld) => {
    checkpointed(statePath(w));
    const leaves = pagesOf(statePath(w), table).filter((p) => p.pagetype === 'leaf');
    damagePage(statePath(w), (leaves[Math.floor(leaves.length / 2)] as Page).pageno);
  };

  it.each<[string, readonly string[], string | ((w: FaultWorld) => void), RegExp]>([
    [
      "every profile's row",
      ['sync', '--full'],
      "UPDATE profiles SET value = 'x'",
      /^profiles row "p\d+" is not JSON: /,
    ],
    [
      "the destination's row",
      ['status'],
      "UPDATE destinations SET value = '[1]'",
      /^destinations row "warehouse" /,
    ],
    [
      "the destination's row",
      ['sync'],
      "UPDATE destinations SET value = '[1]'",
      /^destinations row "warehouse" /,
    ],
    ['a page of profiles', ['sync', '--full'], pageOf('profiles'), /^SQLITE_CORRUPT: /],
    [
      'the row of the profile a file changes',
      ['ingest', CHANGE_FILE],
      FIRST_ROW,
      /^profiles row "p0000001" is not JSON: /,
    ],
  ])(
    'given %s damaged, when %j runs, then it exits 1 with one line naming the file, what is damaged and --rebuild-state; with --rebuild-state it is folded again and then answers as a state file never damaged',
    async (_, args, damage, what) => {
      const w = track(await copyWorld(synced));
      if (typeof damage === 'string') onState(w, damage);
      else damage(w);
      const r = await cli(w, ...args);
      expect(r.code).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(damaged(statePath(w)));
      expect(damaged(statePath(w)).exec(r.stderr)?.[1]).toMatch(what);
      const rebuilt = await cli(w, '--rebuild-state', ...args);
      expect(rebuilt.stderr).toBe(
        `syncline: rebuilding the engine state in ${statePath(w)} from the store, as asked\n`,
      );
      expect(rebuilt.code).toBe(0);
      // Rebuilt and saved: the next command reads it without a word, as a world never damaged.
      const undamaged = track(await copyWorld(synced));
      expect(await cli(undamaged, ...args)).toMatchObject({ code: 0, stderr: '' });
      const after = await cli(w, 'status', '--json');
      expect(after.stderr).toBe('');
      expect(comparable(after.stdout)).toStrictEqual(
        comparable((await cli(undamaged, 'status', '--json')).stdout),
      );
    },
    60_000,
  );
});

describe('a follower whose state file holds a row it cannot give back', () => {
  it('given a follower that has saved its first round, when a row it must read next is damaged, then it stops with exit 1 and the one line naming --rebuild-state, and saves nothing over the damage', async () => {
    const w = track(await copyWorld(synced));
    const follower = launch(w, ['sync', '--follow']);
    const saved = (): number => {
      const db = new Database(statePath(w), { readonly: true });
      try {
        return Number(db.prepare(`SELECT value FROM meta WHERE name = 'position'`).pluck().get());
      } finally {
        db.close();
      }
    };
    const before = saved();
    for (let waited = 0; saved() <= before; waited += 100) {
      if (waited > 30_000) throw new Error('the follower saved no round');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    // Between rounds the follower reads nothing. Its rounds read the file as of its last save (a
    // snapshot), so a round that changes another profile first makes it save after the damage.
    onState(w, FIRST_ROW);
    await ingestEvents(w, [{ ...CHANGE, data: { ...CHANGE.data, profileId: 'p0000002' } }]);
    const first = saved();
    for (let waited = 0; saved() <= first; waited += 100) {
      if (waited > 30_000) throw new Error('the follower saved no second round');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const round = saved();
    // The next round reads the row as damaged.
    await ingestEvents(w, [CHANGE]);
    const exit = await follower.exit;
    expect(exit.code).toBe(1);
    expect(exit.stderr).toBe(
      `syncline: the engine state in ${statePath(w)} is damaged (profiles row "p0000001" is not JSON: ` +
        `Unexpected token 'x', "x" is not valid JSON): run the command again with --rebuild-state\n`,
    );
    expect(saved()).toBe(round);
  }, 60_000);
});

describe('status --check: the store checked for damage that no command reads', () => {
  type Checked = { integrity?: { check: string; sound: boolean; findings: string[] } };
  const CHECK = 'PRAGMA integrity_check';
  /**
   * A finding in the events table: SQLite names the tree (`Tree 2 page 57: …`), or, when the damage
   * stops its check, the store names the table it checked on its own.
   */
  /** --rebuild-state, so that the fold reads the store from its first event, says so first. */
  const REBUILDING = 'syncline: rebuilding the engine state in [^\\n]+ from the store, as asked\\n';
  const IN_EVENTS = '(Tree \\d+ \\(events\\) page \\d+|table events): ';

  it('given a sound store, when status --check runs, then it says the store passed, and answers as status does', async () => {
    const text = await cli(synced, 'status', '--check');
    expect(text.stderr).toBe('');
    expect(text.code).toBe(0);
    expect(text.stdout).toBe(
      (await cli(synced, 'status')).stdout.replace(/^(state: .*\n)/m, `$1integrity: sound (${CHECK})\n`),
    );
    const json = await cli(synced, 'status', '--check', '--json');
    expect(json.code).toBe(0);
    const { integrity, ...rest } = JSON.parse(json.stdout) as Checked;
    expect(integrity).toStrictEqual({ check: CHECK, sound: true, findings: [] });
    expect(rest).toStrictEqual(JSON.parse((await cli(synced, 'status', '--json')).stdout));
  });

  it('given a page of events damaged that the state file has folded, when status runs, then nothing seems wrong; with --check, it says the store failed its integrity check, naming the events table, and exits 1', async () => {
    const w = track(await copyWorld(synced));
    checkpointed(w.storePath);
    const before = await cli(w, 'status', '--json');
    // The first leaf holds the first events: folded into the state file, never read again.
    damagePage(
      w.storePath,
      (pagesOf(w.storePath, 'events').find((p) => p.pagetype === 'leaf') as Page).pageno,
    );
    expect(await cli(w, 'status', '--json')).toStrictEqual(before);

    const text = await cli(w, 'status', '--check');
    expect(text.code).toBe(1);
    expect(text.stderr).toMatch(
      new RegExp(`^syncline: the store failed its integrity check \\(${CHECK}\\): ${IN_EVENTS}[^\\n]+\\n$`),
    );
    expect(text.stdout).toMatch(/^store head: position \d+\nstate: [^\n]+, saved at position /);
    expect(text.stdout).toMatch(new RegExp(`^integrity: FAILED \\(${CHECK}\\)\\n  ${IN_EVENTS}`, 'm'));
    expect(text.stdout).toContain('warehouse (sqlite, sync, all profiles)');

    const json = await cli(w, 'status', '--check', '--json');
    expect(json.code).toBe(1);
    expect(json.stderr).toBe(text.stderr);
    const { integrity, ...rest } = JSON.parse(json.stdout) as Checked;
    expect(integrity).toMatchObject({ check: CHECK, sound: false });
    expect(integrity?.findings[0]).toMatch(new RegExp(`^${IN_EVENTS}`));
    expect(integrity?.findings.length).toBeLessThanOrEqual(10);
    expect(rest).toStrictEqual(JSON.parse(before.stdout));
  });

  it('given a page of events damaged that every fold reads, when status --check runs, then it still says the store failed its integrity check', async () => {
    const w = track(await copyWorld(synced));
    checkpointed(w.storePath);
    damagePage(
      w.storePath,
      (pagesOf(w.storePath, 'events').find((p) => p.pagetype === 'leaf') as Page).pageno,
    );
    const r = await cli(w, '--rebuild-state', 'status', '--check');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      new RegExp(
        `^${REBUILDING}syncline: the store failed its integrity check \\(${CHECK}\\): ${IN_EVENTS}[^\\n]+; ` +
          'and its status cannot be shown: [^\\n]*malformed[^\\n]*\\n$',
      ),
    );
  });

  it('given a page of events damaged that every fold reads, when commands read the store without --check, then each exits 1 saying the store could not be read, never an internal error', async () => {
    const w = track(await copyWorld(synced));
    checkpointed(w.storePath);
    damagePage(
      w.storePath,
      (pagesOf(w.storePath, 'events').find((p) => p.pagetype === 'leaf') as Page).pageno,
    );
    for (const args of [['status'], ['plan'], ['sync'], ['replay', '--destination', 'warehouse']]) {
      const r = await cli(w, '--rebuild-state', ...args);
      expect({ args, code: r.code }).toStrictEqual({ args, code: 1 });
      // replay folds the store itself: it reads the state file only to say more about a mistake.
      expect(r.stderr).toMatch(
        new RegExp(
          `^(${REBUILDING})?syncline: the store could not be read: SQLite store unavailable \\(SQLITE_CORRUPT[^)]*\\): ` +
            '[^\\n]+; `syncline status --check` checks it for damage\\n$',
        ),
      );
    }
  });
});
