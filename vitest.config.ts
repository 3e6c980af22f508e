import { defineConfig } from 'vitest/config';

// Tests run real sockets on loopback; they are I/O-bound, so run files in parallel
// but keep the pool small on a 2-core machine so timing-sensitive tests stay honest.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 2,
    fileParallelism: true,
  },
});
