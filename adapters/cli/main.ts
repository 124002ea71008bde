#!/usr/bin/env node
// The `syncline` executable: runs the program on the process's arguments and is the one place that
// turns outcomes into exit codes (0 success, 1 failure, 2 usage error) and `syncline: ...` lines.
import * as E from 'fp-ts/lib/Either.js';
import { errorLines, unexpected, type CliError } from './errors.js';
import { limitHeapGrowth } from './heap.js';
import type { CliIO } from './output.js';
import { runCli } from './program.js';

const exitCodeOf = (e: CliError): number => (e._tag === 'UsageError' ? 2 : 1);

// A reader that closes the pipe early (`syncline ... | head`) is not a failure of ours.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code !== 'EPIPE') throw e;
});

const io: CliIO = {
  stdout: (text) => void process.stdout.write(text),
  stderr: (text) => void process.stderr.write(text),
  env: process.env,
  cwd: process.cwd(),
  interactive: process.stdout.isTTY === true,
  ...(process.stdout.isTTY === true ? { columns: process.stdout.columns } : {}),
};

const heap = limitHeapGrowth(process.env);
const outcome = E.isLeft(heap)
  ? heap
  : await runCli(process.argv.slice(2), io)().catch((e: unknown) => E.left(unexpected(e)));
if (E.isLeft(outcome)) {
  const bare = outcome.left._tag === 'InvalidInput';
  for (const line of errorLines(outcome.left))
    process.stderr.write(bare ? `${line}\n` : `syncline: ${line}\n`);
  // exitCode rather than exit(): pending writes to a pipe still get flushed.
  process.exitCode = exitCodeOf(outcome.left);
}
