// `syncline ingest --from nats://HOST:PORT --stream NAME`: the ingest of events a JetStream stream
// holds, through a durable consumer; with --follow, until SIGINT or SIGTERM (the batch under way ends first).
import * as E from 'fp-ts/lib/Either.js';
import * as TE from 'fp-ts/lib/TaskEither.js';
import { pipe } from 'fp-ts/lib/function.js';
import { consumeEvents, type ConsumeError, type Consumed } from '../../nats/consume.js';
import { connectNats, natsServerOf } from '../../nats/connection.js';
import { invalidStoredMessage } from '../../../engine/state/storedEvents.js';
import type { CliContext } from '../command.js';
import { failed, storeFailed, usageError, type CliError } from '../errors.js';
import { plural, printJson, printLines } from '../output.js';
import { withSession } from '../workspace.js';

export type NatsFlags = {
  readonly from: string;
  readonly stream?: string;
  readonly subject?: string;
  readonly durable: string;
  readonly rejectSubject: string;
  readonly batch: string;
  readonly follow?: boolean;
};

const asCliError = (e: ConsumeError): CliError => {
  switch (e._tag) {
    case 'NatsUnavailable':
    case 'NoSuchStream':
      return failed(e.message);
    case 'StoreFailed':
      return storeFailed(`could not store the events: ${e.message}`);
    case 'InvalidStoredEvent':
      return storeFailed(invalidStoredMessage(e));
  }
};

const summary = (c: Consumed, source: string, rejectSubject: string): string =>
  `ingested ${plural(c.stored, 'event')} from ${source}` +
  (c.duplicates > 0 ? ` (${c.duplicates} already stored)` : '') +
  (c.rejected > 0 ? `; ${plural(c.rejected, 'message')} refused, set aside on ${rejectSubject}` : '');

export const ingestFromNats = (
  ctx: CliContext,
  flags: NatsFlags,
  checkDestination: Parameters<typeof consumeEvents>[4]['checkDestination'],
): TE.TaskEither<CliError, void> => {
  const server = natsServerOf(flags.from);
  if (E.isLeft(server)) return TE.left(usageError(`--from: ${server.left}`));
  if (flags.stream === undefined) return TE.left(usageError('--from needs --stream NAME'));
  const stream = flags.stream;
  const batch = Number(flags.batch);
  if (!Number.isInteger(batch) || batch < 1 || batch > 10_000)
    return TE.left(
      usageError(`--batch: ${JSON.stringify(flags.batch)} is not a whole number from 1 to 10000`),
    );
  const source = `${server.right.shown}, stream ${stream}`;
  // The server first: one that does not answer leaves no store made, nothing written.
  return pipe(
    () => connectNats(server.right),
    TE.mapLeft((e) => failed(e.message)),
    TE.chain((nc) =>
      TE.bracket(
        TE.right(nc),
        () =>
          withSession(
            ctx,
            (s) => async () => {
              const stop = new AbortController();
              const end = () => stop.abort();
              process.on('SIGINT', end);
              process.on('SIGTERM', end);
              const progress = flags.follow === true && ctx.io.interactive && !ctx.options.json;
              try {
                if (flags.follow === true && !ctx.options.json)
                  printLines(ctx.io, [`ingesting from ${source}; Ctrl-C to stop`]);
                const consumed = await consumeEvents(s.store, s.state, nc, server.right, {
                  stream,
                  ...(flags.subject === undefined ? {} : { subject: flags.subject }),
                  durable: flags.durable,
                  rejectSubject: flags.rejectSubject,
                  batch,
                  follow: flags.follow === true,
                  signal: stop.signal,
                  checkDestination,
                  ...(progress
                    ? {
                        onBatch: (c: Consumed) =>
                          ctx.io.stdout(
                            `\r${c.received} received, ${c.stored} stored, ${c.rejected} refused`,
                          ),
                      }
                    : {}),
                });
                if (progress) ctx.io.stdout('\n');
                if (E.isLeft(consumed)) return E.left(asCliError(consumed.left));
                if (ctx.options.json)
                  printJson(ctx.io, { source: server.right.shown, stream, ...consumed.right });
                else printLines(ctx.io, [summary(consumed.right, source, flags.rejectSubject)]);
                return E.right(undefined);
              } finally {
                process.off('SIGINT', end);
                process.off('SIGTERM', end);
              }
            },
            { create: true },
          ),
        () => TE.fromTask(() => nc.close().catch(() => undefined)),
      ),
    ),
  );
};
