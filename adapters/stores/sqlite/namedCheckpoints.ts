// A SQLite store's named checkpoints (EventStore.getCheckpoint/setCheckpoint): positions a reader keeps
// in the store, moved by compare-and-set. Not to be confused with checkpoints of the log (walCheckpoints.ts).
import * as E from 'fp-ts/lib/Either.js';
import type { EventStore, StoreError } from '../../../engine/ports.js';
import { guardedWaiting, readingOn, type Connection } from './connection.js';
import { busyAs, waitForLock } from './writeLock.js';

export const sqliteNamedCheckpoints = (
  c: Connection,
): Pick<EventStore, 'getCheckpoint' | 'setCheckpoint'> => {
  const { statements } = c;
  const checkpointOf = (name: string): number | null =>
    (statements.checkpoint.get(name) as number | undefined) ?? null;
  return {
    getCheckpoint: (name) => Promise.resolve().then(readingOn(c.db)(() => checkpointOf(name))),
    // Each branch is a single statement, so the compare and the set are atomic without a transaction.
    setCheckpoint: (name, expected, value) =>
      guardedWaiting(c.db, async () => {
        const set = await waitForLock(
          () =>
            busyAs(
              () =>
                (expected === null
                  ? statements.createCheckpoint.run(name, value)
                  : statements.moveCheckpoint.run(value, name, expected)
                ).changes,
            ),
          c.waiting,
        );
        return E.flatMap((changes: number) => {
          if (changes === 1) c.committed();
          return changes === 1
            ? E.right(undefined)
            : E.left<StoreError>({ _tag: 'CheckpointConflict', name, expected, actual: checkpointOf(name) });
        })(set);
      }),
  };
};
