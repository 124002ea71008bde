// A JSONL file's bytes as numbered lines, a chunk of lines at a time, each chunk with a digest of its
// bytes (so a second reading can tell it read the same) and the lines that are not UTF-8 named.
import { isUtf8 } from 'node:buffer';
import { createHash, type Hash } from 'node:crypto';

/** A line that holds something (lines of white space only are left out), or why it cannot be read. */
export type Line =
  { readonly n: number; readonly text: string } | { readonly n: number; readonly unreadable: string };

export type Chunk = {
  readonly lines: readonly Line[];
  /** the digest of its bytes, line ends included */
  readonly digest: string;
};

const NEWLINE = 0x0a;
const CR = 0x0d;

/**
 * The index of the first byte of `b` that is not part of a well-formed UTF-8 sequence (Unicode's
 * table 3-7: no overlong forms, no surrogates, nothing past U+10FFFF), or -1. Only a line that
 * failed the fast check is scanned, to say where.
 */
export const invalidUtf8At = (b: Uint8Array): number => {
  let i = 0;
  const cont = (at: number, lo = 0x80, hi = 0xbf): boolean => {
    const c = b[at];
    return c !== undefined && c >= lo && c <= hi;
  };
  while (i < b.length) {
    const c = b[i] as number;
    let size: number;
    if (c < 0x80) size = 1;
    else if (c >= 0xc2 && c <= 0xdf) size = cont(i + 1) ? 2 : 0;
    else if (c === 0xe0) size = cont(i + 1, 0xa0) && cont(i + 2) ? 3 : 0;
    else if (c === 0xed) size = cont(i + 1, 0x80, 0x9f) && cont(i + 2) ? 3 : 0;
    else if (c >= 0xe1 && c <= 0xef) size = cont(i + 1) && cont(i + 2) ? 3 : 0;
    else if (c === 0xf0) size = cont(i + 1, 0x90) && cont(i + 2) && cont(i + 3) ? 4 : 0;
    else if (c >= 0xf1 && c <= 0xf3) size = cont(i + 1) && cont(i + 2) && cont(i + 3) ? 4 : 0;
    else if (c === 0xf4) size = cont(i + 1, 0x80, 0x8f) && cont(i + 2) && cont(i + 3) ? 4 : 0;
    else size = 0;
    if (size === 0) return i;
    i += size;
  }
  return -1;
};

const hex = (byte: number | undefined): string =>
  `0x${(byte ?? 0).toString(16).toUpperCase().padStart(2, '0')}`;

/**
 * Splits `bytes` into lines and hands them on `size` lines (blank ones included) to a chunk.
 *
 * A line ends at a newline (\n); a carriage return before it is dropped, so CRLF files read as LF
 * ones, and a lone \r is part of its line (JSON takes it as white space between values). A byte-order
 * mark starting the file is dropped; one anywhere else is part of its line, and JSON refuses it.
 *
 * Why bytes, not a text stream: decoding a stream replaces invalid UTF-8 with U+FFFD without a word,
 * and an email `caf\xE9@…` would be stored corrupted. Whole regions of complete lines are checked
 * at once (buffer.isUtf8, native); only a region that fails is checked line by line, to name them.
 */
export async function* chunksOf(bytes: AsyncIterable<Uint8Array>, size: number): AsyncGenerator<Chunk> {
  let n = 0;
  let lines: Line[] = [];
  let hash: Hash = createHash('sha256');
  // the start of a line that continues in the next buffer, and its length so far
  let carry: Buffer[] = [];
  let carried = 0;

  let sinceCut = 0;
  const emit = (b: Buffer, start: number, end: number, checked: boolean): void => {
    n++;
    sinceCut++;
    const stop = end > start && b[end - 1] === CR ? end - 1 : end;
    let from = start;
    if (n === 1 && stop - from >= 3 && b[from] === 0xef && b[from + 1] === 0xbb && b[from + 2] === 0xbf)
      from += 3;
    if (!checked && !isUtf8(b.subarray(from, stop))) {
      const at = invalidUtf8At(b.subarray(from, stop));
      lines.push({ n, unreadable: `not valid UTF-8 (at byte ${at + 1} of the line: ${hex(b[from + at])})` });
      return;
    }
    const text = b.toString('utf8', from, stop);
    if (text.trim() !== '') lines.push({ n, text });
  };

  const cut = (): Chunk => {
    const chunk = { lines, digest: hash.digest('base64') };
    lines = [];
    hash = createHash('sha256');
    sinceCut = 0;
    return chunk;
  };

  for await (const piece of bytes) {
    const b = Buffer.isBuffer(piece) ? piece : Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength);
    let pos = 0;
    // bytes of b from here on are not in the digest yet
    let hashed = 0;
    const last = b.lastIndexOf(NEWLINE);
    if (last === -1) {
      carry.push(b);
      carried += b.length;
      hash.update(b);
      continue;
    }
    if (carried > 0) {
      const nl = b.indexOf(NEWLINE);
      const line = Buffer.concat([...carry, b.subarray(0, nl)], carried + nl);
      carry = [];
      carried = 0;
      emit(line, 0, line.length, false);
      pos = nl + 1;
      if (n % size === 0) {
        hash.update(b.subarray(0, pos));
        hashed = pos;
        yield cut();
      }
    }
    // Every line from pos up to the last newline is whole: one check for all of them.
    const whole = pos > last || isUtf8(b.subarray(pos, last));
    while (pos <= last) {
      const nl = b.indexOf(NEWLINE, pos);
      emit(b, pos, nl, whole);
      pos = nl + 1;
      if (n % size === 0) {
        hash.update(b.subarray(hashed, pos));
        hashed = pos;
        yield cut();
      }
    }
    hash.update(b.subarray(hashed));
    if (pos < b.length) {
      carry.push(b.subarray(pos));
      carried += b.length - pos;
    }
  }
  if (carried > 0) {
    const line = Buffer.concat(carry, carried);
    emit(line, 0, line.length, false);
  }
  if (sinceCut > 0) yield cut();
}
