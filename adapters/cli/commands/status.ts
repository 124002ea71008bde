// `syncline status [--check]`: the store's head and, per configured destination, its last run, a run
// still open or cut short, failures waiting, unsettled commands, and how far it lags behind the store.
import type { Command } from 'commander';
import * as E from 'fp-ts/lib/Either.js';
import * as T from 'fp-ts/lib/Task.js';
import * as TE from 'fp-ts/lib/TaskEither.js';
import { pipe } from 'fp-ts/lib/function.js';
import type { DestinationConfig } from '../../../domain/destination.js';
import { compareStrings } from '../../../domain/values.js';
import { holdingOf, missingRecords } from '../../../engine/sync/lost.js';
import type { Integrity } from '../../../engine/ports.js';
import { defaultSyncOptions } from '../../../engine/sync/run.js';
import { recordedTotals, skippedTotal, type RunTotals } from '../../../engine/sync/summary.js';
import type { DestinationView, EngineState } from '../../../engine/state/engineState.js';
import type { RunInfo } from '../../../projections/ledger.js';
import type { CliCommand, CliContext } from '../command.js';
import { errorLines, failed, storeFailed, unexpected, type CliError } from '../errors.js';
import { plural, printJson, printLines, type Colors } from '../output.js';
import { openDestination, withSession, withStore } from '../workspace.js';
import { describeCollection } from './validate.js';

const finishedRun = (r: RunInfo) => ({
  runId: r.runId,
  mode: r.mode,
  position: r.position,
  startedAt: r.startedAt,
  finishedAt: r.finishedAt ?? null,
  // The shape of a RunSummary's totals (docs/cli.md, "Run summaries"), from what RunFinished recorded.
  totals: recordedTotals(r.counts ?? {}, r.skipReasons),
});

/**
 * A run recorded as started but not finished is either still going (its process is alive) or was
 * cut short; the next `sync` settles an interrupted one's commands. Liveness is judged as `sync` judges it.
 */
const openRun = (r: RunInfo) => ({
  runId: r.runId,
  position: r.position,
  startedAt: r.startedAt,
  owner: r.owner,
  state: defaultSyncOptions.isAlive(r.owner) ? ('running' as const) : ('interrupted' as const),
});

/**
 * What the destination holds against what syncline wrote there, from a count that creates nothing
 * (see Destination.count): `missing` says how many records syncline wrote that are not there.
 */
export type RecordsCheck =
  | { readonly held: number | null; readonly written: number; readonly missing: number }
  | { readonly unchecked: string };

const checkRecords = (
  ctx: CliContext,
  v: DestinationView,
  config: DestinationConfig,
): Promise<RecordsCheck> =>
  pipe(
    openDestination(ctx, config),
    TE.chain((destination) =>
      TE.fromTask(async (): Promise<RecordsCheck> => {
        try {
          const h = await holdingOf(destination, v);
          if (h === undefined) return { unchecked: 'the destination cannot count its records' };
          return { ...h, missing: missingRecords(h) ?? 0 };
        } finally {
          await destination.close();
        }
      }),
    ),
    TE.getOrElse((e) => T.of<RecordsCheck>({ unchecked: errorLines(e).join('; ') })),
  )();

export const destinationStatus = (
  s: EngineState,
  head: number,
  v: DestinationView,
  config: DestinationConfig,
  records: RecordsCheck,
) => {
  const l = v.ledger;
  const last = l.lastFinished;
  const since = last?.position ?? 0;
  const failures = [...l.failures.values()];
  const retryable = failures.filter((f) => f.retryable).length;
  // The latest attempt, when it failed and nothing finished after it: the reason is worth seeing.
  const failedRun = l.lastRun !== null && l.lastRun !== last && l.lastRun !== l.open ? l.lastRun : null;
  return {
    destinationId: v.destinationId,
    ...(config.name === undefined ? {} : { name: config.name }),
    type: config.type,
    // applied configurations always carry a mode: apply fills in the type's default
    syncMode: config.syncMode ?? null,
    collection: config.collection,
    runs: l.runs,
    lastRun: last === null ? null : finishedRun(last),
    failedRun:
      failedRun === null
        ? null
        : { runId: failedRun.runId, startedAt: failedRun.startedAt, message: failedRun.failed ?? 'failed' },
    openRun: l.open === null ? null : openRun(l.open),
    failures: { waiting: failures.length, retryable, terminal: failures.length - retryable },
    retryRequested: l.retryRequested.size,
    pending: l.pending.size,
    // Profiles whose desired state changed since the last finished run decided: what the next run
    // looks at, unless the config changed since, when it looks at everyone.
    lag: { profiles: s.touches.countSince(since), configChanged: last === null || v.configPosition > since },
    // Every store position since then, this and other destinations' sync events included.
    positionsBehind: head - since,
    records,
  };
};

export type DestinationStatus = ReturnType<typeof destinationStatus>;

const totalsText = (t: RunTotals): string =>
  `${t.created} created, ${t.updated} updated, ${t.deleted} deleted, ${skippedTotal(t)} skipped, ` +
  `${t.failed} failed, ${t.unchanged} unchanged`;

const humanLines = (c: Colors, d: DestinationStatus): string[] => {
  const where = [d.type, d.syncMode, describeCollection(d.collection)].filter((x) => x !== null).join(', ');
  const lines = [`${c.bold(d.destinationId)} (${where})`];
  const row = (label: string, text: string) => lines.push(`  ${label.padEnd(10)}${text}`);
  row(
    'last run',
    d.lastRun === null
      ? c.yellow('never synced')
      : `${d.lastRun.runId} finished ${d.lastRun.finishedAt ?? '?'}: ${totalsText(d.lastRun.totals)}`,
  );
  if (d.failedRun !== null)
    row('failed', c.red(`${d.failedRun.runId} started ${d.failedRun.startedAt}: ${d.failedRun.message}`));
  if (d.openRun !== null)
    row(
      'open run',
      d.openRun.state === 'running'
        ? `${d.openRun.runId} running since ${d.openRun.startedAt} (pid ${d.openRun.owner.pid} on ${d.openRun.owner.host})`
        : c.yellow(
            `${d.openRun.runId} interrupted (started ${d.openRun.startedAt}); the next sync settles its commands`,
          ),
    );
  const behind = `${plural(d.positionsBehind, 'store position')} behind`;
  const changed = `${plural(d.lag.profiles, 'profile')} changed`;
  if (d.lastRun === null) row('lag', `${changed}, ${behind}; the first sync looks at every profile`);
  else if (d.lag.configChanged)
    row(
      'lag',
      `${changed} since, ${behind}; the configuration changed, so the next sync looks at every profile`,
    );
  else
    row(
      'lag',
      d.lag.profiles === 0
        ? c.green(`up to date (${behind}, none of them changing a profile)`)
        : `${changed} since, ${behind}`,
    );
  const f = d.failures;
  row(
    'failures',
    f.waiting === 0
      ? 'none'
      : c.red(`${f.waiting} waiting (${f.retryable} retryable, ${f.terminal} terminal)`) +
          (d.retryRequested > 0 ? `, ${d.retryRequested} retry requested` : ''),
  );
  row('pending', d.pending === 0 ? 'none' : c.yellow(`${plural(d.pending, 'unsettled command')}`));
  row('records', recordsWords(c, d.records));
  return lines;
};

const recordsWords = (c: Colors, r: RecordsCheck): string => {
  if ('unchecked' in r) return c.yellow(`not checked: ${r.unchecked}`);
  const written = `${plural(r.written, 'record')} written by syncline`;
  if (r.missing === 0) return `${written}, ${r.held ?? 0} held`;
  if (r.held === null || r.held === 0)
    return c.red(
      `${written}, but the destination ${r.held === null ? 'has no table for them' : 'holds none'}; the next sync writes them again`,
    );
  return c.red(
    `${written}, ${r.held} held: ${plural(r.missing, 'record')} syncline wrote ${r.missing === 1 ? 'is' : 'are'} missing; ` +
      '`syncline sync --full` writes them again',
  );
};

const sound = (i: Integrity): boolean => i.findings.length === 0;

const integrityLines = (c: Colors, i: Integrity): string[] =>
  sound(i)
    ? [`integrity: ${c.green('sound')} (${i.check})`]
    : [`integrity: ${c.red('FAILED')} (${i.check})`, ...i.findings.map((f) => `  ${f}`)];

const integrityJson = (i: Integrity) => ({ check: i.check, sound: sound(i), findings: i.findings });

const checkFailed = (i: Integrity): string =>
  `the store failed its integrity check (${i.check}): ${i.findings[0] ?? ''}` +
  (i.findings.length > 1 ? ` (and ${plural(i.findings.length - 1, 'more finding')})` : '');

/** The status, with the integrity check's verdict when one was made: a failed check fails the command. */
const shown = (
  ctx: CliContext,
  integrity: Integrity | null,
  verdict: CliError,
): TE.TaskEither<CliError, void> =>
  withSession(ctx, (s) =>
    pipe(
      TE.fromTask(async () => {
        const head = await s.store.head();
        // Removed destinations are history (log, explain), not something to watch.
        const views = [...s.state.destinations.values()].sort((a, b) =>
          compareStrings(a.destinationId, b.destinationId),
        );
        const destinations: DestinationStatus[] = [];
        for (const v of views)
          if (v.config !== null)
            destinations.push(
              destinationStatus(s.state, head, v, v.config, await checkRecords(ctx, v, v.config)),
            );
        return { head, destinations };
      }),
      TE.chainEitherK(({ head, destinations }) => {
        // Where the engine state is kept, and how much this command folded onto what was saved.
        const folded = s.state.position - s.savedAt;
        const state = { path: s.file?.path ?? null, savedAt: s.savedAt, folded };
        if (ctx.options.json) {
          printJson(ctx.io, {
            head,
            state,
            ...(integrity === null ? {} : { integrity: integrityJson(integrity) }),
            destinations,
          });
        } else {
          printLines(ctx.io, [
            `store head: position ${head}`,
            state.path === null
              ? `state: in memory (folded all ${plural(folded, 'position')})`
              : `state: ${state.path}, saved at position ${s.savedAt}; folded ${plural(folded, 'position')} after it`,
            ...(integrity === null ? [] : integrityLines(ctx.colors, integrity)),
            ...(destinations.length === 0
              ? ['no destinations are configured: run `syncline apply` first']
              : destinations.flatMap((d) => humanLines(ctx.colors, d))),
          ]);
        }
        return integrity === null || sound(integrity) ? E.right(undefined) : E.left(verdict);
      }),
    ),
  );

/**
 * `--check` checks the store before folding it: damage the fold meets too (events the state file
 * has not folded) then stops the status, but not the verdict, which is what the user asked for.
 */
const run = (ctx: CliContext, flags: StatusFlags): TE.TaskEither<CliError, void> => {
  if (flags.check !== true) return shown(ctx, null, failed(''));
  return pipe(
    withStore(ctx, (store) =>
      pipe(
        store.checkIntegrity(),
        TE.mapLeft((e) =>
          storeFailed(`the store could not be checked: ${'message' in e ? e.message : e._tag}`),
        ),
      ),
    ),
    TE.chain((integrity) => async () => {
      const message = checkFailed(integrity);
      const verdict = failed(message);
      const outcome = await shown(ctx, integrity, verdict)().catch((e: unknown) => E.left(unexpected(e)));
      if (E.isRight(outcome) || outcome.left === verdict || sound(integrity)) return outcome;
      return E.left(
        failed(`${message}; and its status cannot be shown: ${errorLines(outcome.left).join('; ')}`),
      );
    }),
  );
};

type StatusFlags = { readonly check?: boolean };

export const statusCommand: CliCommand = (program, runHandler) => {
  program
    .command('status')
    .description('the store head and, per destination: last run, lag, failures, unsettled commands')
    .option(
      '--check',
      "also check the store's file for damage (SQLite's integrity check; reads the whole store) and fail if it finds any",
    )
    .action((flags: StatusFlags, command: Command) => runHandler(command, (ctx) => run(ctx, flags)));
};
