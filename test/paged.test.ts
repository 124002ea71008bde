// The paged reads every store adapter shares: every event once and in order, whatever the page
// sizes, with pages of large events cut to about PAGE_BYTES, and each event turned from its row
// only when it is handed on.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PAGE_BYTES, paged, type Rows } from '../adapters/stores/common.js';
import type { StoredEvent } from '../engine/ports.js';

type Row = { readonly position: number; readonly size: number };

const event = (row: Row): StoredEvent => ({
  position: row.position,
  stream: 's',
  revision: row.position - 1,
  id: `e${row.position}`,
  type: 'Happened',
  data: { size: row.size },
  occurredAt: '2026-11-29T00:00:00.000Z',
  recordedAt: '2026-11-29T00:00:00.000Z',
});

/** Rows at positions 1..n of the given sizes, a fetch over them that notes each page it returns,
 *  and a Rows that notes which rows were turned into events. */
const table = (sizes: readonly number[]) => {
  const rows = sizes.map((size, i): Row => ({ position: i + 1, size }));
  const pages: Row[][] = [];
  const turned: number[] = [];
  const fetch = (after: number, limit: number): Row[] => {
    const page = rows.filter((r) => r.position > after).slice(0, limit);
    pages.push(page);
    return page;
  };
  const asEvents: Rows<Row> = {
    event: (r) => {
      turned.push(r.position);
      return event(r);
    },
    bytes: (r) => r.size,
    position: (r) => r.position,
  };
  return { rows, pages, turned, fetch, asEvents };
};

const readAll = async (t: ReturnType<typeof table>, batchSize: number): Promise<number[]> => {
  const seen: number[] = [];
  for await (const e of paged(t.fetch, 0, batchSize, (last) => last.position, t.asEvents)) {
    // Turned when handed on: the rows of the page after it are not turned yet.
    expect(t.turned.at(-1)).toBe(e.position);
    seen.push(e.position);
  }
  return seen;
};

const pageBytes = (page: readonly Row[]): number => page.reduce((n, r) => n + r.size, 0);

describe('paged reads', () => {
  it('given rows of any sizes and any batch size, when read page by page, then every event comes once, in order', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 0, max: 3 * PAGE_BYTES }), { maxLength: 60 }),
        fc.integer({ min: 1, max: 20 }),
        async (sizes, batchSize) => {
          const t = table(sizes);
          expect(await readAll(t, batchSize)).toStrictEqual(t.rows.map((r) => r.position));
          expect(t.turned).toStrictEqual(t.rows.map((r) => r.position));
        },
      ),
    );
  });

  it('given a run of large events after small ones, when read, then after the first large page each page holds about PAGE_BYTES, and pages grow back once events are small again', async () => {
    const large = Math.floor(PAGE_BYTES / 20);
    const sizes = [
      ...Array<number>(1500).fill(100),
      ...Array<number>(3000).fill(large),
      ...Array<number>(3000).fill(100),
    ];
    const t = table(sizes);
    expect(await readAll(t, 1000)).toHaveLength(sizes.length);

    const firstLarge = t.pages.findIndex((p) => pageBytes(p) > PAGE_BYTES);
    // The page on which the large events begin still has the batch size (nothing told it otherwise)...
    expect(t.pages[firstLarge]).toHaveLength(1000);
    // ...and the pages after it, while events stay large, hold about PAGE_BYTES: the first of them is
    // sized by a page of mixed events, and overshoots; the others hold at most PAGE_BYTES.
    const whileLarge = t.pages.slice(firstLarge + 1).filter((p) => p.some((r) => r.size === large));
    expect(whileLarge.length).toBeGreaterThan(10);
    expect(pageBytes(whileLarge[0] as Row[])).toBeLessThanOrEqual(2 * PAGE_BYTES);
    for (const p of whileLarge.slice(1)) expect(pageBytes(p)).toBeLessThanOrEqual(PAGE_BYTES);
    // Once events are small again, pages grow back to the batch size.
    expect(t.pages.at(-2)).toHaveLength(1000);
  });

  it('given events larger than PAGE_BYTES, when read, then pages shrink to one event, the read ends, and pages grow back after them', async () => {
    const t = table(Array<number>(5).fill(2 * PAGE_BYTES));
    expect(await readAll(t, 2)).toStrictEqual([1, 2, 3, 4, 5]);
    expect(t.pages.map((p) => p.length)).toStrictEqual([2, 1, 1, 1, 0]);
    const u = table([...Array<number>(3).fill(2 * PAGE_BYTES), ...Array<number>(2000).fill(1)]);
    expect(await readAll(u, 4)).toHaveLength(2003);
    expect(u.pages.slice(0, 5).map((p) => p.length)).toStrictEqual([4, 1, 2, 4, 4]);
  });
});
