// `syncline plan [--destination D] [--mode M]`: a dry run — what a sync would decide now, or what
// switching to mode M would do — with counts; nothing is written to the store or the destination.
import { Option, type Command } from 'commander';
import * as E from 'fp-ts/lib/Either.js';
import * as TE from 'fp-ts/lib/TaskEither.js';
import { pipe } from 'fp-ts/lib/function.js';
import type { DecisionOperation } from '../../../domain/decision.js';
import type { DestinationConfig } from '../../../domain/destination.js';
import { SYNC_MODES, type SyncModeName } from '../../../domain/modes.js';
import { defaultDelivery } from '../../../engine/sync/deliver.js';
import { planDestination, type Plan, type PlanError } from '../../../engine/sync/plan.js';
import type { CliCommand, CliContext } from '../command.js';
import { destinationFailed, errorLines, failed, type CliError } from '../errors.js';
import { plural, printJson, printLines, table } from '../output.js';
import { naming } from '../syncReport.js';
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

/** Why a destination could not be planned: it would not open, or would not be looked up in. */
type Unplanned = {
  readonly destinationId: string;
  readonly kind: 'CannotOpen' | 'LookupFailed';
  /** one line naming the destination: what stderr says, and --json's error.message */
  readonly message: string;
};

const planOne = async (
  ctx: CliContext,
  s: Session,
  config: DestinationConfig,
  flags: PlanFlags,
): Promise<E.Either<Unplanned, Plan>> => {
  const { destinationId } = config;
  const opened = await openDestination(ctx, config)();
  if (E.isLeft(opened))
    return E.left({
      destinationId,
      kind: 'CannotOpen',
      message: naming(destinationId, errorLines(opened.left).join('; ')),
    });
  try {
    const planned = await planDestination(s.state, destinationId, opened.right, {
      batchSize: flags.batchSize,
      full: flags.full === true,
      delivery: defaultDelivery,
      ...(flags.mode === undefined ? {} : { mode: flags.mode }),
    });
    return E.mapLeft((e: PlanError): Unplanned => ({
      destinationId,
      kind: 'LookupFailed',
      message:
        e._tag === 'UnknownDestination'
          ? `destination ${destinationId} is not configured`
          : `destination ${destinationId}: ${e.failure.message}`,
    }))(planned);
  } finally {
    await opened.right.close();
  }
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
    lines.push(table(ctx, ['profile', 'operation', 'key', 'changes', 'message'], rows));
    if (p.decisions.length > limit)
      lines.push(`  … and ${p.decisions.length - limit} more (--limit N, or --json)`);
  }
  return lines;
};

const planJson = (p: Plan) => ({
  destinationId: p.destinationId,
  mode: p.mode,
  reason: p.reason,
  ...(p.notice === undefined ? {} : { notice: p.notice }),
  considered: p.considered,
  counts: countsOf(p),
  decisions: p.decisions,
});

/**
 * Plans every destination, whatever happens to the ones before, as sync syncs them: with several,
 * each one that cannot be planned is reported on stderr as it comes, and a last line names them.
 */
const planAll =
  (
    ctx: CliContext,
    s: Session,
    configs: readonly DestinationConfig[],
    flags: PlanFlags,
  ): TE.TaskEither<CliError, void> =>
  async () => {
    const outcomes: E.Either<Unplanned, Plan>[] = [];
    for (const config of configs) {
      const outcome = await planOne(ctx, s, config, flags);
      if (E.isLeft(outcome) && configs.length > 1) ctx.io.stderr(`syncline: ${outcome.left.message}\n`);
      outcomes.push(outcome);
    }
    const plans = outcomes.flatMap((o) => (E.isRight(o) ? [o.right] : []));
    const unplanned = outcomes.flatMap((o) => (E.isLeft(o) ? [o.left] : []));
    if (ctx.options.json)
      printJson(ctx.io, {
        destinations: outcomes.map((o) =>
          E.isRight(o)
            ? planJson(o.right)
            : { destinationId: o.left.destinationId, error: { kind: o.left.kind, message: o.left.message } },
        ),
      });
    else if (plans.length > 0)
      printLines(ctx.io, [
        ...plans.flatMap((p) => humanPlan(ctx, p, flags.limit)),
        'Nothing was written (dry run).',
      ]);
    const [only] = unplanned;
    if (only === undefined) return E.right(undefined);
    if (configs.length === 1) return E.left(destinationFailed(only.message));
    const ids = unplanned.map((u) => u.destinationId).join(', ');
    return E.left(
      failed(`${unplanned.length} of ${configs.length} destinations could not be planned: ${ids}`),
    );
  };

const run = (ctx: CliContext, flags: PlanFlags): TE.TaskEither<CliError, void> =>
  withSession(ctx, (s) =>
    pipe(
      TE.fromEither(chosenDestinations(s.state, flags.destination)),
      TE.chain((configs) => planAll(ctx, s, configs, flags)),
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
