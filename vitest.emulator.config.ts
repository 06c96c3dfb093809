import { defineConfig } from 'vitest/config';

// `npm run test:emulator`: the aws target's lifecycle applied for real by OpenTofu against moto.
// Separate from `npm test` because the first build of OpenTofu and the providers takes longer
// than CI's budget on a fresh machine (docs/benchmarks.md has the figures).
export default defineConfig({
  test: {
    include: ['tests/emulator/**/*.test.ts'],
    // Provider waiters wait even against an emulator (RDS: about a minute before its first poll).
    testTimeout: 900_000,
    hookTimeout: 120_000,
    pool: 'forks',
    fileParallelism: false,
    reporters: ['default'],
  },
});
