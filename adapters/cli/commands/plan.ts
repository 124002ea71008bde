// `syncline plan [--destination D] [--mode M]`: a dry run — what a sync would decide now, or what
// switching to mode M would do — with counts; nothing is written to the store or the destination.
import { Option, type Command } from 'commander';
import * as TE from 'fp-ts/lib/TaskEither.js';
import { pipe } from 'fp-ts/lib/function.js';
import type { DecisionOperation } from '../../../domain/decision.js';
import { SYNC_MODES, type SyncModeName } from '../../../domain/modes.js';
import { defaultDelivery } from '../../../engine/deliver.js';
import { planDestination, type Plan } from '../../../engine/plan.js';
import type { CliCommand, CliContext } from '../command.js';
import { destinationFailed, type CliError } from '../errors.js';
import { plural, printJson, printLines, table } from '../output.js';
import { summarizeChanges } from './simulate.js';
import { positiveInt } from './sync.js';
import { chosenDestinations, openDestination, withSession, type Session } from '../workspace.js';

type PlanFlags = {
  destination?: string;
  mode?: SyncModeName;
  batchSize: number;
  full?: boolean;
  limit: number;
};

const OPERATIONS: readonly DecisionOperation[] = ['create', 'update', 'delete', 'skip'];

const countsOf = (p: Plan): Record<string, number> => {
  const counts: Record<string, number> = { create: 0, update: 0, delete: 0, skip: 0 };
  for (const d of p.decisions) counts[d.operation] = (counts[d.operation] ?? 0) + 1;
  return { ...counts, unchanged: p.unchanged };
};

const planOne = (
  ctx: CliContext,
  s: Session,
  destinationId: string,
  flags: PlanFlags,
): TE.TaskEither<CliError, Plan> => {
  const config = s.state.destinations.get(destinationId)?.config;
  return TE.bracket(
    openDestination(ctx, config as NonNullable<typeof config>),
    (destination) =>
      pipe(
        () =>
          planDestination(s.state, destinationId, destination, {
            batchSize: flags.batchSize,
            full: flags.full === true,
            delivery: defaultDelivery,
            ...(flags.mode === undefined ? {} : { mode: flags.mode }),
          }),
        TE.mapLeft(destinationFailed),
      ),
    (destination) => TE.fromTask(() => destination.close()),
  );
};

const humanPlan = (ctx: CliContext, p: Plan, limit: number): string[] => {
  const c = ctx.colors;
  const counts = countsOf(p);
  const lines = [
    `${c.bold(p.destinationId)} (${p.mode}): ${plural(p.considered, 'profile')} to look at (${p.reason}) — ` +
      OPERATIONS.map((op) => `${counts[op]} ${op}`).join(', ') +
      `, ${p.unchanged} unchanged`,
    ...(p.notice === undefined ? [] : [`  ${c.yellow(p.notice)}`]),
  ];
  if (p.decisions.length > 0) {
    const rows = p.decisions
      .slice(0, limit)
      .map((d) => [d.profileId, d.operation, d.key ?? '', summarizeChanges(d), d.message ?? '']);
    lines.push(table(c, ['profile', 'operation', 'key', 'changes', 'message'], rows));
    if (p.decisions.length > limit)
      lines.push(`  … and ${p.decisions.length - limit} more (--limit N, or --json)`);
  }
  return lines;
};

const run = (ctx: CliContext, flags: PlanFlags): TE.TaskEither<CliError, void> =>
  withSession(ctx, (s) =>
    pipe(
      TE.fromEither(chosenDestinations(s.state, flags.destination)),
      TE.chain((ds) => TE.sequenceSeqArray(ds.map((d) => planOne(ctx, s, d.destinationId, flags)))),
      TE.map((plans) =>
        ctx.options.json
          ? printJson(ctx.io, {
              destinations: plans.map((p) => ({
                destinationId: p.destinationId,
                mode: p.mode,
                reason: p.reason,
                ...(p.notice === undefined ? {} : { notice: p.notice }),
                considered: p.considered,
                counts: countsOf(p),
                decisions: p.decisions,
              })),
            })
          : printLines(ctx.io, [
              ...plans.flatMap((p) => humanPlan(ctx, p, flags.limit)),
              'Nothing was written (dry run).',
            ]),
      ),
    ),
  );

export const planCommand: CliCommand = (program, runHandler) => {
  program
    .command('plan')
    .description('dry run: the decisions a sync would make now, with counts; writes nothing')
    .option('--destination <id>', 'only this destination')
    .addOption(
      new Option('--mode <mode>', 'what this sync mode would do now (a migration preview)').choices(
        SYNC_MODES,
      ),
    )
    .option('--full', 'look at every profile, not only those changed since the last run')
    .option('--batch-size <n>', 'profiles per lookup batch', positiveInt, 500)
    .option('--limit <n>', 'decisions listed in the table', positiveInt, 50)
    .action((flags: PlanFlags, command: Command) => runHandler(command, (ctx) => run(ctx, flags)));
};
