// Test runner settings: specs live in test/, CLI specs run the built dist/ (npm test builds first).
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Equality of ledgers as the specs mean it (see the file)
    setupFiles: ['test/support/equality.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
