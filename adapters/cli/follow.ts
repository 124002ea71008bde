// `sync --follow`: keeps syncing as events arrive until SIGINT or SIGTERM, printing each run that
// did something (a JSON line per run with --json), and stopping on the first refused run.
import * as TE from 'fp-ts/lib/TaskEither.js';
import { pipe } from 'fp-ts/lib/function.js';
import type { Destination as DestinationConfig } from '../../domain/destination.js';
import { defaultSyncOptions, type SyncError } from '../../engine/run.js';
import type { Destination } from '../../engine/ports.js';
import type { RunSummary } from '../../engine/summary.js';
import type { CliContext } from './command.js';
import type { CliError } from './errors.js';
import { printLines } from './output.js';
import { keepingSnapshot, openDestination, type Session } from './workspace.js';

const isSummary = (o: RunSummary | SyncError): o is RunSummary => 'totals' in o;

const didSomething = (r: RunSummary): boolean =>
  r.considered > 0 && Object.entries(r.totals).some(([k, n]) => k !== 'unchanged' && n > 0);

export const follow = (
  ctx: CliContext,
  s: Session,
  configs: readonly DestinationConfig[],
  options: { batchSize: number; applyBatchSize: number; maxDeletes?: number },
  describeRun: (r: RunSummary) => string[],
  toError: (e: SyncError) => CliError,
): TE.TaskEither<CliError, void> =>
  pipe(
    TE.sequenceSeqArray(configs.map((c) => openDestination(ctx, c))),
    TE.chain((opened) => {
      const destinations: { destinationId: string; destination: Destination }[] = opened.map(
        (destination, i) => ({
          destinationId: (configs[i] as DestinationConfig).destinationId,
          destination,
        }),
      );
      return async () => {
        // rxjs takes 100–130 ms to load, which every command would pay at start if this module loaded
        // it: only a follower does.
        const { followSync } = await import('../rxjs/live.js');
        return new Promise((resolve) => {
          const done = (outcome: Awaited<ReturnType<TE.TaskEither<CliError, void>>>) => {
            process.off('SIGINT', stop);
            process.off('SIGTERM', stop);
            subscription.unsubscribe();
            void Promise.all(opened.map((d) => d.close())).then(() => resolve(outcome));
          };
          const stop = () => done({ _tag: 'Right', right: undefined });
          process.on('SIGINT', stop);
          process.on('SIGTERM', stop);
          if (!ctx.options.json) printLines(ctx.io, [`following the store; Ctrl-C to stop`]);
          // Kept between rounds of runs, never at the end: a stop can come in the middle of a run,
          // and folding the state then would race the run's own folds.
          let folded = s.folded;
          const keep = async (): Promise<void> => {
            if (ctx.options.snapshots) folded = await keepingSnapshot(ctx, { ...s, folded });
          };
          const subscription = followSync(
            s.store,
            s.state,
            destinations,
            {
              ...defaultSyncOptions,
              batchSize: options.batchSize,
              applyBatchSize: options.applyBatchSize,
              ...(options.maxDeletes === undefined ? {} : { maxDeletes: options.maxDeletes }),
            },
            undefined,
            keep,
          ).subscribe({
            next: ({ outcome }) => {
              if (!isSummary(outcome)) return done({ _tag: 'Left', left: toError(outcome) });
              if (!didSomething(outcome)) return;
              if (ctx.options.json) ctx.io.stdout(`${JSON.stringify(outcome)}\n`);
              else printLines(ctx.io, [`${new Date().toISOString()}`, ...describeRun(outcome)]);
            },
            error: (e: unknown) => done({ _tag: 'Left', left: { _tag: 'Unexpected', message: String(e) } }),
          });
        });
      };
    }),
  );
