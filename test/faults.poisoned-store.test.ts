// Fault injection: a store holding an event written past every check (raw SQL, as a damaged copy or
// another tool would write it). Every command stops naming its position and type, never crashing.
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { created, lines, workspace, type Workspace } from './support/ingestFaults.js';

describe('a store holding an event written past the checks', () => {
  /** Inserts an event with raw SQL, as something bypassing every check would; returns its position. */
  const poison = (w: Workspace, stream: string, type: string, data: unknown): number => {
    const db = new Database(w.storePath);
    try {
      const revision = db
        .prepare('SELECT coalesce(max(revision), -1) + 1 FROM events WHERE stream = ?')
        .pluck()
        .get(stream);
      const insert = db.prepare(
        `INSERT INTO events (stream, revision, id, type, data, occurred_at, recorded_at)
         VALUES (?, ?, ?, ?, ?, '2024-01-01', '2024-01-01')`,
      );
      const position = Number(
        insert.run(stream, revision, `poison-${stream}`, type, JSON.stringify(data)).lastInsertRowid,
      );
      // Tagged as the engine tags a batch, so that the readers of p1's story read it too.
      if (stream.startsWith('sync-'))
        db.prepare('INSERT INTO event_tags (tag, position) VALUES (?, ?)').run(`${stream}/p1`, position);
      return position;
    } finally {
      db.close();
    }
  };

  describe.each([
    [
      'a ProfilePropertiesChanged whose set is a string and unset a number',
      'profile-p1',
      'ProfilePropertiesChanged',
      { profileId: 'p1', set: 'notanobject', unset: 5 },
      'data.set: "notanobject" is not an object; data.unset: 5 is not an array',
    ],
    [
      "a BatchDecided in crm's sync stream whose decisions are not a list",
      'sync-crm',
      'BatchDecided',
      {
        runId: 'r',
        position: 1,
        profileIds: ['p1'],
        keys: [],
        observed: [],
        decisions: 5,
        decidedAt: '2024-01-01',
      },
      'data.decisions: 5 is not an array',
    ],
  ])('given %s', (_, stream, type, data, problems) => {
    let w: Workspace;
    let expected = '';
    beforeAll(async () => {
      w = await workspace();
      expect((await w.cli(['sync'])).code).toBe(0);
      await w.put('more.jsonl', lines(created('p3')));
      const position = poison(w, stream, type, data);
      expected = `syncline: the store's event at position ${position} (${type} in ${stream}) is not valid: ${problems}\n`;
    });
    afterAll(() => w.dir.remove());

    it.each([
      ['status'],
      ['plan'],
      ['sync'],
      ['log', '--destination', 'crm'],
      ['explain', '--destination', 'crm', '--profile', 'p1'],
      ['replay', '--destination', 'crm'],
      ['ingest', 'more.jsonl'],
      ['apply'],
      ['retry', '--destination', 'crm'],
    ])(
      'when `%s` runs, then it exits 1 naming the event, and the store is unchanged',
      async (...args: string[]) => {
        const before = w.rows();
        expect(await w.cli(args)).toEqual({ code: 1, stdout: '', stderr: expected });
        expect(w.rows()).toEqual(before);
      },
    );

    it('when `status --rebuild-state` folds the store from its first event, then it exits 1 naming the event after the line saying it rebuilds, and the store is unchanged', async () => {
      const before = w.rows();
      const r = await w.cli(['status', '--rebuild-state']);
      expect({ code: r.code, stdout: r.stdout }).toStrictEqual({ code: 1, stdout: '' });
      const [notice, ...rest] = r.stderr.split('\n');
      expect(notice).toMatch(
        /^syncline: rebuilding the engine state in \S+events\.state\.db from the store, as asked$/,
      );
      expect(rest.join('\n')).toBe(expected);
      expect(w.rows()).toEqual(before);
    });
  });

  describe('given an event whose stored data is not JSON (a damaged page, or text written past the store)', () => {
    let w: Workspace;
    let position = 0;
    beforeAll(async () => {
      w = await workspace();
      expect((await w.cli(['sync'])).code).toBe(0);
      await w.put('more.jsonl', lines(created('p3')));
      position = poison(w, 'profile-p1', 'ProfilePropertiesChanged', {});
      const db = new Database(w.storePath);
      db.prepare('UPDATE events SET data = ? WHERE rowid = ?').run('{"profileId": "p1", "set": {', position);
      db.close();
    });
    afterAll(() => w.dir.remove());

    it.each([['status'], ['plan'], ['sync'], ['ingest', 'more.jsonl']])(
      'when `%s` runs, then it exits 1 saying the store could not be read at that position and how to check it, once, and the store is unchanged',
      async (...args: string[]) => {
        const before = w.rows();
        expect(await w.cli(args)).toEqual({
          code: 1,
          stdout: '',
          stderr:
            `syncline: the store could not be read: the store's event at position ${position} does not hold ` +
            'JSON data: the store is damaged; `syncline status --check` checks it for damage\n',
        });
        expect(w.rows()).toEqual(before);
      },
    );
  });
});
