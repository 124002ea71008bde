// How `npm run bench` prints its figures in the table's cells: times, sizes, medians beside their
// trials, and a row's verdict.
export const median = (xs: readonly number[]): number => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
};

export const ms = (x: number): string => `${x.toFixed(0)} ms`;
/** The median with every trial beside it, in the order run: one run of the bench shows its own
 *  spread (the first sync in a process is slower, its code not yet optimised, and the bare loop
 *  alone can vary by half within one process), so no figure is read as more exact than it is. */
export const withTrials = (xs: readonly number[]): string =>
  xs.length < 2 ? ms(median(xs)) : `${ms(median(xs))} (${xs.map((x) => x.toFixed(0)).join(' / ')})`;
export const mib = (x: number): string => `${(x / 1024 ** 2).toFixed(0)} MiB`;
export const ratio = (x: number): string => x.toFixed(2);
export const pass = (ok: boolean): string => (ok ? 'ok' : 'MISSED');
