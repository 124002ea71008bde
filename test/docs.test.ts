// The documents hold together: every relative link and #anchor in README.md and docs/*.md leads to a
// file or heading that exists, the README stays short, and every document is reachable from its map.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DOCS = join(ROOT, 'docs');

/** README.md and every markdown file of docs/, as absolute paths. */
const documents = (): string[] => [
  join(ROOT, 'README.md'),
  ...readdirSync(DOCS)
    .filter((f) => f.endsWith('.md'))
    .sort()
    .map((f) => join(DOCS, f)),
];

/** The text outside fenced code blocks, line by line (a fence's lines become empty). */
const prose = (text: string): string[] => {
  let fenced = false;
  return text.split('\n').map((line) => {
    if (/^\s*(```|~~~)/.test(line)) {
      fenced = !fenced;
      return '';
    }
    return fenced ? '' : line;
  });
};

/**
 * GitHub's anchor for a heading: lower case, punctuation dropped (letters, digits, spaces, hyphens
 * and underscores stay), each space a hyphen. Markdown links and code marks count by their text.
 */
const anchorOf = (heading: string): string =>
  heading
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
    .replace(/ /g, '-');

/** The anchors of a document's headings, a repeated one numbered as GitHub numbers it (-1, -2, …). */
const anchorsOf = (text: string): string[] => {
  const seen = new Map<string, number>();
  const anchors: string[] = [];
  for (const line of prose(text)) {
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line)?.[1];
    if (heading === undefined) continue;
    const base = anchorOf(heading);
    const times = seen.get(base) ?? 0;
    seen.set(base, times + 1);
    anchors.push(times === 0 ? base : `${base}-${times}`);
  }
  return anchors;
};

/** The targets of a document's inline links that are not URLs, outside code blocks and code spans. */
const relativeLinksOf = (text: string): string[] =>
  prose(text)
    .map((line) => line.replace(/`[^`]*`/g, '``'))
    .join('\n')
    .match(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)
    ?.map((link) => (/\]\(([^)\s]+)/.exec(link) as RegExpExecArray)[1] as string)
    .filter((target) => !/^[a-z][a-z0-9+.-]*:/i.test(target)) ?? [];

type Broken = { readonly document: string; readonly link: string; readonly problem: string };

/** Every relative link of the documents that does not lead where it says. */
const brokenLinks = (): Broken[] => {
  const broken: Broken[] = [];
  for (const document of documents()) {
    const name = relative(ROOT, document);
    for (const link of relativeLinksOf(readFileSync(document, 'utf8'))) {
      const [path = '', anchor] = link.split('#', 2);
      const target = path === '' ? document : resolve(dirname(document), decodeURIComponent(path));
      if (!existsSync(target)) {
        broken.push({ document: name, link, problem: `${relative(ROOT, target)} does not exist` });
        continue;
      }
      if (anchor === undefined) continue;
      if (!target.endsWith('.md')) {
        broken.push({ document: name, link, problem: 'an anchor into a file that is not markdown' });
        continue;
      }
      if (!anchorsOf(readFileSync(target, 'utf8')).includes(anchor))
        broken.push({ document: name, link, problem: `${relative(ROOT, target)} has no heading #${anchor}` });
    }
  }
  return broken;
};

describe('anchors as GitHub makes them', () => {
  it('given headings with punctuation and code, when turned into anchors, then they are lower case, spaces become hyphens and punctuation is dropped', () => {
    expect(anchorOf('Contract suites: `syncline/testing`')).toBe('contract-suites-synclinetesting');
    expect(anchorOf('Keep syncing: `sync --follow`')).toBe('keep-syncing-sync---follow');
    expect(anchorOf('What happened, and why: `log` and `explain`')).toBe(
      'what-happened-and-why-log-and-explain',
    );
    expect(anchorOf('Running `syncline` from a clone')).toBe('running-syncline-from-a-clone');
    expect(anchorOf('Input events (JSONL)')).toBe('input-events-jsonl');
    expect(anchorOf('snake_case stays')).toBe('snake_case-stays');
  });

  it('given a heading repeated and a heading inside a code block, when anchors are listed, then the repeat is numbered and the code is not a heading', () => {
    const text = ['# Top', '## Notes', '```sh', '# not a heading', '```', '## Notes', '### Notes ##'].join(
      '\n',
    );
    expect(anchorsOf(text)).toStrictEqual(['top', 'notes', 'notes-1', 'notes-2']);
  });
});

describe('links as the documents write them', () => {
  it('given links in prose, in code spans and in code blocks, when collected, then only the relative ones in prose are', () => {
    const text = [
      'See [the design](docs/architecture.md#the-decision), [a site](https://example.com) and [here](#top).',
      'Not `[code](nowhere.md)`, nor this:',
      '```md',
      '[in a block](nowhere.md)',
      '```',
      '[titled](docs/cli.md "the command line")',
    ].join('\n');
    expect(relativeLinksOf(text)).toStrictEqual(['docs/architecture.md#the-decision', '#top', 'docs/cli.md']);
  });
});

describe('the documentation', () => {
  it('given README.md and docs/*.md, when every relative link is followed, then each leads to a file that exists and, with an anchor, to a heading it has', () => {
    expect(documents().length).toBeGreaterThan(2);
    expect(brokenLinks()).toStrictEqual([]);
  });

  it('given README.md, when its lines are counted, then there are at most 300', () => {
    expect(readFileSync(join(ROOT, 'README.md'), 'utf8').trimEnd().split('\n').length).toBeLessThanOrEqual(
      300,
    );
  });

  it("given the README's map of docs/, when compared with docs/, then it links every document there", () => {
    const mapped = new Set(
      relativeLinksOf(readFileSync(join(ROOT, 'README.md'), 'utf8')).map((l) => l.split('#')[0]),
    );
    const unmapped = documents()
      .slice(1)
      .map((d) => relative(ROOT, d))
      .filter((d) => !mapped.has(d));
    expect(unmapped).toStrictEqual([]);
  });

  it('given the documents, when searched for the design, then they cite docs/architecture.md and never a DESIGN file by section', () => {
    const citing = documents()
      .filter((d) => /DESIGN(\.md)?\s*§/.test(readFileSync(d, 'utf8')))
      .map((d) => relative(ROOT, d));
    expect(citing).toStrictEqual([]);
  });
});
