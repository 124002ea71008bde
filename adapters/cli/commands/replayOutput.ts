// How `syncline replay` reports: one JSON document, or per run a table row, every mismatch with both
// versions, and what-if differences as sentences ("would have created 120 profiles that enrich skipped").
import type { Verdict } from '../../../domain/decision.js';
import type { Replay, RunReplay } from '../../../engine/audit/replay.js';
import type { Aspect, Mismatch } from '../../../engine/audit/replayBatch.js';
import { sentence } from '../../../engine/audit/replayDiff.js';
import { plural, table, type Colors, type TableStyle } from '../output.js';
import { summarizeChanges } from './simulate.js';

/** What each part of a recording is, as the mismatch line names it. */
const ASPECTS: Readonly<Record<Aspect, string>> = {
  decision: 'the decision',
  commandId: 'the command id',
  keyAfter: 'the key the record has once applied',
  claims: 'the key claims the decision relied on',
  keys: 'the keys looked up',
  settled: 'how commands left without outcome were settled',
  cleared: 'the failures the batch cleared',
  adopted: 'the records the batch matched to profiles the ledger did not hold them for',
  unchanged: 'how many profiles needed nothing',
  config: 'the config recorded for the run (recomputed: the one in force where it started)',
  mode: "the run's mode (recomputed: the mode its config names)",
  order: 'its place in the stream: recorded after a later batch (recorded: its position)',
  run: 'the run: this batch names a run that never started (recorded: its position)',
};

export const mismatchCount = (r: Replay): number => r.runs.reduce((n, run) => n + run.mismatches.length, 0);

/** The alternative a what-if replay was asked for: a mode, a config file (with its mode), or both. */
export type WhatIf = { readonly mode: string | null; readonly config: string | null };

export const jsonReplay = (r: Replay, whatIf: WhatIf | null) => ({
  destinationId: r.destinationId,
  verified: r.verified,
  whatIf,
  runs: r.runs.map((run) => ({
    ...run,
    counterfactual: run.counterfactual && {
      ...run.counterfactual,
      counts: run.counterfactual.counts.map((c) => ({ ...c, sentence: sentence(c, run.mode ?? '?') })),
    },
  })),
});

const verdictText = (v: Verdict | null): string => {
  if (v === null) return 'nothing';
  if (v.operation === 'nothing') return `nothing (${v.reason})`;
  const change = summarizeChanges(v);
  return [v.operation, v.key ?? '', change, v.message ?? ''].filter((p) => p !== '').join(' · ');
};

const shown = (u: unknown): string => (u === undefined ? '(none)' : JSON.stringify(u));

const mismatchLines = (c: Colors, run: RunReplay, m: Mismatch): string[] => [
  `${c.red('MISMATCH')} run ${run.runId}${m.profileId === null ? '' : `, profile ${c.bold(m.profileId)}`}, ` +
    `decided at position ${m.position}: ${ASPECTS[m.aspect]}`,
  `  recorded:   ${shown(m.recorded)}`,
  `  recomputed: ${shown(m.recomputed)}`,
];

const whatIfLines = (style: TableStyle, run: RunReplay, limit: number): string[] => {
  const c = style.colors;
  const cf = run.counterfactual;
  if (!cf) return [];
  const recordedMode = run.mode ?? '?';
  const lines = [`${c.bold(`run ${run.runId}`)} (${recordedMode}, started ${run.startedAt ?? '?'}):`];
  if (cf.differences.length === 0) lines.push('  no decision would have differed');
  for (const count of cf.counts) lines.push(`  ${sentence(count, recordedMode)}`);
  if (cf.notObserved.length > 0)
    lines.push(
      `  ${c.yellow(plural(cf.notObserved.length, 'profile'))} not observed: the run never looked up the key ` +
        'they would have had, so what the destination held is unknown',
    );
  for (const note of cf.notes) lines.push(`  ${c.dim(`note: ${note}`)}`);
  if (cf.differences.length > 0) {
    const rows = cf.differences
      .slice(0, limit)
      .map((d) => [d.profileId, verdictText(d.recorded), verdictText(d.would)]);
    lines.push(table(style, ['profile', `recorded (${recordedMode})`, `would (${cf.mode})`], rows));
    if (cf.differences.length > limit)
      lines.push(`  … and ${cf.differences.length - limit} more (--limit N, or --json)`);
  }
  return lines;
};

export const humanReplay = (style: TableStyle, r: Replay, whatIf: WhatIf | null, limit: number): string[] => {
  const c = style.colors;
  if (r.runs.length === 0) return [`No run of ${r.destinationId} matches the given --run/--since/--until.`];
  const decisions = r.runs.reduce((n, run) => n + run.decisions, 0);
  const lines = [
    `Replay of ${c.bold(r.destinationId)}: ${plural(r.runs.length, 'run')}, ${plural(decisions, 'decision')} ` +
      'recomputed from their recorded inputs; the destination was not touched.',
  ];
  const head = ['run', 'started', 'mode', 'outcome', 'decisions'];
  if (r.verified) head.push('matched');
  const alternative = whatIf?.mode ?? whatIf?.config ?? '';
  if (whatIf) head.push(`would differ (${alternative})`);
  const rows = r.runs.map((run) => {
    const row = [run.runId, run.startedAt ?? '?', run.mode ?? '?', run.outcome, String(run.decisions)];
    const ok = run.mismatches.length === 0;
    if (r.verified)
      row.push(
        ok ? c.green(String(run.matched)) : c.red(`${run.matched} (${run.mismatches.length} mismatches)`),
      );
    if (whatIf) row.push(String(run.counterfactual?.differences.length ?? 0));
    return row;
  });
  lines.push(table(style, head, rows));
  if (r.verified) {
    const all = r.runs.flatMap((run) => run.mismatches.map((m) => ({ run, m })));
    if (all.length === 0) lines.push(c.green('Every recorded decision follows from its recorded inputs.'));
    for (const run of r.runs)
      for (const m of run.mismatches.slice(0, limit)) lines.push(...mismatchLines(c, run, m));
    const hidden = r.runs.reduce((n, run) => n + Math.max(0, run.mismatches.length - limit), 0);
    if (hidden > 0) lines.push(`… and ${hidden} more mismatches (--limit N, or --json)`);
  }
  if (whatIf) {
    const under =
      whatIf.config === null ? `in ${whatIf.mode} mode` : `under ${whatIf.config} (${whatIf.mode ?? '?'})`;
    lines.push('', `What ${r.destinationId} would have done ${under}:`);
    for (const run of r.runs) lines.push(...whatIfLines(style, run, limit));
    lines.push(
      c.dim(
        'Each run is recomputed against what it recorded: its observations and the ledger reflect what ' +
          'really happened before it, not what this alternative would have done in earlier runs.',
      ),
    );
  }
  return lines;
};
