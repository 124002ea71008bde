// What the SQLite destination says when SQLite or the file system refuses it: messages that name its
// file and tables as the config does (never a variable's value), and that say what to do about
// write-ahead log side files left read-only.
import { accessSync, constants, existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { redactor, type Redact, type Secret } from '../redaction.js';

/** Where a connection's messages come from: its file, how messages name it, and what they must not hold. */
export type Place = {
  /** the file as opened (absolute) */
  readonly file: string;
  /** the file as messages name it: the configured path, or `options.path (from env VAR)` */
  readonly label: string;
  /** values read from variables, with their labels */
  readonly secrets: readonly Secret[];
};

export const placeOf = (file: string, label: string = file, secrets: readonly Secret[] = []): Place => ({
  file,
  label,
  secrets,
});

/** Whether this process may write a file: missing, read-only, or writable. */
export type FileAccess = (path: string) => 'missing' | 'read-only' | 'writable';

export const fileAccess: FileAccess = (path) => {
  if (!existsSync(path)) return 'missing';
  try {
    accessSync(path, constants.W_OK);
    return 'writable';
  } catch {
    return 'read-only';
  }
};

const SIDE_FILES = ['-wal', '-shm'] as const;

/**
 * Why SQLite cannot write the file, when a read-only file beside it or its directory is the cause.
 * SQLite creates the -wal and -shm files with the database file's permissions: made while the file
 * was read-only, they stay read-only after it is made writable again, and keep every write failing.
 */
export const readOnlyHint = (
  code: string,
  place: Pick<Place, 'file' | 'label'>,
  access: FileAccess = fileAccess,
): string | undefined => {
  if (!/^SQLITE_(READONLY|CANTOPEN)/.test(code) || place.file === ':memory:') return undefined;
  if (access(place.file) === 'read-only')
    return (
      `${place.label} is read-only: make it writable by the user syncline runs as, and its -wal and -shm ` +
      `files too if SQLite made them meanwhile (it gives them the database file's permissions)`
    );
  const stuck = SIDE_FILES.filter((suffix) => access(`${place.file}${suffix}`) === 'read-only');
  if (stuck.length > 0) {
    const one = stuck.length === 1;
    return (
      `${stuck.map((suffix) => `${place.label}${suffix}`).join(' and ')} ${one ? 'is' : 'are'} read-only: ` +
      `SQLite made ${one ? 'it' : 'them'} beside the database while the database was read-only, and ` +
      `${one ? 'it keeps' : 'they keep'} every write failing after the database is made writable again; ` +
      `make ${one ? 'it' : 'them'} writable by the user syncline runs as`
    );
  }
  if (code === 'SQLITE_READONLY_DIRECTORY' || access(dirname(place.file)) === 'read-only')
    return (
      `the directory of ${place.label} is read-only: SQLite creates the database's -wal and -shm ` +
      `files beside it, so make the directory writable by the user syncline runs as`
    );
  return undefined;
};

// A connection keeps its place, and a batch of commands SQLite refuses asks once per command.
const redactors = new WeakMap<Place, Redact>();
const redactorOf = (place: Place): Redact => {
  let redact = redactors.get(place);
  if (redact === undefined) redactors.set(place, (redact = redactor(place.secrets)));
  return redact;
};

/** What SQLite said, with the place named by its labels and the reason for a read-only file added. */
export const sqliteMessage = (
  e: { readonly code: string; readonly message: string },
  place: Place,
  access: FileAccess = fileAccess,
): string => {
  const said = redactorOf(place)(e.message);
  const hint = readOnlyHint(e.code, place, access);
  return hint === undefined ? said : `${said} (${hint})`;
};

const REASONS: Readonly<Record<string, string>> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOENT: 'no such file or directory',
  ENOTDIR: 'a part of the path is not a directory',
  // what creating the file's directory meets when a part of the path is a file
  EEXIST: 'a part of the path is a file, not a directory',
  EISDIR: 'it is a directory',
  EROFS: 'the file system is read-only',
  ENOSPC: 'no space left on the device',
  ELOOP: 'too many symbolic links',
  ENAMETOOLONG: 'the name is too long',
};

/**
 * A system call's failure, by its code: its message names the path it failed on, which may be a part
 * of a secret path (a parent directory) that no replacement of the whole value would catch.
 */
export const systemReason = (e: NodeJS.ErrnoException): string =>
  (e.code === undefined ? undefined : REASONS[e.code]) ??
  `${e.syscall ?? 'a system call'} failed (${e.code ?? 'no code'})`;

/** Why opening failed, in words that hold no part of the file's path but its label. */
export const openMessage = (e: unknown, place: Place): string => {
  const reason =
    e instanceof Error && 'syscall' in e
      ? systemReason(e as NodeJS.ErrnoException)
      : e instanceof Error && typeof (e as { code?: unknown }).code === 'string'
        ? sqliteMessage(e as Error & { code: string }, place)
        : redactorOf(place)(e instanceof Error ? e.message : String(e));
  return `cannot open ${place.label}: ${reason}`;
};
