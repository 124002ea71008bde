// A command's engine state kept in the store's state file: opened, caught up with the store (saving
// as it goes, so memory stays bounded), saved at the end, closed; one stderr line when it is built.
import * as E from 'fp-ts/lib/Either.js';
import type { EventStore } from '../../engine/ports.js';
import { applyStored, type EngineState } from '../../engine/state/engineState.js';
import { invalidStored } from '../../engine/state/storedEvents.js';
import { openStateFile } from '../../adapters/state/open.js';
import type { StateFile, StateFailed } from '../../adapters/state/stateFile.js';
import type { CliContext } from './command.js';
import { failed, storeDamaged, type CliError } from './errors.js';

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
  const opened = await openStateFile(path, store);
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
