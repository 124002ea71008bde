// What the suites on a local test server (PostgreSQL, MySQL) share: whether it answers (without it they
// skip with one line, with CI=true they fail), and the names of their own databases a killed run left.
import { randomBytes } from 'node:crypto';

/** What a failed probe says: the error's message, else its code. */
export const whyUnreachable = (error: unknown): string =>
  error instanceof Error ? error.message || String((error as { code?: string }).code) : String(error);

/**
 * Whether the suites on the `server` at `url` can run, `unreachable` being why it did not answer a
 * probe: without an answer they skip, saying so in one line; with CI=true the test file fails.
 */
export const serverAnswers = (server: string, url: string, unreachable: string | undefined): boolean => {
  if (unreachable !== undefined && process.env['CI'] === 'true')
    throw new Error(`CI=true but the ${server} server at ${url} does not answer: ${unreachable}`);
  if (unreachable !== undefined)
    console.warn(`skipping the ${server} suites: no server at ${url} (${unreachable})`);
  return unreachable === undefined;
};

/** A name of this run's own for a schema or database on a test server: see leftBehind. */
export const ownName = (): string => `syncline_t${process.pid}_${randomBytes(5).toString('hex')}`;

/** The names ownName gives, as a regular expression both servers read. */
export const OWN_NAMES = '^syncline_t[0-9]+_[0-9a-f]+$';

/** Whether process `pid` still runs (EPERM: it runs, as another user). */
const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/**
 * Whether `name` (one ownName gave) belongs to a run that is gone: a run that was killed (a timeout,
 * ^C) never reached its afterAll, and what it made is dropped by the next, so as not to pile up.
 */
export const leftBehind = (name: string): boolean => !alive(Number(/^syncline_t(\d+)_/.exec(name)?.[1]));
