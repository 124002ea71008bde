// End-to-end tests of `syncline demo`: the built CLI end to end, its destinations checked against a
// small model folded here from the demo's own people.jsonl and changes.jsonl, not by the engine.
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { CLI_PATH, REPO_ROOT, runCli, tempDir, type CliResult } from './support/cli.js';

const NO_CREATE = 'Destination sync mode does not allow creating new profiles';
const DESTINATIONS = ['warehouse', 'newsletter', 'crm'];

type Totals = {
  created: number;
  updated: number;
  deleted: number;
  failed: number;
  skipped: Record<string, number>;
};
type Summary = { destinationId: string; totals: Totals };
type Report = {
  dir: string;
  profiles: number;
  seeded: { contacts: number; tagged: number };
  runs: { phase: string; destinations: Summary[] }[];
};

/** What the input files say, folded the simplest way: live profiles and group members. */
type World = { profiles: Map<string, Record<string, unknown>>; members: Map<string, Set<string>> };
type Line = { type: string; data: Record<string, unknown> & { profileId?: string; groupId?: string } };

const fold = (w: World, file: string): World => {
  for (const text of readFileSync(file, 'utf8').split('\n')) {
    if (text.trim() === '') continue;
    const { type, data } = JSON.parse(text) as Line;
    const pid = data.profileId as string;
    const members = w.members.get(data.groupId ?? '') ?? new Set<string>();
    if (type === 'GroupCreated') w.members.set(data.groupId as string, members);
    if (type === 'ProfileCreated') w.profiles.set(pid, { ...(data.properties as object) });
    if (type === 'ProfilePropertiesChanged') Object.assign(w.profiles.get(pid) ?? {}, data.set);
    if (type === 'ProfileJoinedGroup' && w.profiles.has(pid)) members.add(pid);
    if (type === 'ProfileLeftGroup') members.delete(pid);
    if (type === 'ProfileDeleted') {
      w.profiles.delete(pid);
      for (const m of w.members.values()) m.delete(pid);
    }
  }
  return w;
};
const copy = (w: World): World => ({
  profiles: new Map([...w.profiles].map(([id, p]) => [id, { ...p }])),
  members: new Map([...w.members].map(([g, m]) => [g, new Set(m)])),
});
const emailOf = (w: World, pid: string): string => w.profiles.get(pid)?.email as string;
const managed = (w: World, pid: string, names: Record<string, string>): string[] =>
  Object.entries(names)
    .filter(([g]) => w.members.get(g)?.has(pid))
    .map(([, name]) => name)
    .sort();

/** key → its groups, read straight from a destination's SQLite file. */
const records = (
  file: string,
  table: string,
): Map<string, { row: Record<string, unknown>; groups: string[] }> => {
  const db = new Database(file, { readonly: true });
  try {
    const out = new Map<string, { row: Record<string, unknown>; groups: string[] }>();
    for (const row of db.prepare(`SELECT * FROM ${table}`).all() as Record<string, unknown>[])
      out.set(row.email as string, { row, groups: [] });
    for (const g of db.prepare(`SELECT * FROM ${table}_groups ORDER BY group_name`).all() as {
      record_key: string;
      group_name: string;
    }[])
      out.get(g.record_key)?.groups.push(g.group_name);
    return out;
  } finally {
    db.close();
  }
};

const sorted = (xs: Iterable<string>): string[] => [...xs].sort();

describe('syncline demo DIR --json', () => {
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  let dir: string;
  let report: Report;
  let before: World;
  let after: World;
  const run = (phase: number, id: string): Totals =>
    (report.runs[phase]?.destinations.find((d) => d.destinationId === id) as Summary).totals;

  beforeAll(async () => {
    tmp = await tempDir();
    const r = await runCli(['demo', 'demo', '--json'], { cwd: tmp.path });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    report = JSON.parse(r.stdout) as Report;
    dir = join(tmp.path, 'demo');
    before = fold({ profiles: new Map(), members: new Map() }, join(dir, 'people.jsonl'));
    after = fold(copy(before), join(dir, 'changes.jsonl'));
  });
  afterAll(() => tmp.remove());

  it('reports where it ran, the profiles it made, and both runs of every destination', () => {
    expect(report.dir).toBe(dir);
    expect(report.profiles).toBe(10_000);
    expect(before.profiles.size).toBe(10_000);
    expect(report.runs.map((r) => r.phase)).toEqual(['first', 'after changes']);
    for (const r of report.runs) expect(r.destinations.map((d) => d.destinationId)).toEqual(DESTINATIONS);
    for (const r of report.runs) for (const d of r.destinations) expect(d.totals.failed).toBe(0);
  });

  it('first run: warehouse creates every profile, newsletter its members, crm creates nobody and says why', () => {
    expect(run(0, 'warehouse')).toMatchObject({ created: before.profiles.size, deleted: 0 });
    expect(run(0, 'newsletter').created).toBe(before.members.get('newsletter')?.size);
    const crm = run(0, 'crm');
    expect(crm.created).toBe(0);
    expect(Object.keys(crm.skipped)).toEqual([NO_CREATE]);
    // every VIP either had a contact (updated) or was skipped
    expect(crm.updated + (crm.skipped[NO_CREATE] ?? 0)).toBe(before.members.get('vip')?.size);
    expect(crm.updated).toBeGreaterThan(0);
  });

  it('second run: warehouse deletes the deleted profiles, newsletter deletes nobody', () => {
    const deleted = [...before.profiles.keys()].filter((id) => !after.profiles.has(id));
    expect(deleted.length).toBeGreaterThan(0);
    expect(run(1, 'warehouse').deleted).toBe(deleted.length);
    expect(run(1, 'newsletter').deleted).toBe(0);
    expect(run(1, 'crm')).toMatchObject({ created: 0, deleted: 0 });
  });

  it('warehouse holds exactly the live profiles, keyed by their current email, with their lists', () => {
    const held = records(join(dir, 'warehouse.db'), 'customers');
    const names = { vip: 'VIP', newsletter: 'Newsletter', trial: 'Trial' };
    expect(sorted(held.keys())).toEqual(sorted([...after.profiles.keys()].map((id) => emailOf(after, id))));
    for (const [id, p] of after.profiles) {
      const r = held.get(p.email as string);
      expect(r?.groups).toEqual(managed(after, id, names));
      expect(r?.row).toMatchObject({ first_name: p.firstName, ltv: p.lifetimeValue, plan: p.plan });
    }
  });

  it('newsletter keeps everyone who was ever a member; those who left keep their row but lose VIP', () => {
    const held = records(join(dir, 'newsletter.db'), 'subscribers');
    const now = after.members.get('newsletter') ?? new Set<string>();
    const ever = new Set([...(before.members.get('newsletter') ?? []), ...now]);
    const expected = new Map(
      [...ever].map((id) => [
        now.has(id) ? emailOf(after, id) : emailOf(before, id),
        now.has(id) ? managed(after, id, { vip: 'VIP' }) : [],
      ]),
    );
    expect(sorted(held.keys())).toEqual(sorted(expected.keys()));
    for (const [key, groups] of expected) expect(held.get(key)?.groups).toEqual(groups);
  });

  it('crm keeps its own contacts only, updates the VIPs among them, and every Partner tag survives', () => {
    const held = records(join(dir, 'crm.db'), 'contacts');
    expect(held.size).toBe(report.seeded.contacts);
    const partners = [...held.values()].filter((r) => r.groups.includes('Partner'));
    expect(partners.length).toBe(report.seeded.tagged);
    expect(partners.length).toBeGreaterThan(0);
    const vipByEmail = new Map([...(after.members.get('vip') ?? [])].map((id) => [emailOf(after, id), id]));
    let vips = 0;
    for (const [key, r] of held) {
      const id = vipByEmail.get(key);
      const groups = id === undefined ? [] : managed(after, id, { vip: 'VIP', newsletter: 'Newsletter' });
      expect(r.groups.filter((g) => g !== 'Partner')).toEqual(groups);
      // a column syncline does not map is left as the CRM had it
      expect(r.row.source).toEqual(expect.any(String));
      if (id !== undefined) {
        vips++;
        expect(r.row.ltv).toBe(after.profiles.get(id)?.lifetimeValue);
      }
    }
    expect(vips).toBeGreaterThan(0);
  });

  it('leaves a workspace where `syncline sync` finds nothing to do', async () => {
    const r = await runCli(['sync', '--json'], { cwd: dir });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { destinations: Summary[] };
    expect(out.destinations.map((d) => d.destinationId).sort()).toEqual([...DESTINATIONS].sort());
    for (const d of out.destinations)
      expect(d.totals).toMatchObject({ created: 0, updated: 0, deleted: 0, failed: 0, skipped: {} });
  });
});

describe('syncline demo, as a person runs it', () => {
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  beforeAll(async () => {
    tmp = await tempDir();
  });
  afterAll(() => tmp.remove());

  it('prints what happened to each destination and what to try next, and can be run again', async () => {
    const first = await runCli(['demo', 'here'], { cwd: tmp.path });
    expect(first.code).toBe(0);
    await writeFile(join(tmp.path, 'here', 'notes.txt'), 'left over');
    const again = await runCli(['demo', 'here'], { cwd: tmp.path });
    expect(again.stderr).toBe('');
    expect(again.code).toBe(0);
    for (const id of DESTINATIONS) expect(again.stdout).toContain(id);
    expect(again.stdout).toContain('Try next');
    expect(again.stdout).toContain('cd here');
    expect(again.stdout).toContain(NO_CREATE);
    // recreated, not added to: the stray file is gone and the first run's rows are not doubled
    expect(existsSync(join(tmp.path, 'here', 'notes.txt'))).toBe(false);
    const db = new Database(join(tmp.path, 'here', 'crm.db'), { readonly: true });
    const partners = db
      .prepare("SELECT count(*) FROM contacts_groups WHERE group_name = 'Partner'")
      .pluck()
      .get();
    db.close();
    expect(again.stdout).toContain(`${String(partners)} still tagged Partner`);
  });

  it('refuses a directory it did not make, and leaves it as it was', async () => {
    const mine = join(tmp.path, 'mine');
    await mkdir(mine);
    await writeFile(join(mine, 'thesis.txt'), 'precious');
    const r = await runCli(['demo', 'mine'], { cwd: tmp.path });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^syncline: mine already exists and is not a syncline demo directory/);
    expect(readdirSync(mine)).toEqual(['thesis.txt']);
    expect(readFileSync(join(mine, 'thesis.txt'), 'utf8')).toBe('precious');
  });
});

/** The commands under "Try next:", without their `# why` comments. */
const tryNext = (stdout: string): string[] => {
  const lines = stdout.split('\n');
  const after = lines.slice(lines.indexOf('Try next:') + 1);
  const end = after.findIndex((l) => l.trim() === '');
  return after.slice(0, end).map((l) => l.replace(/\s+# .*$/, '').trim());
};

/** A command line as a person types it into a POSIX shell, from `cwd`; npm stays offline. */
const typed = (command: string, cwd: string): Promise<CliResult> =>
  new Promise((resolve) => {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      npm_config_offline: 'true',
      npm_config_update_notifier: 'false',
    };
    delete env.SYNCLINE_STORE;
    execFile(
      'sh',
      ['-c', command],
      { cwd, env, encoding: 'utf8', timeout: 60_000 },
      (error, stdout, stderr) =>
        resolve({
          code: error === null ? 0 : typeof error.code === 'number' ? error.code : -1,
          stdout,
          stderr,
        }),
    );
  });

describe("the demo's Try next commands, run exactly as printed", () => {
  it('given the demo run inside a clone, when each printed command is typed after the printed cd, then it works, through npx', async () => {
    const dir = `.vitest-tmp/demo-${randomUUID().slice(0, 8)}`;
    await mkdir(join(REPO_ROOT, '.vitest-tmp'), { recursive: true });
    onTestFinished(() => rm(join(REPO_ROOT, dir), { recursive: true, force: true }));
    const demo = await runCli(['demo', dir], { cwd: REPO_ROOT });
    expect(demo.code).toBe(0);
    const [cd, ...commands] = tryNext(demo.stdout);
    expect(cd).toBe(`cd ${dir}`);
    expect(commands.length).toBeGreaterThanOrEqual(6);
    for (const command of commands) {
      expect(command).toMatch(/^npx syncline /);
      const r = await typed(`${cd} && ${command}`, REPO_ROOT);
      expect([command, r.code, r.stderr.includes('syncline:')]).toStrictEqual([command, 0, false]);
      expect(r.stdout).not.toBe('');
    }
  }, 120_000);

  it('given the demo run outside any clone, when each printed command is typed after the printed cd, then it works, through node', async () => {
    const tmp = await tempDir();
    onTestFinished(() => tmp.remove());
    const demo = await runCli(['demo', 'elsewhere'], { cwd: tmp.path });
    expect(demo.code).toBe(0);
    const [cd, ...commands] = tryNext(demo.stdout);
    expect(cd).toBe('cd elsewhere');
    for (const command of commands) {
      expect(command.startsWith(`node ${CLI_PATH} `)).toBe(true);
      const r = await typed(`${cd} && ${command}`, tmp.path);
      expect([command, r.code, r.stderr]).toStrictEqual([command, 0, '']);
    }
  }, 120_000);
});
