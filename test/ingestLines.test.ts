// How ingest reads a file's bytes: lines end at \n (CRLF read as LF), a leading byte-order mark is
// dropped, invalid UTF-8 is named by line, and each chunk's digest depends on its bytes alone.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { chunksOf, invalidUtf8At, type Chunk } from '../engine/input/ingestLines.js';

/** The chunks read from `bytes` handed over in pieces cut at `cuts` (offsets into it). */
const read = async (bytes: Buffer, size: number, cuts: readonly number[] = []): Promise<Chunk[]> => {
  const at = [...new Set(cuts.filter((c) => c > 0 && c < bytes.length))].sort((a, b) => a - b);
  async function* pieces(): AsyncGenerator<Uint8Array> {
    let from = 0;
    for (const to of [...at, bytes.length]) {
      await Promise.resolve();
      yield new Uint8Array(bytes.subarray(from, to));
      from = to;
    }
  }
  const out: Chunk[] = [];
  for await (const chunk of chunksOf(pieces(), size)) out.push(chunk);
  return out;
};

const linesOf = (chunks: readonly Chunk[]) => chunks.flatMap((c) => c.lines);

describe('reading a JSONL file as lines', () => {
  it('given LF, CRLF and a final line without its end, then the lines are numbered as an editor shows them, blank ones left out', async () => {
    const chunks = await read(Buffer.from('{"a":1}\r\n\n  \r\n{"b":2}\n{"c":3}'), 1000);
    expect(linesOf(chunks)).toStrictEqual([
      { n: 1, text: '{"a":1}' },
      { n: 4, text: '{"b":2}' },
      { n: 5, text: '{"c":3}' },
    ]);
  });

  it('given a byte-order mark at the start and another at the start of line 2, then only the first is dropped', async () => {
    const chunks = await read(Buffer.from('\uFEFF{"a":1}\n\uFEFF{"b":2}\n'), 1000);
    expect(linesOf(chunks)).toStrictEqual([
      { n: 1, text: '{"a":1}' },
      { n: 2, text: '\uFEFF{"b":2}' },
    ]);
  });

  it('given a lone carriage return inside a line, then it stays part of the line', async () => {
    expect(linesOf(await read(Buffer.from('{"a":1}\r{"b":2}\n'), 1000))).toStrictEqual([
      { n: 1, text: '{"a":1}\r{"b":2}' },
    ]);
  });

  it('given a Latin-1 é and a truncated 3-byte character, then each line is named with the byte that is wrong, and the others are read', async () => {
    const bytes = Buffer.concat([
      Buffer.from('{"email":"caf'),
      Buffer.from([0xe9]),
      Buffer.from('@x.io"}\n{"ok":"é"}\n{"x":"'),
      Buffer.from([0xe2, 0x82]),
      Buffer.from('"}\n'),
    ]);
    for (const cuts of [[], [14], [30, 31, 40]])
      expect(linesOf(await read(bytes, 2, cuts))).toStrictEqual([
        { n: 1, unreadable: 'not valid UTF-8 (at byte 14 of the line: 0xE9)' },
        { n: 2, text: '{"ok":"é"}' },
        { n: 3, unreadable: 'not valid UTF-8 (at byte 7 of the line: 0xE2)' },
      ]);
  });

  it('given any lines cut into any pieces, then the lines and each chunk digest are the same as read whole (law)', async () => {
    const line = fc.oneof(
      fc.string({ unit: 'grapheme', maxLength: 12 }),
      fc.constantFrom('', ' ', '{"a":"é€😀"}', '\r'),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(line, { maxLength: 12 }),
        fc.boolean(),
        fc.array(fc.nat(200)),
        fc.integer({ min: 1, max: 4 }),
        async (ls, finalNewline, cuts, size) => {
          const text = ls.map((l) => l.replaceAll('\n', ' ')).join('\n') + (finalNewline ? '\n' : '');
          const whole = await read(Buffer.from(text), size);
          const cut = await read(Buffer.from(text), size, cuts);
          expect(cut).toStrictEqual(whole);
          const expected = text
            .split('\n')
            .map((t, i) => (i === 0 && t.startsWith('\uFEFF') ? t.slice(1) : t))
            .map((t, i) => ({ n: i + 1, text: t.endsWith('\r') ? t.slice(0, -1) : t }))
            .filter((l) => l.text.trim() !== '');
          expect(linesOf(whole)).toStrictEqual(expected);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('given two files that differ in one byte, then the chunk holding it has another digest and the others the same', async () => {
    const a = await read(Buffer.from('{"a":1}\n{"b":2}\n{"c":3}\n'), 1);
    const b = await read(Buffer.from('{"a":1}\n{"b":3}\n{"c":3}\n'), 1);
    expect(a.map((c) => c.digest).map((d, i) => d === b[i]?.digest)).toStrictEqual([true, false, true]);
  });
});

describe('finding the first byte that is not UTF-8', () => {
  it.each([
    ['ASCII', [0x61, 0x62], -1],
    ['é, €, 😀', [...Buffer.from('é€😀')], -1],
    ['a lone continuation byte', [0x61, 0x80], 1],
    ['an overlong /', [0xc0, 0xaf], 0],
    ['a surrogate', [0xed, 0xa0, 0x80], 0],
    ['past U+10FFFF', [0xf4, 0x90, 0x80, 0x80], 0],
    ['a character cut short at the end', [0x61, 0xe2, 0x82], 1],
  ])('given %s, then it is found where it starts', (_, bytes, at) => {
    expect(invalidUtf8At(Uint8Array.from(bytes))).toBe(at);
  });
});
