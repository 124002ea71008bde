// What the store-backed commands share: reading and checking the config file, opening the store
// it names (or --store), catching up, and opening a configured destination through its type.
import * as E from 'fp-ts/lib/Either.js';
import * as TE from 'fp-ts/lib/TaskEither.js';
import { pipe } from 'fp-ts/lib/function.js';
import { decodeConfigParts } from '../../domain/config.js';
import type { Destination as DestinationConfig } from '../../domain/destination.js';
import type { Destination, EventStore } from '../../engine/ports.js';
import { catchUp, initialState, type EngineState } from '../../engine/state.js';
import { destinationTypes, resolveDestination, type ResolvedDestination } from '../destinations/registry.js';
import { openStore } from '../stores/open.js';
import type { CliContext } from './command.js';
import { destinationFailed, failed, invalidInput, storeFailed, type CliError } from './errors.js';
import { readJson } from './input.js';

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
      if (E.isLeft(decoded)) return E.left(invalidInput(ctx.options.config, decoded.left));
      const problems: string[] = [...decoded.right.problems];
      const destinations: ResolvedDestination[] = [];
      for (const d of decoded.right.config.destinations) {
        const r = resolveDestination(d);
        if (E.isLeft(r)) problems.push(...r.left);
        else destinations.push(r.right);
      }
      if (problems.length > 0) return E.left(invalidInput(ctx.options.config, problems));
      return E.right({
        destinations,
        ...(decoded.right.config.store === undefined ? {} : { store: decoded.right.config.store }),
      });
    }),
  );

/**
 * --store / SYNCLINE_STORE, else the `store` of the first of `files` that names one (by default the
 * config file, if it exists), else the default.
 */
export const storeUrl = async (
  ctx: CliContext,
  files: readonly string[] = [ctx.options.config],
): Promise<string> => {
  if (ctx.options.storeGiven) return ctx.options.store;
  for (const file of files) {
    const read = await readJson(ctx.io.cwd, file)();
    const store = E.isRight(read) ? (read.right as { store?: unknown } | null)?.store : undefined;
    if (typeof store === 'string' && store !== '') return store;
  }
  return ctx.options.store;
};

/**
 * Opens the store as every command finds it, without catching up: log and explain read through
 * indexes, and replay folds the store itself; a catch-up first would read everything once more.
 */
export const withStore = <A>(
  ctx: CliContext,
  work: (store: EventStore) => TE.TaskEither<CliError, A>,
  files?: readonly string[],
  create = false,
): TE.TaskEither<CliError, A> =>
  TE.bracket(
    pipe(
      TE.fromTask(() => storeUrl(ctx, files)),
      TE.chain((url) =>
        pipe(
          openStore(url, ctx.io.cwd, { mustExist: !create }),
          TE.mapLeft((e) => storeFailed(e.message)),
        ),
      ),
    ),
    work,
    (store) => TE.fromTask(() => store.close()),
  );

export type Session = { readonly store: EventStore; readonly state: EngineState };

/**
 * Opens the store, catches up, runs `work`, and closes the store whatever happened. Only commands
 * that write input (`apply`, `ingest`) pass `create`; the others refuse a store that is not there.
 */
export const withSession = <A>(
  ctx: CliContext,
  work: (s: Session) => TE.TaskEither<CliError, A>,
  onEvent?: (position: number, head: number) => void,
  create = false,
): TE.TaskEither<CliError, A> =>
  withStore(
    ctx,
    (store) =>
      pipe(
        TE.fromTask(async () => {
          const state = initialState();
          const head = onEvent ? await store.head() : 0;
          await catchUp(store, state, onEvent ? (p) => onEvent(p, head) : undefined);
          return { store, state };
        }),
        TE.chain(work),
      ),
    undefined,
    create,
  );

/** The configured destinations to work on: all of them, or the one named by --destination. */
export const chosenDestinations = (
  state: EngineState,
  only: string | undefined,
): E.Either<CliError, DestinationConfig[]> => {
  const configured = [...state.destinations.values()].flatMap((v) => (v.config ? [v.config] : []));
  if (only === undefined) {
    return configured.length > 0
      ? E.right(configured)
      : E.left(failed('no destinations are configured in the store: run `syncline apply` first'));
  }
  const found = configured.find((d) => d.destinationId === only);
  if (found) return E.right([found]);
  const known = configured.map((d) => d.destinationId).join(', ');
  return E.left(
    failed(`destination ${only} is not configured (configured: ${known === '' ? 'none' : known})`),
  );
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
    type.open(config, ctx.io.env),
    TE.mapLeft((e) => destinationFailed(e.message)),
  );
};
