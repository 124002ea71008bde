// A command's engine state kept in the store's state file: opened, caught up with the store (saving
// as it goes, so memory stays bounded), saved at the end, closed; one stderr line when it is built.
import Database from 'better-sqlite3';
import * as E from 'fp-ts/lib/Either.js';
import type { EventStore } from '../../engine/ports.js';
import { applyStored, type EngineState } from '../../engine/state/engineState.js';
import { invalidStored } from '../../engine/state/storedEvents.js';
import { openStateFile, unreadable } from '../../adapters/state/open.js';
import { StateDamaged } from '../../adapters/state/rows.js';
import type { StateFile, StateFailed } from '../../adapters/state/stateFile.js';
import type { CliContext } from './command.js';
import { failed, stateDamaged, storeDamaged, type CliError } from './errors.js';

/** Folded events between saves while catching up: what waits in memory to be written stays bounded. */
const SAVE_EVERY = 50_000;

export type StateSession = {
  readonly file: StateFile;
  /** the position the file's state was saved at, before this command caught up */
  readonly savedAt: number;
};

const stateFailed = (e: StateFailed): CliError => failed(`the engine state in ${e.path}: ${e.message}`);

/** Saves what was folded; a failure is only told: the state is derived, and the next command folds again. */
export const saveState = (ctx: CliContext, file: StateFile): void => {
  const saved = file.save();
  if (E.isLeft(saved))
    ctx.io.stderr(`syncline: could not save the engine state in ${saved.left.path}: ${saved.left.message}\n`);
};

/**
 * Catches the file's state up with the store, saving every SAVE_EVERY events. When a save finds
 * that another process saved first, the fold starts again from the state that process saved.
 */
export const catchUpSaving = async (
  ctx: CliContext,
  store: EventStore,
  file: StateFile,
): Promise<E.Either<CliError, EngineState>> => {
  const s = file.state;
  for (;;) {
    file.realign();
    const realigned = file.realigned;
    let folded = 0;
    let again = false;
    for await (const e of store.readAll(s.position)) {
      const invalid = invalidStored(e);
      if (invalid !== undefined) return E.left(storeDamaged(invalid));
      applyStored(s, e);
      if (++folded % SAVE_EVERY !== 0) continue;
      saveState(ctx, file);
      // The state is now another process's, at another position: this fold cannot go on with it.
      if (file.isStale || file.realigned !== realigned) {
        again = true;
        break;
      }
    }
    if (!again) return E.right(s);
  }
};

/** Opens the state file at `path` and catches it up; the caller closes it (see closeState). */
export const openState = async (
  ctx: CliContext,
  store: EventStore,
  path: string,
): Promise<E.Either<CliError, StateSession>> => {
  const opened = await openStateFile(path, store, { rebuild: ctx.options.rebuildState });
  if (E.isLeft(opened)) return E.left(stateFailed(opened.left));
  const { file, notice } = opened.right;
  if (notice !== undefined) ctx.io.stderr(`syncline: ${notice}\n`);
  const savedAt = file.state.position;
  const caught = await catchUpSaving(ctx, store, file).catch((e: unknown) => {
    file.close();
    throw e;
  });
  if (E.isLeft(caught)) {
    file.close();
    return caught;
  }
  return E.right({ file, savedAt });
};

/** Saves the state (whatever the command's outcome: it is the fold of what the store holds) and closes it. */
export const closeState = (ctx: CliContext, file: StateFile): void => {
  try {
    saveState(ctx, file);
  } finally {
    file.close();
  }
};

/**
 * Thrown out of a session whose state file cannot give back what it holds, so that the command
 * stops wherever it was reading (runCli turns it into its CliError, as it does StoreReadFailed).
 */
export class StateFileDamaged extends Error {
  constructor(readonly error: CliError) {
    super(error._tag === 'StateDamaged' ? error.what : error._tag);
  }
}

/** Whether SQLite finds the file at `path` damaged: a destination's SQLite file may fail the same way. */
const damagedFile = (path: string): boolean => {
  let db: Database.Database | undefined;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true });
    return db.pragma('quick_check', { simple: true }) !== 'ok';
  } catch (e) {
    return unreadable(e);
  } finally {
    db?.close();
  }
};

/**
 * The CliError for what a command threw while it read the state file at `path`: a row that does not
 * parse, or SQLite finding the file damaged; undefined for anything else (a bug stays a bug).
 */
export const stateDamageIn = (e: unknown, path: string): CliError | undefined => {
  if (e instanceof StateFileDamaged) return e.error;
  if (e instanceof StateDamaged) return stateDamaged(path, e.message.replace(/^the engine state's /, ''));
  if (unreadable(e) && damagedFile(path)) return stateDamaged(path, `${e.code}: ${e.message}`);
  return undefined;
};

/** Runs `work`, a throw from the state file at `path` being damaged turned into StateFileDamaged. */
export const readingState = async <A>(path: string | undefined, work: () => Promise<A>): Promise<A> => {
  try {
    return await work();
  } catch (e) {
    const damage = path === undefined ? undefined : stateDamageIn(e, path);
    throw damage === undefined ? e : new StateFileDamaged(damage);
  }
};
