// A KurrentDB server lost in the middle of a run: the run ends as a crash would, naming the server and
// never the URL's password, and once the server is back the next run converges with nothing lost.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { population } from '../adapters/demo/people.js';
import { demoDestinations } from '../adapters/demo/scenario.js';
import { startStandIn } from './kurrentdb/standIn.js';
import { CLI_PATH, runCli, tempDir } from './support/cli.js';

const PROFILES = 3000;

describe('a KurrentDB server lost mid-run', () => {
  it('given a first sync of 3,000 profiles under way, when the server stops, then the sync exits 1 saying it cannot reach the store (no password); when the server is back, then sync converges: every profile is in the warehouse, and a further sync decides nothing', async () => {
    let server = await startStandIn();
    const tmp = await tempDir();
    try {
      const url = `kurrentdb://admin:hunter2@${server.url.slice('kurrentdb://'.length)}&discoveryInterval=10&prefix=lost-`;
      const warehouse = { ...demoDestinations[0], options: { path: 'warehouse.db', table: 'customers' } };
      await tmp.write('syncline.config.json', { store: url, destinations: [warehouse] });
      const events = [...population(PROFILES)];
      writeFileSync(join(tmp.path, 'people.jsonl'), events.map((e) => JSON.stringify(e)).join('\n'));
      expect((await runCli(['apply'], { cwd: tmp.path })).code).toBe(0);
      expect((await runCli(['ingest', 'people.jsonl'], { cwd: tmp.path })).code).toBe(0);

      const child = spawn(process.execPath, [CLI_PATH, 'sync', '--batch-size', '100'], { cwd: tmp.path });
      let stderr = '';
      child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
      const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
      // The server goes once the run has recorded a few batches of decisions.
      const decided = () => (server.log.readable('lost-sync-warehouse') ?? []).length;
      while (decided() < 5) await new Promise((resolve) => setTimeout(resolve, 5));
      const { log, port } = server;
      await server.close();
      expect(await exited).toBe(1);
      expect(stderr).toMatch(/^syncline: .*cannot reach the store at kurrentdb:\/\/127\.0\.0\.1:\d+/m);
      expect(stderr).not.toContain('hunter2');

      server = await startStandIn({ restart: { log, port } });
      const again = await runCli(['sync', '--json'], { cwd: tmp.path });
      expect(again.code).toBe(0);
      const db = new Database(join(tmp.path, 'warehouse.db'), { readonly: true });
      const rows = db.prepare('SELECT count(*) FROM customers').pluck().get() as number;
      db.close();
      const created = new Set(events.flatMap((e) => (e.type === 'ProfileCreated' ? [e.data.profileId] : [])));
      expect(rows).toBe(created.size);
      const further = await runCli(['sync', '--json'], { cwd: tmp.path });
      expect(
        (JSON.parse(further.stdout) as { destinations: { considered: number }[] }).destinations,
      ).toMatchObject([{ considered: 0 }]);
    } finally {
      await server.close();
      await tmp.remove();
    }
  });
});
