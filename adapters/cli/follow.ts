// `sync --follow`: keeps syncing as events arrive until SIGINT or SIGTERM, printing each run that
// did something (a JSON line per run with --json) and each destination not synced, and going on.
import * as E from 'fp-ts/lib/Either.js';
import * as TE from 'fp-ts/lib/TaskEither.js';
import type { DestinationConfig } from '../../domain/destination.js';
import { defaultSyncOptions, type SyncError } from '../../engine/sync/run.js';
import type { Destination } from '../../engine/ports.js';
import { skippedTotal, type RunSummary } from '../../engine/sync/summary.js';
import type { CliContext } from './command.js';
import { errorLines, failed, type CliError } from './errors.js';
import { plural, printLines } from './output.js';
import {
  asCliError,
  cannotOpen,
  notSynced,
  notSyncedJson,
  summaryJson,
  type NotSynced,
} from './syncReport.js';
import { catchUpSaving, saveState, stateDamageIn, StateFileDamaged } from './stateSession.js';
import { openDestination, type Session } from './workspace.js';

const isSummary = (o: RunSummary | SyncError): o is RunSummary => 'totals' in o;

const didSomething = ({ considered, totals: t }: RunSummary): boolean =>
  considered > 0 && t.created + t.updated + t.deleted + t.failed + skippedTotal(t) > 0;

type Opened = { readonly destinationId: string; readonly destination: Destination };

/**
 * A destination that fails (a run stopped by the destination, another process syncing it, the delete
 * guardrail) is reported and tried again at the next round of runs: a follower is left running
 * unattended, and the others must not wait on it. One that cannot be opened is reported and left out
 * until the follower is started again. A failing store stops the follower: nothing can be recorded.
 * Stopped by a signal, it exits 1 if a destination's last run failed or one could not be opened,
 * naming them, as `sync` does.
 */
export const follow = (
  ctx: CliContext,
  s: Session,
  configs: readonly DestinationConfig[],
  options: { batchSize: number; applyBatchSize: number; maxDeletes?: number },
  describeRun: (r: RunSummary) => string[],
): TE.TaskEither<CliError, void> => {
  /** Each destination's latest failure, or null once it has run since. */
  const failing = new Map<string, NotSynced | null>();
  const report = (f: NotSynced): void => {
    failing.set(f.destinationId, f);
    if (ctx.options.json) ctx.io.stdout(`${JSON.stringify(notSyncedJson(f))}\n`);
    ctx.io.stderr(`syncline: ${f.message}\n`);
  };
  const stopped = (): E.Either<CliError, void> => {
    const ids = configs.flatMap((c) => (failing.get(c.destinationId) ? [c.destinationId] : []));
    return ids.length === 0
      ? E.right(undefined)
      : E.left(
          failed(
            `stopped with ${ids.length} of ${plural(configs.length, 'destination')} failing: ${ids.join(', ')}`,
          ),
        );
  };
  return async () => {
    const destinations: Opened[] = [];
    const unopened: NotSynced[] = [];
    for (const config of configs) {
      const opened = await openDestination(ctx, config)();
      if (E.isRight(opened))
        destinations.push({ destinationId: config.destinationId, destination: opened.right });
      else unopened.push(cannotOpen(config.destinationId, errorLines(opened.left).join('; ')));
    }
    // Nothing to follow: a destination alone fails with its reason, as any command does.
    const [only] = unopened;
    if (destinations.length === 0 && unopened.length === 1 && only !== undefined)
      return E.left(asCliError(only));
    unopened.forEach(report);
    if (destinations.length === 0)
      return E.left(
        failed(`no destination could be opened: ${unopened.map((f) => f.destinationId).join(', ')}`),
      );
    // rxjs takes 100–130 ms to load, which every command would pay at start if this module loaded
    // it: only a follower does.
    const [{ followSync }, { Subject }] = await Promise.all([import('../rxjs/live.js'), import('rxjs')]);
    return new Promise((resolve, reject) => {
      let ended = false;
      const done = (outcome: E.Either<CliError, void> | StateFileDamaged) => {
        if (ended) return;
        ended = true;
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        subscription.unsubscribe();
        void Promise.all(destinations.map((d) => d.destination.close())).then(() =>
          outcome instanceof StateFileDamaged ? reject(outcome) : resolve(outcome),
        );
      };
      // The first signal lets the run under way end (its outcomes recorded, the state saved), then
      // stops; a second one stops at once, leaving that run to the next sync's crash recovery.
      const stopping = new Subject<void>();
      const stop = () => {
        if (stopping.observed) stopping.next();
        else done(stopped());
        stopping.complete();
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
      if (!ctx.options.json) printLines(ctx.io, [`following the store; Ctrl-C to stop`]);
      // Saved between rounds of runs, where no run is in the middle of its folds (the session saves
      // once more at the end).
      const keep = async (): Promise<void> => {
        const file = s.file;
        if (file === undefined) return;
        saveState(ctx, file);
        if (!file.isStale) return;
        // Another process saved first: its state is taken up here, where no run holds on to this
        // one, caught up and saved, so that what this round did is not left unsaved until the next.
        if (E.isRight(await catchUpSaving(ctx, s.store, file))) saveState(ctx, file);
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
        stopping,
      ).subscribe({
        complete: () => done(stopped()),
        next: ({ destinationId, outcome }) => {
          if (!isSummary(outcome)) {
            const f = notSynced(destinationId, outcome, options.maxDeletes);
            if (f.kind === 'StoreFailed') return done(E.left(asCliError(f)));
            return report(f);
          }
          failing.set(destinationId, null);
          if (!didSomething(outcome)) return;
          if (ctx.options.json) ctx.io.stdout(`${JSON.stringify(summaryJson(outcome))}\n`);
          else printLines(ctx.io, [`${new Date().toISOString()}`, ...describeRun(outcome)]);
        },
        // A state file that cannot give back what it holds is no bug: --rebuild-state is the remedy.
        // Thrown on, so that the session closes the state unsaved (see endingSession).
        error: (e: unknown) => {
          const damage = s.file && stateDamageIn(e, s.file.path);
          done(
            damage === undefined
              ? E.left({ _tag: 'Unexpected', message: String(e) })
              : new StateFileDamaged(damage),
          );
        },
      });
    });
  };
};
