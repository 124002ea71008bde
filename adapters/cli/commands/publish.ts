// `syncline publish --to nats://HOST:PORT`: the engine's events (runs, decisions, outcomes) out to
// JetStream in store order, resuming at the store's checkpoint; with --follow, until SIGINT/SIGTERM.
import type { Command } from 'commander';
import * as E from 'fp-ts/lib/Either.js';
import * as TE from 'fp-ts/lib/TaskEither.js';
import { pipe } from 'fp-ts/lib/function.js';
import { connectNats, natsServerOf } from '../../nats/connection.js';
import { publishEvents, type PublishError, type Published } from '../../nats/publish.js';
import type { CliCommand, CliContext } from '../command.js';
import { failed, usageError, type CliError } from '../errors.js';
import { plural, printJson, printLines } from '../output.js';
import { withStore } from '../workspace.js';

type PublishFlags = { to: string; subjectPrefix: string; destination?: string; follow?: boolean };

/** Acknowledgements awaited at once: JetStream answers each publish, and waiting for each in turn
 *  would cost a round trip per event. */
const WINDOW = 256;

const asCliError = (e: PublishError): CliError => failed(e.message);

const PREFIX = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;

const summary = (p: Published, shown: string): string =>
  p.published === 0
    ? `nothing to publish to ${shown}: the store is published up to position ${p.to} (checkpoint ${p.checkpoint})`
    : `published ${plural(p.published, 'event')} to ${shown}` +
      (p.duplicates === 0 ? '' : ` (${p.duplicates} JetStream already held)`) +
      `, positions ${p.from + 1}–${p.to}; checkpoint ${p.checkpoint} at ${p.to}`;

const run = (ctx: CliContext, flags: PublishFlags): TE.TaskEither<CliError, void> => {
  const server = natsServerOf(flags.to);
  if (E.isLeft(server)) return TE.left(usageError(`--to: ${server.left}`));
  if (!PREFIX.test(flags.subjectPrefix))
    return TE.left(
      usageError(
        `--subject-prefix: ${JSON.stringify(flags.subjectPrefix)} is not a subject of plain tokens (a.b.c)`,
      ),
    );
  return withStore(ctx, (store) =>
    pipe(
      () => connectNats(server.right),
      TE.mapLeft(asCliError),
      TE.chain((nc) => async () => {
        const stop = new AbortController();
        const end = () => stop.abort();
        process.on('SIGINT', end);
        process.on('SIGTERM', end);
        try {
          if (flags.follow === true && !ctx.options.json)
            printLines(ctx.io, [`publishing to ${server.right.shown} as the store grows; Ctrl-C to stop`]);
          const published = await publishEvents(store, nc, server.right, {
            prefix: flags.subjectPrefix,
            ...(flags.destination === undefined ? {} : { destination: flags.destination }),
            window: WINDOW,
            follow: flags.follow === true,
            signal: stop.signal,
            checkpointMs: 1_000,
          });
          if (E.isLeft(published)) return E.left(asCliError(published.left));
          if (ctx.options.json) printJson(ctx.io, { server: server.right.shown, ...published.right });
          else printLines(ctx.io, [summary(published.right, server.right.shown)]);
          return E.right(undefined);
        } finally {
          process.off('SIGINT', end);
          process.off('SIGTERM', end);
          await nc.close().catch(() => undefined);
        }
      }),
    ),
  );
};

export const publishCommand: CliCommand = (program, runHandler) => {
  program
    .command('publish')
    .description(
      "publish syncline's own events (runs, decisions, outcomes) to NATS JetStream in store order, each once",
    )
    .requiredOption('--to <url>', 'the NATS server: nats://HOST:PORT')
    .option('--subject-prefix <prefix>', 'subjects are <prefix>.<destinationId>.<eventType>', 'syncline')
    .option('--destination <id>', "only this destination's events (with a checkpoint of its own)")
    .option('--follow', 'go on publishing as the store grows, until SIGINT or SIGTERM')
    .action((flags: PublishFlags, command: Command) => runHandler(command, (ctx) => run(ctx, flags)));
};
