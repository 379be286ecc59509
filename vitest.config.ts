import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Tests start real processes on a shared 2-core machine: be patient, never flaky.
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
