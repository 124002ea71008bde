// Where a worker thread's compiled entry file is: beside the module that starts it, or in dist/ when
// that module runs from its TypeScript source (vitest), since workers run only compiled JavaScript.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * `beside` is the file's name next to the calling module (`./applier.js`); `built` the same
 * file's path in dist/, relative to the caller's source. Throws when the source runs without a build.
 */
export const workerFile = (caller: string, beside: string, built: string): URL => {
  const here = new URL(caller);
  if (!here.pathname.endsWith('.ts')) return new URL(beside, here);
  const compiled = new URL(built, here);
  if (!existsSync(compiled))
    throw new Error(`the worker ${fileURLToPath(compiled)} is missing: run npm run build`);
  return compiled;
};
