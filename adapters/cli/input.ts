// Reading the files a command is given: text relative to the working directory, then JSON with
// errors that name the file and the line and column of the mistake.
import { isUtf8 } from 'node:buffer';
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import * as TE from 'fp-ts/lib/TaskEither.js';
import { pipe } from 'fp-ts/lib/function.js';
import { invalidUtf8At } from '../../engine/input/ingestLines.js';
import { cannotRead, invalidInput, invalidJson, type CliError } from './errors.js';
import { describeSyntaxError } from './syntax.js';

/** Node's messages repeat the path and lead with the code; these read better after the file name. */
const REASONS: Readonly<Record<string, string>> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EISDIR: 'is a directory',
  ENOTDIR: 'a parent of it is not a directory',
};

const reasonOf = (e: unknown): string => {
  const code = (e as { code?: unknown }).code;
  if (typeof code === 'string' && Object.hasOwn(REASONS, code)) return REASONS[code] as string;
  return e instanceof Error ? e.message : String(e);
};

/**
 * The file's text; `file` is resolved against `cwd` and reported as the user wrote it. Decoding
 * would replace invalid UTF-8 without a word (a name `caf\xE9` recorded as `caf\uFFFD`): a file
 * that is not UTF-8 is refused naming the line and the byte, as ingest does.
 */
export const readText = (cwd: string, file: string): TE.TaskEither<CliError, string> =>
  pipe(
    TE.tryCatch(
      () => readFile(resolve(cwd, file)),
      (e) => cannotRead(file, reasonOf(e)),
    ),
    TE.chainEitherK((bytes) => {
      if (isUtf8(bytes)) return E.right(bytes.toString('utf8'));
      const at = invalidUtf8At(bytes);
      const lineStart = bytes.lastIndexOf(0x0a, at) + 1;
      const line = bytes.subarray(0, lineStart).filter((b) => b === 0x0a).length + 1;
      const byte = (bytes[at] ?? 0).toString(16).toUpperCase().padStart(2, '0');
      return E.left(
        invalidInput(file, [
          `line ${line}: not valid UTF-8 (at byte ${at - lineStart + 1} of the line: 0x${byte})`,
        ]),
      );
    }),
  );

/** Parses JSON text; a leading byte-order mark (some editors write one) is not an error. */
export const parseJson =
  (file: string) =>
  (text: string): E.Either<CliError, unknown> => {
    const body = text.startsWith('\uFEFF') ? text.slice(1) : text;
    return E.tryCatch(
      (): unknown => JSON.parse(body),
      (e) => invalidJson(file, describeSyntaxError(body, e instanceof Error ? e.message : String(e))),
    );
  };

export const readJson = (cwd: string, file: string): TE.TaskEither<CliError, unknown> =>
  pipe(readText(cwd, file), TE.chainEitherK(parseJson(file)));

/**
 * A file's bytes, streamed a megabyte at a time: a file of millions of events is never held whole,
 * and ingest checks and splits many lines at once (see engine/input/ingestLines.ts). Bytes, not text: a
 * text stream would replace invalid UTF-8 without a word.
 */
export const fileBytes = (path: string): AsyncIterable<Uint8Array> =>
  createReadStream(path, { highWaterMark: 1024 * 1024 }) as AsyncIterable<Buffer>;
