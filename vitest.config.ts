import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    // Real servers and synth runs: generous per-test limits, but each test still bounded.
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // 2 cores: at most two test files at once so real servers are not starved.
    pool: 'forks',
    maxWorkers: 2,
    reporters: ['default'],
  },
});
