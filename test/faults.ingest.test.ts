// Fault injection, the ingest class, with the built CLI: bad bytes and shapes in a file or on stdin
// are refused naming the line with the store's rows unchanged, a file changing under ingest stores
// nothing, and a writer beside a long ingest waits for its write lock and says so.
import { execFileSync } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { holdWriteLock } from './support/lockHolder.js';
import {
  changedAt,
  created,
  crm,
  jsonError,
  lines,
  wrongTypes,
  workspace,
  type Workspace,
} from './support/ingestFaults.js';

const bytes = (...parts: (string | number[])[]): Buffer =>
  Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : Buffer.from(p))));

describe('ingest refuses bad bytes and shapes, naming the line, and stores nothing', () => {
  let w: Workspace;
  beforeAll(async () => {
    w = await workspace();
  });
  afterAll(() => w.dir.remove());

  /** ingest FILE (and the same bytes on stdin) exits 1 with exactly these lines, the store as it was. */
  const refused = async (content: Buffer, problems: readonly string[]) => {
    const before = w.rows();
    await w.put('bad.jsonl', content);
    const expected = { code: 1, stdout: '', stderr: lines(...problems) };
    expect(await w.cli(['ingest', 'bad.jsonl'])).toEqual(expected);
    expect(await w.cli(['ingest', '-'], content)).toEqual(expected);
    expect(w.rows()).toEqual(before);
  };

  const [before, after] = created('p4', 'caf#@x.io').split('#') as [string, string];
  const cut = '{"type":"GroupCreated","data":{"groupId":"g","name":"';
  const rawNul = created('p4', 'a#b@x.io').replace('#', '\u0000');
  it.each([
    [
      'an email with a Latin-1 é',
      bytes(lines(created('p3')), before, [0xe9], `${after}\n`),
      [`line 2: not valid UTF-8 (at byte ${before.length + 1} of the line: 0xE9)`],
    ],
    [
      'a file cut in the middle of a character',
      bytes(lines(created('p3')), cut, [0xe2, 0x82]),
      [`line 2: not valid UTF-8 (at byte ${cut.length + 1} of the line: 0xE2)`],
    ],
    [
      'a gzip file',
      bytes([0x1f, 0x8b, 0x08, 0x00, 0x00, 0x0a]),
      ['line 1: not valid UTF-8 (at byte 2 of the line: 0x8B)'],
    ],
    [
      'a NUL byte in a string',
      bytes(lines(created('p3'), rawNul)),
      [`line 2: not valid JSON (${jsonError(rawNul)})`],
    ],
    [
      'a NUL byte between values',
      bytes(lines('{"type":"ProfileDeleted",\u0000"data":{"profileId":"p1"}}')),
      [`line 1: not valid JSON (${jsonError('{"type":"ProfileDeleted",\u0000"data":{"profileId":"p1"}}')})`],
    ],
    [
      'a byte-order mark starting line 2',
      bytes(lines(created('p3'), `\uFEFF${created('p4')}`)),
      [`line 2: not valid JSON (${jsonError(`\uFEFF${created('p4')}`)})`],
    ],
    [
      'two events on one line parted by a lone carriage return',
      bytes(lines(`${created('p3')}\r${created('p4')}`)),
      [`line 1: not valid JSON (${jsonError(`${created('p3')}\r${created('p4')}`)})`],
    ],
    [
      'a last line cut short',
      bytes(lines(created('p3')), '{"type":"ProfileCreated","data":{"profileId":"p4","prop'),
      [`line 2: not valid JSON (${jsonError('{"type":"ProfileCreated","data":{"profileId":"p4","prop')})`],
    ],
    [
      'CRLF and LF line ends mixed, a bad line 3',
      bytes(`${created('p3')}\r\n\n{"type":"ProfileDeleted","data":{"profileId":"p9"}}\r\n`),
      ['line 3: data.profileId: profile p9 does not exist'],
    ],
    [
      'a number too large for a double (1e400 reads as Infinity)',
      bytes(lines('{"type":"ProfileCreated","data":{"profileId":"p3","properties":{"n":1e400}}}')),
      ['line 1: data.properties.n: must be a string, number, boolean, null, or an array of those'],
    ],
  ])('given %s', async (_, content, problems) => {
    await refused(content, problems);
  });

  it.each([
    [
      'a property value',
      '{"type":"ProfileCreated","data":{"profileId":"p3","properties":{"a":#}}}',
      'data.properties.a: must be a string, number, boolean, null, or an array of those',
    ],
    [
      'an id',
      '{"type":"ProfileDeleted","data":{"profileId":#}}',
      'data.profileId: an array nested too deeply to show is not a string',
    ],
    [
      'a field no event has',
      '{"type":"ProfileDeleted","data":{"profileId":"p1"},"x":#}',
      'x: is not a known field (expected type, data, id, occurredAt)',
    ],
    [
      'a destination option',
      `{"type":"DestinationConfigured","data":${JSON.stringify({ ...crm, options: { path: 'x' } }).replace('"x"', '#')}}`,
      'data.options.path: nests deeper than 32 levels',
    ],
  ])('given %s nested 100,000 levels deep', async (_, template, problem) => {
    await refused(bytes(lines(template.replace('#', `${'['.repeat(100_000)}1${']'.repeat(100_000)}`))), [
      `line 1: ${problem}`,
    ]);
  });

  describe('given a wrong type in each field of each event type', () => {
    it.each(wrongTypes.map(([event, fields]) => [(event as { type: string }).type, event, fields] as const))(
      'given %s, then each line is named with the field',
      async (_, event, fields) => {
        const content = lines(
          ...fields.map(([path, value]) => JSON.stringify(changedAt(event, path, value))),
        );
        const before = w.rows();
        await w.put('types.jsonl', content);
        const r = await w.cli(['ingest', 'types.jsonl']);
        expect(r).toMatchObject({ code: 1, stdout: '' });
        const reported = r.stderr.trimEnd().split('\n');
        expect(reported.map((l) => /^line (\d+): /.exec(l)?.[1])).toEqual(
          fields.map((_, i) => String(i + 1)),
        );
        reported.forEach((l, i) => expect(l.startsWith(`line ${i + 1}: ${fields[i]?.[0]}: `), l).toBe(true));
        expect(w.rows()).toEqual(before);
      },
    );
  });

  describe('given an id already used for a different event', () => {
    const ID = '7d0c9f5e-2b8a-4e1f-9c3d-5a6b7c8d9e0f';
    const OTHER = '0b5d1c2e-3f4a-4b5c-8d6e-7f8a9b0c1d2e';
    const event = (id: string, profileId: string, email: string) =>
      JSON.stringify({ id, ...(JSON.parse(created(profileId, email)) as object) });
    beforeAll(async () => {
      await w.put('first.jsonl', lines(event(ID, 'p5', 'p5@x.io')));
      expect((await w.cli(['ingest', 'first.jsonl'])).code).toBe(0);
    });

    it('in the store, then the line, the id and the stored position are named', async () => {
      const position = w.rows().length;
      await refused(bytes(lines(created('p6'), event(ID, 'p5', 'evil@x.io'))), [
        `line 2: id: ${ID} is already stored for a different event at position ${position} (its data differs)`,
      ]);
    });

    it('earlier in the same file, then both lines are named', async () => {
      await refused(
        bytes(lines(event(OTHER, 'p20', 'a@x.io'), created('p6'), event(OTHER, 'p20', 'b@x.io'))),
        [`line 3: id: ${OTHER} is already used by line 1 for a different event (its data differs)`],
      );
    });

    it('but the same event again, keys in another order, then it is left out and counted', async () => {
      const same = JSON.stringify({
        data: { properties: { email: 'p5@x.io' }, profileId: 'p5' },
        type: 'ProfileCreated',
        id: ID,
      });
      await w.put('again.jsonl', lines(same));
      const before = w.rows();
      expect(await w.cli(['ingest', 'again.jsonl'])).toEqual({
        code: 0,
        stdout: 'ingested 0 events from again.jsonl (1 already stored)\n',
        stderr: '',
      });
      expect(w.rows()).toEqual(before);
    });
  });

  it('given a byte-order mark, CRLF line ends and no final newline, then the events are stored as written', async () => {
    const before = w.rows().length;
    await w.put('bom.jsonl', bytes('\uFEFF', `${created('p10')}\r\n`, created('p11', 'zoë@x.io')));
    expect(await w.cli(['ingest', 'bom.jsonl'])).toEqual({
      code: 0,
      stdout: 'ingested 2 events from bom.jsonl\n',
      stderr: '',
    });
    const added = w
      .rows()
      .slice(before)
      .map((r) => (JSON.parse(r) as { data: string }).data);
    expect(added).toEqual([
      '{"profileId":"p10","properties":{"email":"p10@example.com"}}',
      '{"profileId":"p11","properties":{"email":"zoë@x.io"}}',
    ]);
  });

  it('given integers past 2^53 and numbers below the smallest double, then they are stored as JSON.parse reads them: rounded (send such values as strings)', async () => {
    const before = w.rows().length;
    await w.put(
      'numbers.jsonl',
      lines(
        '{"type":"ProfileCreated","data":{"profileId":"p12","properties":{"account":12345678901234567890,"tiny":1e-400,"neg":-0}}}',
      ),
    );
    expect((await w.cli(['ingest', 'numbers.jsonl'])).code).toBe(0);
    expect(
      w
        .rows()
        .slice(before)
        .map((r) => (JSON.parse(r) as { data: string }).data),
    ).toEqual(['{"profileId":"p12","properties":{"account":12345678901234567000,"tiny":0,"neg":0}}']);
  });
});

describe('a file that changes while it is ingested', () => {
  const mkfifo = (() => {
    try {
      execFileSync('mkfifo', ['--version'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  })();
  // A named pipe hands ingest one text at its first reading and another at its second: deterministic.
  it.skipIf(!mkfifo)(
    'given a file larger than ingest keeps in memory that gains a bad line between the check and the append, then nothing is stored and it says the file changed',
    async () => {
      const w = await workspace();
      try {
        const path = join(w.dir.path, 'growing.jsonl');
        execFileSync('mkfifo', [path]);
        const checked = `${Array.from({ length: 200_001 }, (_, i) => created(`q${i}`)).join('\n')}\n`;
        const poison =
          '{"type":"ProfilePropertiesChanged","data":{"profileId":"p1","set":"notanobject","unset":5}}\n';
        const before = w.rows();
        const ingesting = w.cli(['ingest', 'growing.jsonl']);
        for (const text of [checked, checked + poison]) {
          const pipe = createWriteStream(path);
          // The second reading may stop at the chunk that changed and close the pipe before the
          // rest is written: the writer's EPIPE then is the ingest doing its job early.
          pipe.on('error', (e: NodeJS.ErrnoException) => {
            if (e.code !== 'EPIPE') throw e;
          });
          const closed = new Promise<void>((resolve) => pipe.on('close', () => resolve()));
          pipe.end(text);
          await closed;
        }
        expect(await ingesting).toEqual({
          code: 1,
          stdout: '',
          stderr:
            'syncline: growing.jsonl changed while it was being ingested: nothing was stored; ingest it again once it is complete\n',
        });
        expect(w.rows()).toEqual(before);
      } finally {
        await w.dir.remove();
      }
    },
    60_000,
  );
});

describe('a writer beside a long ingest', () => {
  it("given another process holding the store's write lock for 7 s, when sync runs, then it says it waits, waits, and syncs", async () => {
    const w = await workspace();
    try {
      const holder = holdWriteLock(w.storePath, 7000);
      await holder.locked;
      const start = Date.now();
      const r = await w.cli(['sync']);
      expect(Date.now() - start).toBeGreaterThanOrEqual(6000);
      expect(r.code).toBe(0);
      expect(r.stderr).toBe(
        'syncline: waiting for another process writing to the store (an ingest or a sync)…\n',
      );
      expect(r.stdout).toMatch(/^crm \(sync\): 2 profiles considered — 2 created/);
      await holder.exited;
    } finally {
      await w.dir.remove();
    }
  }, 30_000);
});
