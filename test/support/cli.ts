// Runs the built `syncline` (dist/, which `npm test` builds first) as a user would, in a chosen
// working directory, and returns what it printed and its exit code.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const CLI_PATH = fileURLToPath(new URL('../../dist/adapters/cli/main.js', import.meta.url));
export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

export type CliResult = { readonly code: number; readonly stdout: string; readonly stderr: string };

/**
 * The variables that change what the CLI prints are removed, so a developer's own shell (a store
 * URL, forced colour) cannot make a test pass or fail; `env` adds what a test wants set.
 */
const cleanEnv = (env: Readonly<Record<string, string>>): NodeJS.ProcessEnv => {
  const base: NodeJS.ProcessEnv = { ...process.env };
  for (const name of ['SYNCLINE_STORE', 'FORCE_COLOR', 'NO_COLOR']) delete base[name];
  return { ...base, ...env };
};

export const runCli = (
  args: readonly string[],
  options: { readonly cwd?: string; readonly env?: Readonly<Record<string, string>> } = {},
): Promise<CliResult> =>
  new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI_PATH, ...args],
      { cwd: options.cwd ?? REPO_ROOT, env: cleanEnv(options.env ?? {}), encoding: 'utf8' },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
        resolve({ code, stdout, stderr });
      },
    );
  });

export type ScriptExit = {
  readonly code: number | null;
  readonly signal: string | null;
  readonly stdout: string;
};

/**
 * Runs a node script to its end, or kills it after `timeoutMs`: for specs that a process exits by
 * itself (a worker left ref'd would keep it alive until the kill, signal SIGTERM).
 */
export const runScript = (
  script: string,
  timeoutMs = 30_000,
  args: readonly string[] = [],
): Promise<ScriptExit> =>
  new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [script, ...args],
      { timeout: timeoutMs, encoding: 'utf8' },
      (_, stdout) => resolve({ code: child.exitCode, signal: child.signalCode, stdout }),
    );
  });

/** Lines of output without the final newline's empty string. */
export const linesOf = (text: string): string[] => text.replace(/\n$/, '').split('\n');

/** A fresh directory for files a test writes; `remove` deletes it and everything in it. */
export const tempDir = async (): Promise<{
  readonly path: string;
  readonly write: (name: string, content: unknown) => Promise<string>;
  readonly remove: () => Promise<void>;
}> => {
  const path = await mkdtemp(join(tmpdir(), 'syncline-cli-'));
  return {
    path,
    /** Writes `content` as given if it is a string, else as JSON; returns the file's name. */
    write: async (name, content) => {
      await writeFile(
        join(path, name),
        typeof content === 'string' ? content : JSON.stringify(content, null, 2),
      );
      return name;
    },
    remove: () => rm(path, { recursive: true, force: true }),
  };
};
