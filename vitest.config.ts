import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Tests start real processes on a shared 2-core machine: be patient, never flaky.
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Polls wait on a live process, the server and a software-rendered page sharing two
    // loaded cores: a second (the default) is not enough, and a poll that never holds still fails.
    expect: { poll: { timeout: 10_000 } },
  },
});
