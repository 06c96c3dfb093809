import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    // `npm run test:emulator` (vitest.emulator.config.ts) runs these: they need OpenTofu built.
    exclude: ['tests/emulator/**', '**/node_modules/**'],
    // Real servers and synth runs: generous per-test limits, but each test still bounded.
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // One file at a time: the e2e files run real server fleets (an expert lab is 3 JVMs, 6
    // PostgreSQL servers and a dozen Node processes) and 2 cores shared by two such files made
    // readiness deadlines flaky. Serial, the whole suite takes about two and a half minutes.
    pool: 'forks',
    fileParallelism: false,
    reporters: ['default'],
  },
});
