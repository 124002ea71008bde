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

/**
 * A boxed table with a rule under the header and none between body rows: one line per row is easier
 * to scan and to grep. cli-table3 rules every row or none, so the extra rules are dropped after.
 * Its own colouring of headers and borders is off so that colour follows `colorsFor` alone.
 */
export const table = (
  colors: Colors,
  head: readonly string[],
  rows: readonly (readonly string[])[],
): string => {
  const t = new Table({ head: head.map((h) => colors.bold(h)), style: { head: [], border: [] } });
  for (const row of rows) t.push([...row]);
  const lines = t.toString().split('\n');
  const firstRule = lines.findIndex((l) => l.startsWith('├'));
  return lines.filter((l, i) => i === firstRule || !l.startsWith('├')).join('\n');
};

/** `1 profile`, `2 profiles`. */
export const plural = (n: number, singular: string, pluralForm = `${singular}s`): string =>
  `${n} ${n === 1 ? singular : pluralForm}`;
