// Where a JSON text first goes wrong, as line and column: JSON.parse's messages name a position only
// for some mistakes, and a position in characters is of little use in a file of many lines.

const WHITESPACE = new Set([' ', '\t', '\n', '\r']);
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const ESCAPE = /\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4})/y;

/**
 * The offset of the first character that cannot continue a valid JSON text (the text's length if it
 * ends too early), or undefined if the text is valid. A small recursive-descent scanner that builds
 * nothing: it only runs after JSON.parse has failed.
 */
export const firstSyntaxError = (text: string): number | undefined => {
  let i = 0;
  const skipSpace = (): void => {
    while (i < text.length && WHITESPACE.has(text[i] as string)) i++;
  };
  const expect = (c: string): boolean => {
    if (text[i] !== c) return false;
    i++;
    return true;
  };
  const matchAt = (re: RegExp): boolean => {
    re.lastIndex = i;
    const m = re.exec(text);
    if (m === null) return false;
    i += m[0].length;
    return true;
  };
  const literal = (word: string): boolean => {
    for (const c of word) if (!expect(c)) return false;
    return true;
  };
  const string = (): boolean => {
    if (!expect('"')) return false;
    for (;;) {
      const c = text[i];
      if (c === undefined || c < ' ') return false;
      if (c === '"') return expect('"');
      if (c === '\\') {
        if (!matchAt(ESCAPE)) return false;
      } else i++;
    }
  };
  const sequence = (close: string, item: () => boolean): boolean => {
    i++;
    skipSpace();
    if (expect(close)) return true;
    for (;;) {
      if (!item()) return false;
      skipSpace();
      if (expect(close)) return true;
      if (!expect(',')) return false;
      skipSpace();
    }
  };
  const member = (): boolean => {
    if (!string()) return false;
    skipSpace();
    if (!expect(':')) return false;
    skipSpace();
    return value();
  };
  const value = (): boolean => {
    switch (text[i]) {
      case '{':
        return sequence('}', member);
      case '[':
        return sequence(']', value);
      case '"':
        return string();
      case 't':
        return literal('true');
      case 'f':
        return literal('false');
      case 'n':
        return literal('null');
      default:
        return matchAt(NUMBER);
    }
  };
  skipSpace();
  if (!value()) return i;
  skipSpace();
  return i < text.length ? i : undefined;
};

/** 1-based line and column of an offset, as editors count them. */
export const lineAndColumn = (text: string, offset: number): { line: number; column: number } => {
  let line = 1;
  let start = 0;
  for (let j = 0; j < offset && j < text.length; j++) {
    if (text[j] === '\n') {
      line++;
      start = j + 1;
    }
  }
  return { line, column: offset - start + 1 };
};

/**
 * A short account of a JSON syntax error: what was found where, e.g. `unexpected '}' at line 3,
 * column 9`; `fallback` (JSON.parse's own message) if the scanner and JSON.parse ever disagree.
 */
export const describeSyntaxError = (text: string, fallback: string): string => {
  const offset = firstSyntaxError(text);
  if (offset === undefined) return fallback;
  const found = text[offset];
  const { line, column } = lineAndColumn(text, offset);
  // Control characters (a raw newline inside a string) are shown escaped, anything else as typed.
  const shown = found === undefined ? '' : found < ' ' ? JSON.stringify(found) : `'${found}'`;
  const what = found === undefined ? 'unexpected end of file' : `unexpected ${shown}`;
  return `${what} at line ${line}, column ${column}`;
};
