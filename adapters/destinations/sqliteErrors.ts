// What the SQLite destination says when SQLite or the file system refuses it: messages that name its
// file and tables as the config does, never a variable's value.
import { redactor, type Redact, type Secret } from './redaction.js';

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

// A connection keeps its place, and a batch of commands SQLite refuses asks once per command.
const redactors = new WeakMap<Place, Redact>();
const redactorOf = (place: Place): Redact => {
  let redact = redactors.get(place);
  if (redact === undefined) redactors.set(place, (redact = redactor(place.secrets)));
  return redact;
};

/** What SQLite said, with the place named by its labels. */
export const sqliteMessage = (e: { readonly code: string; readonly message: string }, place: Place): string =>
  redactorOf(place)(e.message);

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
