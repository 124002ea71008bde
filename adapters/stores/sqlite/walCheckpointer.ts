// The worker thread that copies the SQLite store's write-ahead log into the database file, so that a
// sync's appends never stop for it on the thread that decides (see walCheckpoints.ts).
import Database from 'better-sqlite3';
import { parentPort, workerData } from 'node:worker_threads';

export type CheckpointerData = { readonly path: string };
export type CheckpointRequest = 'checkpoint' | 'close';
/** `done` after each checkpoint; `failed` once, when the worker cannot open the store. */
export type CheckpointReply = 'done' | 'failed';

const port = parentPort;
if (port === null) throw new Error('sqliteCheckpointer.js runs only as the SQLite store’s worker thread');
const { path } = workerData as CheckpointerData;

let db: Database.Database | null = null;
try {
  db = new Database(path, { fileMustExist: true });
} catch (e) {
  if (!(e instanceof Database.SqliteError)) throw e;
  port.postMessage('failed' satisfies CheckpointReply);
}

port.on('message', (request: CheckpointRequest) => {
  if (request === 'close') {
    db?.close();
    port.close();
    return;
  }
  try {
    // PASSIVE copies what it can without waiting for readers or writers: appends go on meanwhile.
    db?.pragma('wal_checkpoint(PASSIVE)');
  } catch (e) {
    // Best effort: a checkpoint that cannot run now (a lock, a full disk) runs at the next request.
    if (!(e instanceof Database.SqliteError)) throw e;
  }
  port.postMessage('done' satisfies CheckpointReply);
});
