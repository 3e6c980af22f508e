import { defineConfig } from 'vitest/config';

// Tests run real load on loopback and many assert timing against ground truth (a
// server's capacity, a stall's length). On a 2-core machine two such files at once
// starve each other's servers and generators, so files run one after another.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 2,
    fileParallelism: false,
  },
});
