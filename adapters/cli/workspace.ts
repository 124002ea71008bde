// What the store-backed commands share: reading and checking the config file, opening the store
// it names (or --store), catching up, and opening a configured destination through its type.
import { dirname, isAbsolute, resolve } from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import * as TE from 'fp-ts/lib/TaskEither.js';
import { pipe } from 'fp-ts/lib/function.js';
import { decodeConfigParts } from '../../domain/config.js';
import type { DestinationConfig } from '../../domain/destination.js';
import type { Destination, EventStore, StoreError } from '../../engine/ports.js';
import {
  ignoredWords,
  keepSnapshot,
  resume,
  storeFailedOn,
  type Resumed,
} from '../../engine/state/resume.js';
import { catchUp, initialState, type EngineState } from '../../engine/state/engineState.js';
import { invalidStoredMessage, type InvalidStoredEvent } from '../../engine/state/storedEvents.js';
import { destinationTypes, resolveDestination, type ResolvedDestination } from '../destinations/registry.js';
import { statePathFor } from '../state/open.js';
import { openStore } from '../stores/open.js';
import type { CliContext } from './command.js';
import {
  destinationFailed,
  failed,
  invalidInput,
  storeDamaged,
  storeFailed,
  type CliError,
} from './errors.js';
import { readJson } from './input.js';
import { closeState, openState, type StateSession } from './stateSession.js';

export type LoadedConfig = {
  readonly store?: string;
  readonly destinations: readonly ResolvedDestination[];
};

/** The config file, decoded and every destination checked against its type; all problems at once. */
export const loadConfig = (ctx: CliContext): TE.TaskEither<CliError, LoadedConfig> =>
  pipe(
    readJson(ctx.io.cwd, ctx.options.config),
    TE.chainEitherK((raw) => {
      const decoded = decodeConfigParts(raw);
      if (E.isLeft(decoded)) return E.left(invalidInput(ctx.options.config, decoded.left.problems));
      const problems: string[] = [...decoded.right.problems];
      const destinations: ResolvedDestination[] = [];
      for (const d of decoded.right.config.destinations) {
        const r = resolveDestination(d);
        if (E.isLeft(r)) problems.push(...r.left.problems);
        else destinations.push(r.right);
      }
      if (problems.length > 0) return E.left(invalidInput(ctx.options.config, problems));
      return E.right({
        destinations,
        ...(decoded.right.config.store === undefined ? {} : { store: decoded.right.config.store }),
      });
    }),
  );

/** The directory of the config file: relative paths in the file are relative to it. */
export const configDir = (ctx: CliContext, file: string = ctx.options.config): string =>
  dirname(resolve(ctx.io.cwd, file));

/** A store URL and the directory its relative path is relative to. */
export type StoreChoice = { readonly url: string; readonly base: string };

/**
 * --store / SYNCLINE_STORE (relative to the working directory), else the config file's `store` if
 * the file exists and names one (relative to the file's directory), else the default (relative to
 * the working directory).
 */
export const storeUrl = async (ctx: CliContext): Promise<StoreChoice> => {
  const here = { url: ctx.options.store, base: ctx.io.cwd };
  if (ctx.options.storeGiven) return here;
  const read = await readJson(ctx.io.cwd, ctx.options.config)();
  const store = E.isRight(read) ? (read.right as { store?: unknown } | null)?.store : undefined;
  return typeof store === 'string' && store !== '' ? { url: store, base: configDir(ctx) } : here;
};

/**
 * Opens the store as every command finds it, without catching up: log and explain read through
 * indexes, and replay folds the store itself; a catch-up first would read everything once more.
 */
export const withStore = <A>(
  ctx: CliContext,
  work: (store: EventStore, where: StoreChoice) => TE.TaskEither<CliError, A>,
  create = false,
): TE.TaskEither<CliError, A> =>
  TE.bracket(
    pipe(
      TE.fromTask(() => storeUrl(ctx)),
      TE.chain((where) =>
        pipe(
          openStore(where.url, where.base, {
            mustExist: !create,
            // A long ingest holds the write lock for its whole append; a writer waits for it, and says so.
            onWaiting: () =>
              ctx.io.stderr(
                'syncline: waiting for another process writing to the store (an ingest or a sync)…\n',
              ),
          }),
          TE.mapLeft((e) => storeFailed(e.message)),
          TE.map((store) => ({ store, where })),
        ),
      ),
    ),
    ({ store, where }) => work(store, where),
    ({ store }) => TE.fromTask(() => store.close()),
  );

export type Session = {
  readonly store: EventStore;
  readonly state: EngineState;
  /** what had been folded at the snapshot the session started from (0: none), for snapshotDue */
  readonly folded: number;
  /** the snapshot the session started from, if any (status shows it) */
  readonly from: Resumed['from'];
  /**
   * the store failed to give its snapshot back (a damaged file, say): keeping a new one would fail
   * the same way, and say so a second time, so the session keeps none
   */
  readonly keepsNoSnapshot?: true;
  /** the state file the state is kept in (an SQLite store's), saved and closed at the end */
  readonly file?: StateSession['file'];
  /** the position the state file was saved at before the session caught up */
  readonly savedAt?: number;
};

export type SessionOptions = {
  /** the store may be created (only `apply` and `ingest`, which write input, pass it) */
  readonly create?: boolean;
  /**
   * keep a snapshot at the end if enough was folded since the last (see snapshotDue): commands that
   * have folded the store to its end anyway (sync, apply, retry) pass it; the read-only commands
   * never write to the store, and ingest does not fold what it appends
   */
  readonly keepsSnapshot?: boolean;
};

/**
 * Opens the store, folds it from its newest snapshot (unless --no-snapshots), runs `work`, keeps a
 * snapshot if asked and due, and closes the store whatever happened. Only `apply` and `ingest` may
 * create the store; the others refuse one that is not there. A snapshot that cannot be used or kept
 * is reported on stderr and changes nothing else: folding from the start gives the same state.
 */
export const withSession = <A>(
  ctx: CliContext,
  work: (s: Session) => TE.TaskEither<CliError, A>,
  options: SessionOptions = {},
): TE.TaskEither<CliError, A> =>
  withStore(
    ctx,
    (store, where) =>
      pipe(
        async (): Promise<E.Either<CliError, Session>> => {
          const path = ctx.options.snapshots ? statePathFor(where.url, where.base) : undefined;
          if (path !== undefined)
            return E.map(({ file, savedAt }: StateSession): Session => ({
              store,
              state: file.state,
              folded: 0,
              from: null,
              keepsNoSnapshot: true,
              file,
              savedAt,
            }))(await openState(ctx, store, path));
          if (!ctx.options.snapshots)
            return pipe(
              await catchUp(store, initialState()),
              E.bimap(storeDamaged, (state) => ({ store, state, folded: 0, from: null })),
            );
          const resumed = await resume(store);
          if (E.isLeft(resumed)) return E.left(storeDamaged(resumed.left));
          const r = resumed.right;
          // One line, whatever the cause: the command's answer is the same, only slower.
          const storeFailed = r.ignored !== undefined && storeFailedOn(r.ignored);
          if (r.ignored !== undefined)
            ctx.io.stderr(
              `syncline: ${ignoredWords(r.ignored)}; folded the whole store instead` +
                (storeFailed
                  ? ', and keeps no snapshot while the store fails to read one (`syncline status --check` checks the store)\n'
                  : '\n'),
            );
          return E.right({
            store,
            state: r.state,
            folded: r.folded,
            from: r.from,
            ...(storeFailed ? { keepsNoSnapshot: true as const } : {}),
          });
        },
        // Kept whatever the work's outcome: a sync with failed commands ends in a Left, and its state
        // is the fold of what the store holds all the same.
        TE.chain((session) => async () => {
          try {
            const outcome = await work(session)();
            if (options.keepsSnapshot && ctx.options.snapshots) await keepingSnapshot(ctx, session);
            return outcome;
          } finally {
            if (session.file) closeState(ctx, session.file);
          }
        }),
      ),
    options.create === true,
  );

const messageOf = (e: StoreError | InvalidStoredEvent): string =>
  e._tag === 'InvalidStoredEvent' ? invalidStoredMessage(e) : 'message' in e ? e.message : e._tag;

/**
 * Keeps a snapshot of the session's state if one is due (see snapshotDue); resolves with what the
 * state had folded at the newest snapshot now. A failure is only reported: the command's work is done.
 */
export const keepingSnapshot = async (ctx: CliContext, s: Session): Promise<number> => {
  if (s.keepsNoSnapshot) return s.folded;
  const kept = await keepSnapshot(s.store, s.state, s.folded);
  if (E.isLeft(kept)) {
    ctx.io.stderr(`syncline: could not keep a snapshot of the projections: ${messageOf(kept.left)}\n`);
    return s.folded;
  }
  return kept.right ? s.state.folded : s.folded;
};

export const configuredIn = (state: EngineState): DestinationConfig[] =>
  [...state.destinations.values()].flatMap((v) => (v.config ? [v.config] : []));

/** The one message every command gives for a --destination the store has no configuration for. */
export const notConfigured = (destinationId: string, configured: readonly DestinationConfig[]): CliError => {
  const known = configured.map((d) => d.destinationId).join(', ');
  return failed(
    `destination ${destinationId} is not configured (configured: ${known === '' ? 'none' : known})`,
  );
};

/** The configured destinations to work on: all of them, or the one named by --destination. */
export const chosenDestinations = (
  state: EngineState,
  only: string | undefined,
): E.Either<CliError, DestinationConfig[]> => {
  const configured = configuredIn(state);
  if (only === undefined) {
    return configured.length > 0
      ? E.right(configured)
      : E.left(failed('no destinations are configured in the store: run `syncline apply` first'));
  }
  const found = configured.find((d) => d.destinationId === only);
  return found ? E.right([found]) : E.left(notConfigured(only, configured));
};

/**
 * The store's state caught up (in its state file, or folded from its newest snapshot in memory), for
 * commands that read through indexes (log, explain, replay) and need the whole state only to say more
 * about a mistake: which destinations there are, which profile holds a key.
 */
export const withFoldedState =
  <A>(
    ctx: CliContext,
    store: EventStore,
    use: (state: EngineState) => TE.TaskEither<CliError, A>,
  ): TE.TaskEither<CliError, A> =>
  async () => {
    const where = await storeUrl(ctx);
    const path = ctx.options.snapshots ? statePathFor(where.url, where.base) : undefined;
    if (path === undefined) {
      const resumed = await resume(store);
      return E.isLeft(resumed) ? E.left(storeDamaged(resumed.left)) : use(resumed.right.state)();
    }
    const opened = await openState(ctx, store, path);
    if (E.isLeft(opened)) return opened;
    try {
      return await use(opened.right.file.state)();
    } finally {
      closeState(ctx, opened.right.file);
    }
  };

/** `notConfigured` for a command that has not folded the store: it folds it to list the destinations. */
export const unknownDestination = (
  ctx: CliContext,
  store: EventStore,
  destinationId: string,
): TE.TaskEither<CliError, never> =>
  withFoldedState(ctx, store, (state) => TE.left(notConfigured(destinationId, configuredIn(state))));

/**
 * A destination's `path` option as the config file means it: a relative path is relative to the
 * file's directory (`:memory:` and a path read from the environment are left as they are).
 */
export const pathsFromConfigDir = (ctx: CliContext, config: DestinationConfig): DestinationConfig => {
  const path = config.options?.path;
  if (typeof path !== 'string' || path === ':memory:' || isAbsolute(path)) return config;
  return { ...config, options: { ...config.options, path: resolve(configDir(ctx), path) } };
};

/** Opens a destination through its type, with secrets resolved from the environment. */
export const openDestination = (
  ctx: CliContext,
  config: DestinationConfig,
): TE.TaskEither<CliError, Destination> => {
  const type = destinationTypes.get(config.type);
  if (!type)
    return TE.left(
      destinationFailed(`destination ${config.destinationId}: type ${config.type} is not known`),
    );
  return pipe(
    type.open(pathsFromConfigDir(ctx, config), ctx.io.env),
    TE.mapLeft((e) => destinationFailed(e.message)),
  );
};
