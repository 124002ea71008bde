// `syncline log --destination D [--profile P] [--run R] [--operation OP] [--since T] [--until T]`:
// every recorded decision, oldest first, with its outcome, three times and the events that caused it.
import { Option, type Command } from 'commander';
import * as TE from 'fp-ts/lib/TaskEither.js';
import { pipe } from 'fp-ts/lib/function.js';
import type { DecisionOperation } from '../../../domain/decision.js';
import type { SyncModeName } from '../../../domain/modes.js';
import {
  decisionLog,
  outcomeWords,
  type DecisionLog,
  type LogEntry,
  type Outcome,
} from '../../../engine/audit/decisionLog.js';
import type { HistoryError } from '../../../engine/audit/history.js';
import type { EventStore } from '../../../engine/ports.js';
import { destinationTypes } from '../../destinations/registry.js';
import type { CliCommand, CliContext } from '../command.js';
import { storeDamaged, type CliError } from '../errors.js';
import { plural, printJson, printLines, table, type Colors } from '../output.js';
import { timeOption } from '../time.js';
import { summarizeChanges } from './simulate.js';
import { positiveInt } from './sync.js';
import { unknownDestination, withStore } from '../workspace.js';

export { withStore };

/** A history that cannot be read: a damaged store, or a destination the store never had (named as every command names one). */
export const historyError =
  (ctx: CliContext, store: EventStore) =>
  (e: HistoryError): TE.TaskEither<CliError, never> =>
    e._tag === 'InvalidStoredEvent'
      ? TE.left(storeDamaged(e))
      : unknownDestination(ctx, store, e.destinationId);

/** The mode a destination's type falls back to when its configuration names none. */
export const typeDefaultMode = (type: string): SyncModeName =>
  destinationTypes.get(type)?.description.defaultMode ?? 'sync';

/** `2026-03-01 10:00:00Z`; only the time of day when `sameDayAs` falls on the same date. */
export const showTime = (iso: string | null, sameDayAs?: string): string => {
  if (iso === null) return '';
  const full = iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z');
  return sameDayAs !== undefined && sameDayAs.slice(0, 10) === iso.slice(0, 10) ? full.slice(11) : full;
};

export const paintOutcome = (c: Colors, o: Outcome, text: string): string => {
  switch (o.status) {
    case 'applied':
      return c.green(text);
    case 'failed':
      return c.red(text);
    case 'pending':
    case 'superseded':
      return c.yellow(text);
    case 'skipped':
      return c.dim(text);
  }
};

export const paintOperation = (c: Colors, op: string): string =>
  op === 'create' ? c.green(op) : op === 'update' ? c.cyan(op) : op === 'delete' ? c.red(op) : c.yellow(op);

const decisionCell = (c: Colors, x: LogEntry): string => {
  const d = x.decision;
  const key = d.key ?? '';
  const rename = x.keyAfter !== null && x.keyAfter !== key ? ` → ${x.keyAfter}` : '';
  const changes = summarizeChanges(d);
  const detail = d.operation === 'skip' ? (d.message ?? '') : changes;
  const target = key === '' ? '' : ` ${key}${rename}`;
  return `${paintOperation(c, d.operation)}${target}${detail === '' ? '' : `: ${detail}`}`;
};

const outcomeCell = (c: Colors, x: LogEntry): string => {
  const o = x.outcome;
  const when =
    o.status === 'applied' || o.status === 'failed' ? ` at ${showTime(o.at, x.times.decided)}` : '';
  return paintOutcome(c, o, `${outcomeWords(o)}${when}`);
};

const causesCell = (c: Colors, x: LogEntry): string => {
  if (x.causes.length === 0) return c.dim('no new event (a retry, or another profile’s key)');
  const named = x.causes.slice(0, 3).map((e) => `${e.type} #${e.position}`);
  const more = x.causes.length > 3 ? ` and ${x.causes.length - 3} more` : '';
  return `${named.join(', ')}${more} (${showTime(x.times.caused)})`;
};

const humanLog = (ctx: CliContext, destinationId: string, log: DecisionLog): string[] => {
  const c = ctx.colors;
  const entries = log.entries;
  if (entries.length === 0) return [`${c.bold(destinationId)}: no recorded decision matches.`];
  const earlier = log.matched - entries.length;
  const rows = entries.map((x) => [
    showTime(x.times.decided),
    x.runId.slice(0, 8),
    x.profileId,
    decisionCell(c, x),
    outcomeCell(c, x),
    causesCell(c, x),
  ]);
  return [
    `${c.bold(destinationId)}: ${plural(log.matched, 'decision')}, oldest first`,
    ...(earlier > 0
      ? [c.dim(`… ${plural(earlier, 'earlier decision')} not shown (--limit N, or --json)`)]
      : []),
    table(ctx, ['decided', 'run', 'profile', 'decision', 'outcome', 'caused by (latest at)'], rows),
  ];
};

/** The entry as `--json` prints it: the log's own bookkeeping (`after`) left out. */
export const entryJson = (x: LogEntry) => ({
  runId: x.runId,
  commandId: x.commandId,
  profileId: x.profileId,
  position: x.position,
  decision: x.decision,
  keyAfter: x.keyAfter,
  outcome: x.outcome,
  times: x.times,
  causes: x.causes,
});

/**
 * Resolves once stdout has flushed its queue (or closed): a whole destination's log goes out at
 * the reader's pace, since Node queues what a pipe cannot take yet and a queue of hundreds of
 * megabytes fails (ENOBUFS). When a test substitutes the io, the real stdout's queue stays empty.
 */
const flushed = (): Promise<void> => {
  const out = process.stdout;
  if (!out.writableNeedDrain || out.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      for (const event of ['drain', 'close', 'error']) out.off(event, done);
      resolve();
    };
    for (const event of ['drain', 'close', 'error']) out.on(event, done);
  });
};

/**
 * `{"entries": [...]}` laid out as printJson lays it out, but written a slice at a time: a whole
 * destination's log as one string can be longer than a JavaScript string may be.
 */
const printEntriesJson = async (ctx: CliContext, entries: readonly LogEntry[]): Promise<void> => {
  if (entries.length === 0) return printJson(ctx.io, { entries: [] });
  ctx.io.stdout('{\n  "entries": [\n');
  for (let i = 0; i < entries.length && !process.stdout.destroyed; i += JSON_SLICE) {
    const slice = entries.slice(i, i + JSON_SLICE);
    const text = slice.map((x) => JSON.stringify(entryJson(x), null, 2).replace(/^/gm, '    ')).join(',\n');
    ctx.io.stdout(`${text}${i + JSON_SLICE < entries.length ? ',' : ''}\n`);
    await flushed();
  }
  ctx.io.stdout('  ]\n}\n');
};

const JSON_SLICE = 1000;
/** A table longer than this is no use to read; --json has them all. */
const HUMAN_LIMIT = 200;

const OPERATIONS: readonly DecisionOperation[] = ['create', 'update', 'delete', 'skip'];

type LogFlags = {
  destination: string;
  profile?: string;
  run?: string;
  operation?: DecisionOperation;
  since?: string;
  until?: string;
  limit?: number;
};

const run = (ctx: CliContext, flags: LogFlags): TE.TaskEither<CliError, void> => {
  const last = flags.limit ?? (ctx.options.json ? undefined : HUMAN_LIMIT);
  return withStore(ctx, (store) =>
    pipe(
      () =>
        decisionLog(store, flags.destination, {
          ...(flags.profile === undefined ? {} : { profileId: flags.profile }),
          ...(flags.run === undefined ? {} : { runId: flags.run }),
          ...(flags.operation === undefined ? {} : { operation: flags.operation }),
          ...(flags.since === undefined ? {} : { since: flags.since }),
          ...(flags.until === undefined ? {} : { until: flags.until }),
          ...(last === undefined ? {} : { last }),
        }),
      TE.orElseW(historyError(ctx, store)),
      TE.chain((log) =>
        TE.fromTask(() =>
          ctx.options.json
            ? printEntriesJson(ctx, log.entries)
            : Promise.resolve(printLines(ctx.io, humanLog(ctx, flags.destination, log))),
        ),
      ),
    ),
  );
};

export const logCommand: CliCommand = (program, runHandler) => {
  program
    .command('log')
    .description('the recorded decisions of a destination, oldest first: outcome, times and causes')
    .requiredOption('--destination <id>', 'the destination')
    .option('--profile <id>', 'only this profile (read through an index, not a scan)')
    .option('--run <id>', 'only this run')
    .addOption(new Option('--operation <op>', 'only this operation').choices(OPERATIONS))
    .option('--since <time>', 'decided at or after (ISO-8601, or an age: 90m, 2h, 7d)', timeOption)
    .option('--until <time>', 'decided at or before (ISO-8601, or an age)', timeOption)
    .option(
      '--limit <n>',
      `only the newest N decisions (default ${HUMAN_LIMIT} in tables, all with --json)`,
      positiveInt,
    )
    .action((flags: LogFlags, command: Command) => runHandler(command, (ctx) => run(ctx, flags)));
};
