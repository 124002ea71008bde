// The rows of `npm run bench` that new processes of the syncline executable measure: a 1%-change
// sync from a cold process, a cold status at scale against 10k profiles, a first sync's peak RSS.
import { median, mib, ms, pass, withTrials } from './cells.js';
import type { CliStore } from './processes.js';

/** The scales at which a row's target for a million profiles or more is judged. */
const judged = (scale: string): boolean => scale === '1m' || scale === '10m';

/**
 * (d′) `syncline sync` of one destination after 1% changed, in new processes (the median of
 * `coldMs`), less the start of a process that does nothing (`syncline --version`), as a share of
 * (c); `fullMs` null when there is no (c) to compare with (--scale 10m).
 */
export const coldSyncRow = (
  coldMs: readonly number[],
  startUpMs: readonly number[],
  fullMs: number | null,
): string[] => {
  const cold = median(coldMs);
  const net = cold - median(startUpMs);
  const label =
    `(d′) the same from a cold process: a new \`syncline sync\` (median of ${coldMs.length}), less ` +
    `the start of one that does nothing (\`syncline --version\`, median of ${startUpMs.length})`;
  const cell = `${coldMs.length > 1 ? withTrials(coldMs) : ms(cold)} − ${ms(median(startUpMs))}`;
  if (fullMs === null) return [label, cell, '', `${ms(net)}`, 'info', ''];
  return [
    label,
    cell,
    ms(fullMs),
    `${((net / fullMs) * 100).toFixed(1)}% of (c)`,
    '≤ 10%',
    pass(net <= 0.1 * fullMs),
  ];
};

/** (i) `syncline status` in a new process at the bench's scale, against the same at 10k profiles. */
export const coldStatusRow = (scale: string, atScale: CliStore, at10k: CliStore): string[] => {
  const r = median(atScale.statusMs) / median(at10k.statusMs);
  const label =
    `(i) a cold \`syncline status\`, ${atScale.profiles} profiles vs 10000 ` +
    `(median of ${atScale.statusMs.length} each)`;
  if (atScale.statusMs.length === 0)
    return [label, 'no status: the first sync failed', '', '', '≤ 2×', 'MISSED'];
  return [
    label,
    withTrials(atScale.statusMs),
    withTrials(at10k.statusMs),
    `${r.toFixed(2)}× the 10k time`,
    // The target is for a million profiles; at ten million the ratio is shown as it is.
    scale === '1m' ? '≤ 2×' : 'at 1m: ≤ 2×',
    scale === '1m' ? pass(r <= 2) : '',
  ];
};

/** (j) the peak RSS of a first `syncline sync` (catch-up from nothing, the run, the state file saved). */
export const peakRssRow = (scale: string, s: CliStore): string[] => {
  const limit = scale === '10m' ? 2 * 1024 ** 3 : 600 * 1024 ** 2;
  const target = scale === '10m' ? '< 2 GiB' : scale === '1m' ? '≤ 600 MiB' : 'at 1m: ≤ 600 MiB';
  const label = `(j) peak RSS of a first \`syncline sync\` of ${s.profiles} profiles, its own process`;
  const run = s.firstSync;
  if (run.code !== 0) {
    const why = run.stderr.split('\n').find((l) => l.includes('heap') || l.includes('syncline:'));
    return [label, `exit ${run.code}: ${why ?? 'failed'}`, '', ms(run.ms), target, 'MISSED'];
  }
  return [
    label,
    mib(run.maxRssBytes),
    '',
    `the sync took ${ms(run.ms)}`,
    target,
    judged(scale) ? pass(run.maxRssBytes <= limit) : '',
  ];
};
