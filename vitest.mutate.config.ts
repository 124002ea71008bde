// Vitest settings for mutation testing (`npm run mutate`): the specs that run the source in process.
// The CLI and fault specs run the built dist/, which never holds a mutant, so they are left out.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: [
      'test/cli.*.test.ts',
      'test/faults.*.test.ts',
      'test/crash.test.ts',
      'test/bench.test.ts',
      'test/concurrency.test.ts',
      'test/walMode.test.ts',
    ],
    setupFiles: ['test/support/equality.ts'],
    // Stryker rewrites the source it mutates: specs of the source text itself must not read it.
    env: { SYNCLINE_MUTATING: '1' },
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
