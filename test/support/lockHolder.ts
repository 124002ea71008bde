// Another process holding a SQLite file's write lock (as a long ingest does for its whole append):
// it takes the lock, says so, and lets go after a while or when killed.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';

const SCRIPT = `
const Database = require(process.argv[1]);
const db = new Database(process.argv[2]);
db.exec('BEGIN IMMEDIATE');
process.stdout.write('locked\\n');
setTimeout(() => { db.exec('COMMIT'); db.close(); process.stdout.write('released\\n'); }, Number(process.argv[3]));
`;

export type LockHolder = {
  /** resolves once the other process holds the lock */
  readonly locked: Promise<void>;
  /** resolves when it has let go and exited */
  readonly exited: Promise<void>;
  readonly kill: () => void;
};

/** A process that holds the write lock of the SQLite file at `path` for `ms` milliseconds. */
export const holdWriteLock = (path: string, ms: number): LockHolder => {
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  const child = spawn(process.execPath, ['-e', SCRIPT, driver, path, String(ms)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const locked = new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('locked')) resolve();
    });
    child.on('exit', () => reject(new Error('the lock holder exited before taking the lock')));
  });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  // A holder that exits after locking rejects nothing anyone waits for.
  locked.catch(() => undefined);
  return { locked, exited, kill: () => child.kill('SIGKILL') };
};
