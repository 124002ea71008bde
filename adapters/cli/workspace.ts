// What the store-backed commands share: reading and checking the config file, opening the store
// it names (or --store), catching up, and opening a configured destination through its type.
import { dirname, isAbsolute, resolve } from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import * as TE from 'fp-ts/lib/TaskEither.js';
import { pipe } from 'fp-ts/lib/function.js';
import { decodeConfigParts, StoreSetting } from '../../domain/config.js';
import type { DestinationConfig } from '../../domain/destination.js';
import { StoreReadFailed, type Destination, type EventStore } from '../../engine/ports.js';
import { catchUp, initialState, type EngineState } from '../../engine/state/engineState.js';
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
import { catchUpSaving, closeState, openState, readingState, type StateSession } from './stateSession.js';
import type { StateFile } from '../state/stateFile.js';

export type LoadedConfig = {
  readonly store?: StoreSetting;
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

/**
 * A store URL and the directory its relative path is relative to; `missing` names the variable the
 * config file's `{"env": NAME}` points at when it is not set.
 */
export type StoreChoice = { readonly url: string; readonly base: string; readonly missing?: string };

/**
 * --store / SYNCLINE_STORE (relative to the working directory), else the config file's `store` if
 * the file exists and names one (relative to the file's directory; `{"env": NAME}` reads it from
 * that variable), else the default (relative to the working directory).
 */
export const storeUrl = async (ctx: CliContext): Promise<StoreChoice> => {
  const here = { url: ctx.options.store, base: ctx.io.cwd };
  if (ctx.options.storeGiven) return here;
  const read = await readJson(ctx.io.cwd, ctx.options.config)();
  const raw = E.isRight(read) ? (read.right as { store?: unknown } | null)?.store : undefined;
  const store = StoreSetting.is(raw) ? raw : undefined;
  if (typeof store === 'string') return store === '' ? here : { url: store, base: configDir(ctx) };
  if (store === undefined) return here;
  const value = Object.hasOwn(ctx.io.env, store.env) ? ctx.io.env[store.env] : undefined;
  return value === undefined || value === ''
    ? { ...here, missing: store.env }
    : { url: value, base: configDir(ctx) };
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
      TE.filterOrElse(
        (where) => where.missing === undefined,
        (where) =>
          storeFailed(
            `${ctx.options.config} takes its store from the environment variable ${where.missing ?? ''}, ` +
              'which is not set',
          ),
      ),
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
  /** the state file the state is kept in (an SQLite store's), saved and closed at the end */
  readonly file?: StateSession['file'];
  /** the position the state file was saved at before the session caught up (0 in memory) */
  readonly savedAt: number;
};

export type SessionOptions = {
  /** the store may be created (only `apply` and `ingest`, which write input, pass it) */
  readonly create?: boolean;
};

/**
 * The store's state caught up: in its state file beside an SQLite store, or folded from the first
 * event in memory (a memory store has nowhere to keep it).
 */
const caughtUp = async (
  ctx: CliContext,
  store: EventStore,
  path: string | undefined,
): Promise<E.Either<CliError, Session>> => {
  if (path === undefined)
    return pipe(
      await catchUp(store, initialState()),
      E.bimap(storeDamaged, (state): Session => ({ store, state, savedAt: 0 })),
    );
  return E.map(({ file, savedAt }: StateSession): Session => ({ store, state: file.state, file, savedAt }))(
    await openState(ctx, store, path),
  );
};

/** Events a command folds after its work before it saves: see foldWhatItAppended. */
export const FOLDED_AT_END = 100_000;

/**
 * What the command appended itself (an ingest's events) is folded before the save, so that the next
 * command, a sync from cron, starts from the store's end rather than folding it again. Up to
 * FOLDED_AT_END events: a larger ingest has told its outcome and exits rather than fold millions
 * more events for minutes, which the next command does as it starts, saving as it goes.
 */
const foldWhatItAppended = async (ctx: CliContext, store: EventStore, file: StateFile): Promise<void> => {
  if ((await store.head()) - file.state.position > FOLDED_AT_END) return;
  await catchUpSaving(ctx, store, file);
};

/**
 * Runs `work` and saves the state whatever its outcome: a sync with failed commands ends in a Left,
 * and its state is the fold of what the store holds all the same. A throw may have stopped a fold
 * half-way through an event (a row that cannot be read back): that state is closed unsaved.
 */
const endingSession = async <A>(
  ctx: CliContext,
  s: Session,
  work: TE.TaskEither<CliError, A>,
): Promise<E.Either<CliError, A>> => {
  let outcome: E.Either<CliError, A>;
  try {
    outcome = await work();
  } catch (e) {
    s.file?.close();
    throw e;
  }
  if (s.file) {
    const file = s.file;
    await foldWhatItAppended(ctx, s.store, file).catch((e: unknown) => {
      // A store that fails now is met again by the next command, which says so; this one's
      // outcome stands.
      if (e instanceof StoreReadFailed) return;
      file.close();
      throw e;
    });
    closeState(ctx, file);
  }
  return outcome;
};

/**
 * Opens the store, catches its state up, runs `work`, saves the state (see endingSession), and
 * closes the store whatever happened. Only `apply` and `ingest` may create the
 * store; the others refuse one that is not there. A state file that cannot give back what it holds
 * stops the command (see readingState).
 */
export const withSession = <A>(
  ctx: CliContext,
  work: (s: Session) => TE.TaskEither<CliError, A>,
  options: SessionOptions = {},
): TE.TaskEither<CliError, A> =>
  withStore(
    ctx,
    (store, where) => () => {
      const path = statePathFor(where.url, where.base);
      return readingState(path, async () => {
        const session = await caughtUp(ctx, store, path);
        if (E.isLeft(session)) return session;
        return endingSession(ctx, session.right, work(session.right));
      });
    },
    options.create === true,
  );

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
 * The store's state caught up (in its state file, or folded in memory), for commands that read
 * through indexes (log, explain, replay) and need the whole state only to say more about a mistake:
 * which destinations there are, which profile holds a key.
 */
export const withFoldedState =
  <A>(
    ctx: CliContext,
    store: EventStore,
    use: (state: EngineState) => TE.TaskEither<CliError, A>,
  ): TE.TaskEither<CliError, A> =>
  async () => {
    const where = await storeUrl(ctx);
    const path = statePathFor(where.url, where.base);
    return readingState(path, async () => {
      const session = await caughtUp(ctx, store, path);
      if (E.isLeft(session)) return session;
      return endingSession(ctx, session.right, use(session.right.state));
    });
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
