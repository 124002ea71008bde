// When and where the SQLite store's write-ahead log is checkpointed: on a worker thread of its own,
// once enough has been appended, instead of inside whichever commit crosses SQLite's threshold.
//
// A checkpoint copies the log's pages into the database file. SQLite runs it by default in the
// committing connection, so a first sync of 100k profiles spent ~75 ms of its deciding thread
// copying its own record. Here the appending connection never checkpoints (wal_autocheckpoint = 0);
// a second connection on a worker does, PASSIVE, so it waits for nobody. If that worker cannot run,
// the connection goes back to SQLite's own checkpoints. (Not so the SQLite destination's writer: with a
// worker of its own, a sync of a few changes is slower, so it checkpoints in its own connection.)
import type Database from 'better-sqlite3';
import { Worker } from 'node:worker_threads';
import { workerFile } from '../../workerFile.js';
import type { CheckpointerData, CheckpointReply, CheckpointRequest } from './walCheckpointer.js';

export type Checkpoints = {
  /** Counts bytes appended and committed; asks for a checkpoint once `everyBytes` have gathered. */
  readonly appended: (bytes: number) => void;
  /** Ends the worker, closing its connection first, so that the store's own close is the last one. */
  readonly close: () => Promise<void>;
};

/** Event data between checkpoints. SQLite's own threshold is 1000 pages, 16 MiB of log with the
 *  store's 16 KiB pages, which 8 MiB of appended events take about (tags and index pages add up). */
export const DEFAULT_CHECKPOINT_BYTES = 8 * 1024 * 1024;

const SQLITE_DEFAULT_AUTOCHECKPOINT = 1000;

export const offThreadCheckpoints = (
  db: Database.Database,
  path: string,
  everyBytes: number,
  onWalCheckpoint?: () => void,
): Checkpoints => {
  db.pragma('wal_autocheckpoint = 0');
  let worker: Worker | null = null;
  let broken = false;
  let busy = false;
  let gathered = 0;
  let exited: Promise<void> = Promise.resolve();

  const fallBack = (): void => {
    if (broken) return;
    broken = true;
    if (db.open) db.pragma(`wal_autocheckpoint = ${SQLITE_DEFAULT_AUTOCHECKPOINT}`);
  };

  const start = (): Worker => {
    const w = new Worker(
      workerFile(
        import.meta.url,
        './walCheckpointer.js',
        '../../../dist/adapters/stores/sqlite/walCheckpointer.js',
      ),
      { workerData: { path } satisfies CheckpointerData },
    );
    w.on('message', (reply: CheckpointReply) => {
      busy = false;
      if (reply === 'failed') fallBack();
      else onWalCheckpoint?.();
    });
    w.on('error', fallBack);
    exited = new Promise((resolve) =>
      w.on('exit', () => {
        if (worker === w) fallBack();
        resolve();
      }),
    );
    // Best effort: a process that has finished its work must not wait for a checkpoint to exit.
    // After the listeners: adding a 'message' listener refs the worker's port again.
    w.unref();
    return w;
  };

  return {
    appended: (bytes) => {
      if (broken) return;
      gathered += bytes;
      if (busy || gathered < everyBytes) return;
      gathered = 0;
      busy = true;
      worker ??= start();
      worker.postMessage('checkpoint' satisfies CheckpointRequest);
    },
    close: async () => {
      const w = worker;
      if (w === null) return;
      worker = null;
      broken = true;
      // Unref'd, the worker would not keep the process alive until it has closed its connection.
      w.ref();
      w.postMessage('close' satisfies CheckpointRequest);
      await exited;
    },
  };
};
