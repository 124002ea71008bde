// Test runner settings: specs live in test/, CLI specs run the built dist/ (npm test builds first).
// Two projects: the specs (`npm run test:unit`) and the benchmark's end-to-end run at its smallest
// scale (`npm run test:bench`), which takes its own twenty seconds; `npm test` runs both.
import { defineConfig } from 'vitest/config';

const BENCH = 'test/bench.test.ts';

export default defineConfig({
  test: {
    // Equality of ledgers as the specs mean it (see the file)
    setupFiles: ['test/support/equality.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/**/*.test.ts'], exclude: [BENCH] } },
      { extends: true, test: { name: 'bench', include: [BENCH] } },
    ],
  },
});
