// `syncline demo [DIR]`: the main job end to end on embedded defaults — a store, generated profiles,
// three destinations (SQLite files, or a server's tables), a sync, changes, a second sync, a report.
import { createReadStream, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Command } from 'commander';
import * as E from 'fp-ts/lib/Either.js';
import * as TE from 'fp-ts/lib/TaskEither.js';
import { pipe } from 'fp-ts/lib/function.js';
import type { DestinationConfig } from '../../../domain/destination.js';
import { applyConfig } from '../../../engine/input/configure.js';
import { ingest, type IngestResult } from '../../../engine/input/ingest.js';
import type { EventStore } from '../../../engine/ports.js';
import { defaultSyncOptions, syncDestination, type SyncError } from '../../../engine/sync/run.js';
import type { EngineState } from '../../../engine/state/engineState.js';
import { openStateFile, statePathFor } from '../../state/open.js';
import { closeState } from '../stateSession.js';
import type { RunSummary } from '../../../engine/sync/summary.js';
import { changes } from '../../demo/people.js';
import * as demo from '../../demo/scenario.js';
import { CONNECTION_VARIABLE, DEMO_SCHEMA, parseDemoServer, type DemoServer } from '../../demo/servers.js';
import { openStore } from '../../stores/open.js';
import { DEMO_CHECKPOINT } from '../../stores/postgres/demo.js';
import { demoStore, type DemoStore } from './demoStore.js';
import type { CliCommand, CliContext } from '../command.js';
import {
  destinationFailed,
  failed,
  invalidInput,
  notApplied,
  storeDamaged,
  storeFailed,
  usageError,
  type CliError,
} from '../errors.js';
import { plural, printJson, printLines } from '../output.js';
import { progressBar } from '../progress.js';
import { openDestination } from '../workspace.js';
import { summaryLines } from './sync.js';
import { attempt, commandFor, prepareDir, readTable, setUp, writeJsonl } from './demoFiles.js';
import { checkServer, readServerTables, setUpServer } from './demoServer.js';
import { introLines, jsonDocument, outcomeLines, variableLines, type Runs } from './demoReport.js';

const { optionOf } = demo;

// The demo's own files hold no destination events, so there is nothing for checkDestination to check.
const INGEST_OPTIONS = { checkDestination: () => [], maxProblems: 20, chunkSize: 5000 };

/** Ingest reads a large file twice (check, then append): the bar counts the bytes of both passes. */
const ingestFile = (ctx: CliContext, s: EngineState, store: EventStore, file: string) => {
  const bar = progressBar(ctx, `ingest ${basename(file)}`);
  let read = 0;
  const total = 2 * statSync(file).size;
  async function* open(): AsyncGenerator<Uint8Array> {
    for await (const bytes of createReadStream(file) as AsyncIterable<Buffer>) {
      read += bytes.length;
      bar.update(read, total);
      yield bytes;
    }
  }
  return pipe(
    () => ingest(store, s, open, INGEST_OPTIONS).finally(bar.stop),
    TE.mapLeft((e) => {
      switch (e._tag) {
        case 'Rejected':
          return invalidInput(file, e.problems);
        case 'InvalidStoredEvent':
          return storeDamaged(e);
        case 'FileChanged':
          return failed(`${file} changed while it was being ingested: nothing was stored`);
        case 'StoreFailed':
          return storeFailed(e.message);
      }
    }),
  ) satisfies TE.TaskEither<CliError, IngestResult>;
};

const syncFailed = (e: SyncError): CliError =>
  e._tag === 'StoreFailed'
    ? storeFailed(e.message)
    : e._tag === 'InvalidStoredEvent'
      ? storeDamaged(e)
      : e._tag === 'Busy'
        ? { _tag: 'Busy', destinationId: e.destinationId, runId: e.runId }
        : destinationFailed(
            `destination ${e.destinationId}: ${e._tag === 'DestinationFailed' ? e.message : 'not configured'}`,
          );

/**
 * The store records each destination with its path relative to DIR, like the config file, so that
 * `syncline sync` in DIR agrees with it; this process runs elsewhere and opens the file inside DIR.
 * A server's destinations name their connection as the config does: through CONNECTION_VARIABLE
 * when the URL holds a password, which this process sets for itself from --destinations.
 */
const openAt = (ctx: CliContext, dir: string, server: DemoServer | undefined, d: DestinationConfig) =>
  server === undefined
    ? openDestination(ctx, { ...d, options: { ...d.options, path: join(dir, optionOf(d, 'path')) } })
    : openDestination(
        server.password === ''
          ? ctx
          : { ...ctx, io: { ...ctx.io, env: { ...ctx.io.env, [CONNECTION_VARIABLE]: server.url } } },
        d,
      );

const destinationsOf = (server: DemoServer | undefined) => server?.destinations ?? demo.demoDestinations;

const syncAll = (
  ctx: CliContext,
  dir: string,
  server: DemoServer | undefined,
  s: EngineState,
  store: EventStore,
) =>
  TE.sequenceSeqArray(
    destinationsOf(server).map((d) =>
      TE.bracket(
        openAt(ctx, dir, server, d),
        (destination) => {
          const bar = progressBar(ctx, `sync ${d.destinationId}`);
          return pipe(
            () =>
              syncDestination(store, s, d.destinationId, destination, {
                ...defaultSyncOptions,
                onProgress: bar.update,
              }).finally(bar.stop),
            TE.mapLeft(syncFailed),
          );
        },
        (destination) => TE.fromTask(() => destination.close()),
      ),
    ),
  );

/** Configure, ingest the population, sync; then ingest a round of changes and sync again. */
const exercise = (
  ctx: CliContext,
  dir: string,
  server: DemoServer | undefined,
  where: DemoStore,
  say: (lines: string[]) => void,
): TE.TaskEither<CliError, Runs> =>
  TE.bracket(
    pipe(
      openStore(where.url, dir),
      TE.mapLeft((e) => storeFailed(e.message)),
      // Marks a server store as the demo's, so that the next demo may empty it (see demoStore.ts).
      TE.tap((store) =>
        pipe(
          store.setCheckpoint(DEMO_CHECKPOINT, null, 0),
          TE.orElse((e) => (e._tag === 'CheckpointConflict' ? TE.right(undefined) : TE.left(e))),
          TE.mapLeft((e) => storeFailed('message' in e ? e.message : e._tag)),
        ),
      ),
    ),
    (store) =>
      TE.bracket(
        pipe(
          () => openStateFile(statePathFor(where.url, dir) ?? join(dir, 'events.state.db'), store),
          TE.bimap(
            (e) => failed(`the engine state in ${e.path}: ${e.message}`),
            (opened) => opened.file,
          ),
        ),
        (file) => exerciseWith(ctx, dir, server, file.state, store, say),
        (file) => TE.fromIO(() => closeState(ctx, file)),
      ),
    (store) => TE.fromTask(() => store.close()),
  );

/** The demo's two rounds, folding into `s`. */
const exerciseWith = (
  ctx: CliContext,
  dir: string,
  server: DemoServer | undefined,
  s: EngineState,
  store: EventStore,
  say: (lines: string[]) => void,
): TE.TaskEither<CliError, Runs> => {
  const round = changes(demo.DEMO_PROFILES, demo.CHANGE_FRACTION, demo.DEMO_SEED);
  const report = (title: string, summaries: readonly RunSummary[]) => () =>
    say(['', ctx.colors.bold(title), ...summaries.flatMap((r) => summaryLines(ctx, r).map((l) => `  ${l}`))]);
  return pipe(
    () => applyConfig(store, s, destinationsOf(server), false),
    TE.mapLeft(notApplied),
    TE.chain(() => ingestFile(ctx, s, store, join(dir, 'people.jsonl'))),
    TE.chain(() => syncAll(ctx, dir, server, s, store)),
    TE.tapIO((first) => report('First sync', first)),
    TE.tap(() =>
      attempt('cannot write changes.jsonl', () => writeJsonl(join(dir, 'changes.jsonl'), round.events)),
    ),
    TE.tapIO(() => () => say(['', `${ctx.colors.bold('A round of changes')} ${demo.roundSentence(round)}`])),
    TE.tap(() => ingestFile(ctx, s, store, join(dir, 'changes.jsonl'))),
    TE.chain((first) =>
      pipe(
        syncAll(ctx, dir, server, s, store),
        TE.map((second) => ({ first, second })),
      ),
    ),
    TE.tapIO(({ second }) => report('Second sync', second)),
  );
};

/** The server `--destinations` names, checked before anything is written anywhere; or none. */
const serverFor = (given: string | undefined): TE.TaskEither<CliError, DemoServer | undefined> => {
  if (given === undefined) return TE.right(undefined);
  const parsed = parseDemoServer(given);
  return E.isLeft(parsed) ? TE.left(usageError(parsed.left)) : checkServer(parsed.right);
};

const run = (
  ctx: CliContext,
  arg: string,
  registered: readonly string[],
  destinations: string | undefined,
): TE.TaskEither<CliError, void> => {
  const started = performance.now();
  const say = (lines: string[]): void => (ctx.options.json ? undefined : printLines(ctx.io, lines));
  return pipe(
    TE.Do,
    TE.bind('server', () => serverFor(destinations)),
    TE.bind('dir', () => prepareDir(ctx.io.cwd, arg)),
    TE.bind('where', () => demoStore(ctx)),
    TE.bind('p', ({ dir, where, server }) => setUp(dir, where.recorded, server)),
    TE.tap(({ p, server }) => (server === undefined ? TE.right(undefined) : setUpServer(server, p.contacts))),
    TE.tapIO(
      ({ p, where, server }) =>
        () =>
          say(introLines(ctx, arg, p, where, server)),
    ),
    TE.bind('runs', ({ dir, where, server }) => exercise(ctx, dir, server, where, say)),
    TE.bind('tables', ({ dir, server }) =>
      server === undefined
        ? attempt('cannot read the destinations back', () =>
            Promise.resolve(demo.demoDestinations.map((d) => readTable(dir, d))),
          )
        : readServerTables(server),
    ),
    TE.chainEitherK(({ dir, p, runs, tables, server }) => {
      if (ctx.options.json) printJson(ctx.io, jsonDocument(dir, p, runs, tables));
      say([
        ...outcomeLines(ctx, tables),
        '',
        ...variableLines(server),
        ctx.colors.bold('Try next:'),
        ...demo
          .hintLines(arg, p.skippedVip, registered, commandFor(dir), server?.kind)
          .map((h) => `  ${h.line}  ${ctx.colors.dim(h.why)}`),
        '',
        `Done in ${((performance.now() - started) / 1000).toFixed(1)} s.`,
      ]);
      const failedCount = [...runs.first, ...runs.second].reduce((n, r) => n + r.totals.failed, 0);
      return failedCount > 0
        ? E.left(failed(`${plural(failedCount, 'command')} failed; see the summaries above`))
        : E.right(undefined);
    }),
  );
};

export const demoCommand: CliCommand = (program, runHandler) => {
  program
    .command('demo')
    .description(
      'generate profiles, sync them to three destinations (one per mode; SQLite files, or --destinations), change, sync again',
    )
    .argument('[dir]', 'where to put the demo (recreated if an earlier demo made it)', demo.DEFAULT_DEMO_DIR)
    .option(
      '--destinations <url>',
      `put the three destinations in a server instead of SQLite files: postgres://USER@HOST:PORT/DB[?schema=NAME] (schema ${DEMO_SCHEMA} by default) or mysql://USER@HOST:PORT/DB (emptied only if an earlier demo made it)`,
    )
    // The hints name only commands this build has, so they work wherever the demo is run.
    .action((dir: string, options: { destinations?: string }, command: Command) =>
      runHandler(command, (ctx) =>
        run(ctx, dir, command.parent?.commands.map((c) => c.name()) ?? [], options.destinations),
      ),
    );
};
