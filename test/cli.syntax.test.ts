// The JSON syntax locator behind `not valid JSON ... at line L, column C` must agree with JSON.parse
// on what is valid, or the CLI would point at the wrong place (or at nothing) in a user's file.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { describeSyntaxError, firstSyntaxError, lineAndColumn } from '../adapters/cli/syntax.js';

const parses = (text: string): boolean => {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
};

describe('firstSyntaxError', () => {
  it('finds no error in any valid JSON text', () => {
    fc.assert(fc.property(fc.json(), (text) => firstSyntaxError(text) === undefined));
  });

  it('agrees with JSON.parse on JSON texts with one character changed, removed or added', () => {
    const mutated = fc
      .tuple(
        fc.json(),
        fc.nat(),
        fc.constantFrom('', ',', '}', ']', '"', ':', '\n', 'x', '0', '-', '\\'),
        fc.boolean(),
      )
      .map(([text, at, c, replace]) => {
        const i = at % (text.length + 1);
        return text.slice(0, i) + c + text.slice(replace ? i + 1 : i);
      });
    fc.assert(fc.property(mutated, (text) => (firstSyntaxError(text) === undefined) === parses(text)));
  });

  it('points at the first character that cannot continue the text', () => {
    expect(firstSyntaxError('{"a": 1,}')).toBe(8);
    expect(firstSyntaxError('[1, 2')).toBe(5);
    expect(firstSyntaxError('{"a": tru}')).toBe(9);
    expect(firstSyntaxError('{"a": 01}')).toBe(7);
    expect(firstSyntaxError('"a\nb"')).toBe(2);
    expect(firstSyntaxError('')).toBe(0);
  });
});

describe('describeSyntaxError', () => {
  it('names what was found and where, in editor lines and columns', () => {
    expect(describeSyntaxError('{\n  "a": 1,\n}\n', 'fallback')).toBe("unexpected '}' at line 3, column 1");
    expect(describeSyntaxError('{"a": "x\ny"}', 'fallback')).toBe('unexpected "\\n" at line 1, column 9');
    expect(describeSyntaxError('[1,\n', 'fallback')).toBe('unexpected end of file at line 2, column 1');
    expect(lineAndColumn('ab\ncd', 4)).toEqual({ line: 2, column: 2 });
  });
});
