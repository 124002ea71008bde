// `syncline explain --destination D --profile P [--at T]`: the story of one profile at one destination
// (events, config, observations, decisions with reasons, outcomes) and, with --at, the state at T.
import type { Command } from 'commander';
import * as E from 'fp-ts/lib/Either.js';
import * as TE from 'fp-ts/lib/TaskEither.js';
import { pipe } from 'fp-ts/lib/function.js';
import type { ObservedRecord } from '../../../domain/decision.js';
import { keyOfProfile } from '../../../domain/decide.js';
import { compareStrings, type Properties } from '../../../domain/values.js';
import { profileOf } from '../../../projections/world.js';
import type { EventStore } from '../../../engine/ports.js';
import type { EngineState } from '../../../engine/state/engineState.js';
import { explain, type ExplainError, type Explanation } from '../../../engine/audit/explain.js';
import type { AtState } from '../../../engine/audit/explainAt.js';
import type { TimelineItem } from '../../../engine/audit/timeline.js';
import type { CliCommand, CliContext } from '../command.js';
import { failed, type CliError } from '../errors.js';
import { withFoldedState } from '../workspace.js';
import { plural, printJson, printLines, table, type Colors } from '../output.js';
import { timeOption } from '../time.js';
import { historyError, paintOperation, paintOutcome, showTime, typeDefaultMode, withStore } from './log.js';

/**
 * The profiles that hold `value` as their key at the destination: live profiles whose key property
 * has it, and those syncline wrote a record under that key. A user often knows a person by email.
 */
export const keyHolders = (state: EngineState, destinationId: string, value: string): string[] => {
  const v = state.destinations.get(destinationId);
  const holders = new Set<string>();
  const config = v?.config;
  if (config)
    for (const id of state.world.profiles.keys()) {
      const profile = profileOf(state.world, id);
      if (profile !== null && keyOfProfile(config, profile) === value) holders.add(id);
    }
  for (const entry of v?.ledger.entries.values() ?? []) if (entry.key === value) holders.add(entry.profileId);
  return [...holders].sort(compareStrings);
};

const unknownProfile = (
  ctx: CliContext,
  store: EventStore,
  e: { profileId: string; destinationId: string },
) =>
  withFoldedState(ctx, store, (state): TE.TaskEither<CliError, never> => {
    const unknown = `profile ${e.profileId} has no events in this store and no decisions at ${e.destinationId}`;
    const holders = keyHolders(state, e.destinationId, e.profileId);
    const keyField = state.destinations.get(e.destinationId)?.config?.keyField ?? 'key';
    const [first] = holders;
    return TE.left(
      failed(
        first === undefined
          ? unknown
          : `${unknown}; the key ${keyField}=${e.profileId} is held by ${holders.length === 1 ? 'profile' : 'profiles'} ` +
              `${holders.join(', ')}: try --profile ${first}`,
      ),
    );
  });

const explainError =
  (ctx: CliContext, store: EventStore) =>
  (e: ExplainError): TE.TaskEither<CliError, never> =>
    e._tag === 'UnknownProfile' ? unknownProfile(ctx, store, e) : historyError(ctx, store)(e);

const what = (c: Colors, i: TimelineItem): string => {
  switch (i.kind) {
    case 'event':
    case 'config':
      return i.type;
    case 'observation':
      return c.dim('observed');
    case 'decision':
      return i.operation === 'nothing' ? c.dim('nothing') : paintOperation(c, i.operation);
    case 'outcome':
      return paintOutcome(c, i.outcome, i.outcome.status);
  }
};

const fieldsText = (fields: Properties): string =>
  Object.entries(fields)
    .map(([f, v]) => `${f}=${JSON.stringify(v)}`)
    .join(', ');

const recordText = (r: { key: string; fields: Properties; groups: readonly string[] }): string =>
  `${r.key} {${fieldsText(r.fields)}}${r.groups.length > 0 ? ` [${r.groups.join(', ')}]` : ''}`;

const atRows = (c: Colors, a: AtState): string[][] => {
  const d = a.desired;
  const o = a.observed;
  const seen =
    o.lastObservation === null
      ? 'never looked up'
      : `run ${o.lastObservation.runId.slice(0, 8)} at ${showTime(o.lastObservation.at)}` +
        (o.appliedSince > 0 ? `, then ${plural(o.appliedSince, 'applied command')}` : '');
  const verdict = a.verdict;
  return [
    [
      'desired',
      `${d.inScope ? c.green('in scope') : c.yellow('out of scope')} (${d.scope})` +
        (d.inScope
          ? `; key ${d.key ?? '(none)'}; ${fieldsText(d.fields)}; groups ${d.groups.join(', ') || '(none)'}`
          : ''),
    ],
    [
      'observed',
      `${o.records.length > 0 ? o.records.map((r: ObservedRecord) => recordText(r)).join('; ') : 'no record'} (${seen})`,
    ],
    ['ledger', a.ledger === null ? 'nothing written' : recordText(a.ledger)],
    [
      'a sync would',
      verdict === null
        ? c.dim('not run')
        : verdict.operation === 'nothing'
          ? c.dim('do nothing')
          : `${paintOperation(c, verdict.operation)} ${verdict.key ?? ''}`,
    ],
    ['because', a.reason],
    ...a.notes.map((n, i) => [i === 0 ? 'notes' : '', c.dim(n)]),
  ];
};

const humanExplain = (ctx: CliContext, x: Explanation): string[] => {
  const c = ctx.colors;
  const lines = [
    `${c.bold(x.profileId)} at ${c.bold(x.destinationId)}: ${plural(x.timeline.length, 'step')}`,
  ];
  if (x.timeline.length > 0)
    lines.push(
      table(
        ctx,
        ['#', 'time', 'what', 'detail'],
        x.timeline.map((i) => [String(i.position), showTime(i.at), what(c, i), i.summary]),
      ),
    );
  if (x.omittedEvents > 0)
    lines.push(
      c.dim(
        `${plural(x.omittedEvents, 'other event')} of ${x.profileId} changed nothing ${x.destinationId} sees.`,
      ),
    );
  if (x.pending.length > 0)
    lines.push(
      c.yellow(
        `${plural(x.pending.length, 'command')} without an outcome ${x.at === null ? 'yet' : 'by then'} (pending).`,
      ),
    );
  if (x.at !== null) {
    const head = [`as of ${showTime(x.at.at)}`, `the store up to position #${x.at.position}`];
    lines.push('', table(ctx, head, atRows(c, x.at)));
  }
  return lines;
};

type ExplainFlags = { destination: string; profile: string; at?: string };

const run = (ctx: CliContext, flags: ExplainFlags): TE.TaskEither<CliError, void> =>
  withStore(ctx, (store) =>
    pipe(
      () =>
        explain(store, flags.destination, flags.profile, {
          defaultMode: typeDefaultMode,
          ...(flags.at === undefined ? {} : { at: flags.at }),
        }),
      TE.orElseW(explainError(ctx, store)),
      TE.chainEitherK((x) => {
        if (ctx.options.json) printJson(ctx.io, x);
        else printLines(ctx.io, humanExplain(ctx, x));
        return E.right(undefined);
      }),
    ),
  );

export const explainCommand: CliCommand = (program, runHandler) => {
  program
    .command('explain')
    .description('the story of one profile at one destination, each decision with its reason')
    .requiredOption('--destination <id>', 'the destination')
    .requiredOption('--profile <id>', 'the profile')
    .option('--at <time>', 'also show the state at this time and what a sync would have decided', timeOption)
    .action((flags: ExplainFlags, command: Command) => runHandler(command, (ctx) => run(ctx, flags)));
};
