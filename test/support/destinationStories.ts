// The operator's main job end to end with the built CLI, told once for every destination type: three
// destinations (one per mode), two rounds of changes, each destination's tables read after each sync.
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { RunSummary } from '../../engine/sync/summary.js';
import { runCli, tempDir, type CliResult } from './cli.js';
import {
  afterFirstRound,
  afterSecondRound,
  DESTINATIONS,
  FIRST_ROUND,
  jsonl,
  NO_CREATE,
  P21_FIXED,
  secondRound,
  type DestinationId,
  type Tables,
} from './customerRounds.js';
import type { StoreKind } from './storeKinds.js';

/** A destination type the stories run against: how the config names it, and its tables, read from outside syncline. */
export type DestinationKind = {
  readonly type: 'sqlite' | 'postgres' | 'mysql';
  /** the `options` of destination `id`: where its table is */
  readonly options: (id: DestinationId) => Record<string, unknown>;
  /** the variables the CLI runs with (a connection URL the options name by variable) */
  readonly env?: () => Record<string, string>;
  /** a password in `env` that nothing the CLI prints may hold */
  readonly password?: string;
  /**
   * Before the first story, in the world's directory or beside it: the CRM's own typed tables,
   * holding crmHoldings, and whatever else the kind's world holds.
   */
  readonly setUp: (dir: string) => Promise<void>;
  readonly tearDown: () => Promise<void>;
  /** the tables where the destinations' tables are, by name */
  readonly tableNames: () => Promise<string[]>;
  /** what tableNames shows before syncline writes anything: the user's own tables */
  readonly ownTables: readonly string[];
  /** destination `id`'s rows (values in their JSON type) and groups, in the order Tables says */
  readonly tables: (id: DestinationId) => Promise<Tables>;
  /** a first name the warehouse's own trigger refuses, and the message it refuses with, if it has one */
  readonly warehouseRefuses?: { readonly firstName: string; readonly message: string };
};

/** The event store of a world: the file `events.db` in its directory, unless the stories are told per store. */
export type StoryStore = Pick<StoreKind, 'freshUrl' | 'densePositions' | 'dropStores'>;
const EVENTS_FILE: StoryStore = {
  freshUrl: () => 'sqlite:events.db',
  densePositions: true,
  dropStores: () => Promise.resolve(),
};

export type Status = {
  head: number;
  state: { path: string };
  destinations: { destinationId: string; lag: { profiles: number } }[];
};
type Synced = { destinations: RunSummary[] };

/** The world the stories run in, for a destination's own stories after them. */
export type JobWorld = {
  /** the directory the CLI runs in: the config, the rounds' files, a store in a file */
  readonly dir: () => string;
  readonly storeUrl: () => string;
  readonly cli: (...args: string[]) => Promise<CliResult>;
  /** the command's --json output, once it printed nothing else and exited 0 */
  readonly ok: (...args: string[]) => Promise<unknown>;
  readonly status: () => Promise<Status>;
};

/** Registers the stories of the job with destinations of `kind` (in the calling describe); returns their world. */
export const destinationStories = (kind: DestinationKind, store: StoryStore = EVENTS_FILE): JobWorld => {
  let dir: Awaited<ReturnType<typeof tempDir>> | undefined;
  let url = '';
  const refused = kind.warehouseRefuses;
  const unseen = (printed: string) => {
    if (kind.password !== undefined) expect(printed).not.toContain(kind.password);
  };
  const cli = (...args: string[]): Promise<CliResult> =>
    runCli(args, { cwd: dir?.path ?? '', env: kind.env?.() ?? {} });
  const ok = async (...args: string[]): Promise<unknown> => {
    const r = await cli(...args, '--json');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    unseen(r.stdout);
    return JSON.parse(r.stdout);
  };
  const status = async (): Promise<Status> => (await ok('status')) as Status;
  const tablesAre = async (expected: (id: DestinationId) => Tables) => {
    for (const { destinationId } of DESTINATIONS)
      expect(await kind.tables(destinationId), destinationId).toEqual(expected(destinationId));
  };
  const decidesNothing = async (...args: string[]) => {
    for (const d of ((await ok('sync', ...args)) as Synced).destinations)
      expect(d.totals).toMatchObject({ created: 0, updated: 0, deleted: 0, failed: 0 });
  };

  beforeAll(async () => {
    dir = await tempDir();
    url = store.freshUrl();
    const destinations = DESTINATIONS.map(({ destinationId, syncMode }) => ({
      destinationId,
      type: kind.type,
      syncMode,
      collection: { kind: 'group', groupId: 'customers' },
      keyField: 'email',
      mapping: { email: 'email', first_name: 'firstName', ltv: 'ltv' },
      groupMapping: { customers: 'Customers', vip: 'VIP' },
      options: kind.options(destinationId),
    }));
    await dir.write('syncline.config.json', { store: url, destinations });
    await dir.write('round1.jsonl', jsonl(FIRST_ROUND));
    await dir.write('round2.jsonl', jsonl(secondRound(refused?.firstName)));
    if (refused) await dir.write('fix.jsonl', jsonl(P21_FIXED));
    await kind.setUp(dir.path);
  });
  afterAll(async () => {
    await dir?.remove();
    await kind.tearDown();
    await store.dropStores();
  });

  it('given the config, when validated, then every destination is checked and nothing is created', async () => {
    expect(await ok('validate')).toMatchObject({ valid: true });
    expect(await kind.tableNames()).toEqual(kind.ownTables);
  });

  it('given a valid config, when applied twice, then the second run records nothing and the head stays', async () => {
    const ids = DESTINATIONS.map((d) => d.destinationId);
    expect(await ok('apply')).toEqual({ added: ids, changed: [], unchanged: [], missing: [], removed: [] });
    const head = (await status()).head;
    expect(await ok('apply')).toEqual({ added: [], changed: [], unchanged: ids, missing: [], removed: [] });
    expect((await status()).head).toBe(head);
  });

  it('given a JSONL file, when ingested, then every line is appended', async () => {
    expect(await ok('ingest', 'round1.jsonl')).toEqual({ lines: 43, appended: 43, duplicates: 0 });
  });

  it('given the profiles ingested, when planned, then nothing is created yet', async () => {
    await ok('plan');
    expect(await kind.tableNames()).toEqual(kind.ownTables);
  });

  it('when synced, then sync and additive create the customers and enrich only updates what exists', async () => {
    const r = (await ok('sync')) as { destinations: Record<string, unknown>[] };
    const firstRun = (totals: Partial<RunSummary['totals']>) => ({
      reason: 'first-run',
      considered: 20,
      totals: { created: 0, updated: 0, deleted: 0, skipped: {}, failed: 0, unchanged: 4, ...totals },
      failures: [],
    });
    expect(r.destinations.map(({ runId: _runId, ...counts }) => counts)).toEqual([
      { destinationId: 'warehouse', mode: 'sync', ...firstRun({ created: 16 }) },
      { destinationId: 'mailing', mode: 'additive', ...firstRun({ created: 16 }) },
      { destinationId: 'crm', mode: 'enrich', ...firstRun({ updated: 2, skipped: { [NO_CREATE]: 14 } }) },
    ]);
    await tablesAre(afterFirstRound);
  });

  it('given nothing changed, when synced again, then nothing is decided', async () => {
    for (const d of ((await ok('sync')) as Synced).destinations)
      expect(d).toMatchObject({
        considered: 0,
        totals: { created: 0, updated: 0, deleted: 0, skipped: {}, failed: 0 },
      });
  });

  it('given nothing changed, when synced in full, then every value reads back as written and nothing is decided', async () => {
    await decidesNothing('--full');
  });

  it('after a sync the status shows each last run and no lag; after an ingest, lag', async () => {
    const after = await status();
    expect(after.destinations.map((d) => [d.destinationId, d.lag.profiles])).toEqual([
      ['crm', 0],
      ['mailing', 0],
      ['warehouse', 0],
    ]);
    // the first sync, the one that found nothing to do, and the full one
    expect(after.destinations[0]).toMatchObject({
      runs: 3,
      lastRun: { mode: 'enrich', totals: { created: 0, updated: 0 } },
      openRun: null,
      failures: { waiting: 0, retryable: 0, terminal: 0 },
      pending: 0,
      lag: { profiles: 0, configChanged: false },
    });
    expect(await ok('ingest', 'round2.jsonl')).toEqual({ lines: 7, appended: 7, duplicates: 0 });
    const lagging = await status();
    if (store.densePositions) expect(lagging.head).toBe(after.head + 7);
    else expect(lagging.head).toBeGreaterThan(after.head);
    // p03, p04, p05, p06, p07 and p21 changed.
    for (const d of lagging.destinations) expect(d.lag).toEqual({ profiles: 6, configChanged: false });
  });

  it(`when the changes are synced, then each mode treats leavers, renames and deletions its own way${refused ? ', and the refused row fails alone' : ''}`, async () => {
    const r = await cli('sync', '--json');
    expect([r.code, r.stderr]).toEqual(
      refused
        ? [1, 'syncline: 1 command failed in warehouse; see syncline log, then syncline retry\n']
        : [0, ''],
    );
    unseen(r.stdout);
    const synced = (JSON.parse(r.stdout) as Synced).destinations;
    expect(
      synced.map(({ destinationId, considered, totals: t }) => [
        destinationId,
        considered,
        t.created,
        t.updated,
        t.deleted,
        t.skipped,
        t.failed,
      ]),
    ).toEqual([
      ['warehouse', 6, refused ? 0 : 1, 3, 2, {}, refused ? 1 : 0],
      ['mailing', 6, 1, 5, 0, {}, 0],
      ['crm', 6, 0, 2, 0, { [NO_CREATE]: 3 }, 0],
    ]);
    if (refused) expect(JSON.stringify(synced[0]?.failures)).toContain(refused.message);
    await tablesAre((id) => afterSecondRound(id, refused?.firstName));
    for (const d of (await status()).destinations) expect(d.lag.profiles).toBe(0);
  });

  if (refused)
    it('given the refused profile is fixed, when synced, then the warehouse converges', async () => {
      await ok('ingest', 'fix.jsonl');
      expect(((await ok('sync')) as Synced).destinations[0]?.totals).toMatchObject({ created: 1, failed: 0 });
      expect(await kind.tables('warehouse')).toEqual(afterSecondRound('warehouse'));
    });

  it('given every change synced, when synced in full, then nothing is decided', async () => {
    await decidesNothing('--full');
  });

  return {
    dir: () => dir?.path ?? '',
    storeUrl: () => url,
    cli,
    ok,
    status,
  };
};
