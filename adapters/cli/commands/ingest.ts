// `syncline ingest FILE|-`: appends a JSONL file of input events (docs/architecture.md, "Input events")
// after checking all of it; one bad line rejects the whole file, nothing written. `-` reads stdin.
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Command } from 'commander';
import * as E from 'fp-ts/lib/Either.js';
import * as TE from 'fp-ts/lib/TaskEither.js';
import { pipe } from 'fp-ts/lib/function.js';
import { ingest, type IngestError, type IngestResult } from '../../../engine/input/ingest.js';
import { resolveDestination } from '../../destinations/registry.js';
import type { CliCommand, CliContext } from '../command.js';
import {
  cannotRead,
  failed,
  invalidInput,
  storeDamaged,
  storeFailed,
  storeUnreadable,
  usageError,
  type CliError,
} from '../errors.js';
import { StoreReadFailed } from '../../../engine/ports.js';
import { plural, printJson, printLines } from '../output.js';
import { fileBytes } from '../input.js';
import { stateDamageIn } from '../stateSession.js';
import { withSession } from '../workspace.js';
import { ingestFromNats, type NatsFlags } from './ingestNats.js';

/** A bad file shows this many problems: enough to see a pattern, few enough to read. */
export const MAX_PROBLEMS = 20;
/** Lines checked (ids looked up) and appended per batch. */
const CHUNK_SIZE = 1000;

/** The file ingest reads, the name messages use for it, and what to delete afterwards. */
type Source = { readonly path: string; readonly label: string; readonly cleanup: () => Promise<void> };

const REASONS: Readonly<Record<string, string>> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EISDIR: 'is a directory',
};

const reasonOf = (e: unknown): string => {
  const code = (e as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && Object.hasOwn(REASONS, code)) return REASONS[code] as string;
  return e instanceof Error ? e.message : String(e);
};

/** Checked before the store is opened, so a mistyped name neither creates a store nor waits on a lock. */
const fileSource = (cwd: string, file: string): TE.TaskEither<CliError, Source> =>
  pipe(
    TE.tryCatch(
      () => stat(resolve(cwd, file)),
      (e) => cannotRead(file, reasonOf(e)),
    ),
    TE.filterOrElse(
      (s) => !s.isDirectory(),
      () => cannotRead(file, 'is a directory'),
    ),
    TE.map(() => ({ path: resolve(cwd, file), label: file, cleanup: () => Promise.resolve() })),
  );

/** Ingest reads its input twice (check, then append) and stdin only once: it goes to a file first. */
const stdinSource = (): TE.TaskEither<CliError, Source> =>
  TE.tryCatch(
    async () => {
      const dir = await mkdtemp(join(tmpdir(), 'syncline-ingest-'));
      const cleanup = () => rm(dir, { recursive: true, force: true });
      const path = join(dir, 'stdin.jsonl');
      try {
        await pipeline(process.stdin, createWriteStream(path));
      } catch (e) {
        await cleanup();
        throw e;
      }
      return { path, label: 'stdin', cleanup };
    },
    (e) => cannotRead('stdin', reasonOf(e)),
  );

/** A DestinationConfigured in the file passes the same checks as one in the config file. */
const checkDestination = (d: Parameters<typeof resolveDestination>[0]): string[] =>
  pipe(
    resolveDestination(d),
    E.match(
      (invalid) => [...invalid.problems],
      () => [],
    ),
  );

/** At most MAX_PROBLEMS lines, and a last one saying when the engine found more. */
const ingestError = (label: string, e: IngestError): CliError => {
  switch (e._tag) {
    case 'Rejected':
      return invalidInput(label, [
        ...e.problems,
        ...(e.more ? [`... more problems not shown (first ${MAX_PROBLEMS})`] : []),
      ]);
    case 'InvalidStoredEvent':
      return storeDamaged(e);
    case 'FileChanged':
      return failed(
        `${label} changed while it was being ingested: nothing was stored; ingest it again once it is complete`,
      );
    case 'StoreFailed':
      return storeFailed(`could not store the events of ${label}: ${e.message}`);
  }
};

const report = (ctx: CliContext, label: string, r: IngestResult): void => {
  if (ctx.options.json) printJson(ctx.io, { lines: r.lines, appended: r.appended, duplicates: r.duplicates });
  else
    printLines(ctx.io, [
      `ingested ${plural(r.appended, 'event')} from ${label}` +
        (r.duplicates > 0 ? ` (${r.duplicates} already stored)` : ''),
    ]);
};

const ingestSource = (ctx: CliContext, src: Source): TE.TaskEither<CliError, void> =>
  withSession(
    ctx,
    (s) =>
      pipe(
        TE.tryCatch(
          () =>
            ingest(s.store, s.state, () => fileBytes(src.path), {
              checkDestination,
              maxProblems: MAX_PROBLEMS,
              chunkSize: CHUNK_SIZE,
            }),
          // Reading can still fail half-way (the file removed between the passes): nothing is stored then.
          // A state file that cannot give back a row is no fault of the file: it is thrown on (see
          // readingState).
          (e) => {
            if (s.file !== undefined && stateDamageIn(e, s.file.path) !== undefined) throw e;
            return e instanceof StoreReadFailed ? storeUnreadable(e) : cannotRead(src.label, reasonOf(e));
          },
        ),
        TE.chainEitherK(E.mapLeft((e: IngestError) => ingestError(src.label, e))),
        TE.map((r) => report(ctx, src.label, r)),
      ),
    { create: true },
  );

const run = (ctx: CliContext, file: string): TE.TaskEither<CliError, void> =>
  TE.bracket(
    file === '-' ? stdinSource() : fileSource(ctx.io.cwd, file),
    (src) => ingestSource(ctx, src),
    (src) => TE.fromTask(() => src.cleanup()),
  );

export const ingestCommand: CliCommand = (program, runHandler) => {
  program
    .command('ingest')
    .description(
      'append a JSONL file of events after checking all of it (a bad line rejects the file), or the events of a NATS JetStream stream',
    )
    .argument('[file]', 'JSONL file of events, or - for stdin')
    .option('--from <url>', 'a NATS server (nats://HOST:PORT) to read events from instead of a file')
    .option('--stream <name>', 'with --from: the JetStream stream')
    .option('--subject <subject>', 'with --from: only the messages of this subject')
    .option('--durable <name>', 'with --from: the durable consumer, made if missing', 'syncline')
    .option('--reject-subject <subject>', 'with --from: where refused messages go', 'syncline.rejected')
    .option('--batch <n>', 'with --from: messages checked and stored together', '500')
    .option('--follow', 'with --from: go on as messages arrive, until SIGINT or SIGTERM')
    .action((file: string | undefined, flags: NatsFlags | { from?: undefined }, command: Command) =>
      runHandler(command, (ctx) => {
        if (flags.from !== undefined) {
          if (file !== undefined) return TE.left(usageError('give a file or --from, not both'));
          return ingestFromNats(ctx, flags, checkDestination);
        }
        if (file === undefined)
          return TE.left(usageError('ingest needs a file (or - for stdin) or --from nats://…'));
        return run(ctx, file);
      }),
    );
};
