// How commands print: one JSON document for machines, tables and colour for people. Colour only
// when stdout is a terminal and NO_COLOR is unset, so pipes and files get plain text.
import Table from 'cli-table3';
import pc from 'picocolors';

/** Where a command's output goes and what it may know of its surroundings (tests substitute these). */
export type CliIO = {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly env: NodeJS.ProcessEnv;
  /** relative paths on the command line are resolved against this */
  readonly cwd: string;
  /** stdout is a terminal: colour (and, later, progress bars) only then */
  readonly interactive: boolean;
  /** the terminal's width in characters, when stdout is one */
  readonly columns?: number;
};

export type Colors = ReturnType<typeof pc.createColors>;

/** no-color.org: NO_COLOR present and not empty disables colour, whatever the terminal. */
export const colorsFor = (io: CliIO): Colors =>
  pc.createColors(io.interactive && (io.env.NO_COLOR === undefined || io.env.NO_COLOR === ''));

/** The one JSON document a `--json` run prints. */
export const printJson = (io: CliIO, document: unknown): void => {
  io.stdout(`${JSON.stringify(document, null, 2)}\n`);
};

export const printLines = (io: CliIO, lines: readonly string[]): void => {
  if (lines.length > 0) io.stdout(`${lines.join('\n')}\n`);
};

/** What a table needs to know of the command line: colours, and the width it must fit (none: any). */
export type TableStyle = { readonly colors: Colors; readonly width: number | undefined };

/**
 * The width tables must fit: `COLUMNS` when set to a whole number, else the terminal's width when
 * stdout is one, else none (a pipe or a file gets whole tables, for grep); `--wide` lifts it.
 */
export const tableWidth = (io: CliIO, wide: boolean): number | undefined => {
  if (wide) return undefined;
  const columns = io.env.COLUMNS;
  if (columns !== undefined && /^\d+$/.test(columns) && Number(columns) > 0) return Number(columns);
  return io.interactive && io.columns !== undefined && io.columns > 0 ? io.columns : undefined;
};

// eslint-disable-next-line no-control-regex -- ANSI colour codes are what is stripped
const ANSI = /\u001b\[[0-9;]*m/g;
/** Characters a cell takes on screen: its longest line, colour codes left out. */
const shownWidth = (text: string): number =>
  Math.max(
    0,
    ...text
      .replace(ANSI, '')
      .split('\n')
      .map((l) => [...l].length),
  );

/** No column is narrowed below this: fewer characters, and an elided cell no longer says what it was. */
const NARROWEST = 6;

/**
 * Content widths for columns of these natural widths to fit `width` with the borders: the widest
 * columns are narrowed first, to one common cap, so narrow columns (ids, counts) stay whole. Each
 * column takes 3 characters of border and padding, and the table one more.
 */
export const fitColumns = (natural: readonly number[], width: number): number[] => {
  const room = width - 3 * natural.length - 1;
  const total = natural.reduce((n, w) => n + w, 0);
  if (total <= room) return [...natural];
  const within = (cap: number) => natural.reduce((n, w) => n + Math.min(w, cap), 0);
  let cap = NARROWEST;
  for (let hi = Math.max(...natural); cap < hi;) {
    const mid = Math.ceil((cap + hi) / 2);
    if (within(mid) <= room) cap = mid;
    else hi = mid - 1;
  }
  return natural.map((w) => Math.min(w, cap));
};

/**
 * A boxed table with a rule under the header and none between body rows: one line per row is easier
 * to scan and to grep. cli-table3 rules every row or none, so the extra rules are dropped after.
 * Its own colouring of headers and borders is off so that colour follows `colorsFor` alone. Wider
 * than `style.width`, its widest columns are narrowed and their cells end in '…'.
 */
export const table = (
  style: TableStyle,
  head: readonly string[],
  rows: readonly (readonly string[])[],
): string => {
  const { colors, width } = style;
  const natural = head.map((h, i) => Math.max(shownWidth(h), ...rows.map((r) => shownWidth(r[i] ?? ''))));
  const fitted = width === undefined ? undefined : fitColumns(natural, width);
  const t = new Table({
    head: head.map((h) => colors.bold(h)),
    style: { head: [], border: [] },
    // cli-table3's widths count the padding; it cuts a longer cell and ends it with '…'.
    ...(fitted === undefined || fitted.every((w, i) => w === natural[i])
      ? {}
      : { colWidths: fitted.map((w) => w + 2), truncate: '…' }),
  });
  for (const row of rows) t.push([...row]);
  const lines = t.toString().split('\n');
  const firstRule = lines.findIndex((l) => l.startsWith('├'));
  return lines.filter((l, i) => i === firstRule || !l.startsWith('├')).join('\n');
};

/** `1 profile`, `2 profiles`. */
export const plural = (n: number, singular: string, pluralForm = `${singular}s`): string =>
  `${n} ${n === 1 ? singular : pluralForm}`;
