import { defineConfig } from 'vitest/config';

// The one-node cluster tier (test/cluster) runs after everything else, alone: it keeps both cores busy for a few
// minutes (containerd, kubelet, a dozen pods), which would skew the timing of the tests beside it, and their load
// would skew its own.
const CLUSTER = 'test/cluster/**/*.test.ts';

export default defineConfig({
  test: {
    exclude: ['**/node_modules/**', 'test/bench/**'],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    pool: 'forks',
    maxWorkers: 2,
    reporters: ['default', './test/support/summary-reporter.ts'],
    projects: [
      {
        extends: true,
        test: {
          name: 'suite',
          include: ['{shared,proxy,operator}/src/**/*.test.ts', 'test/**/*.test.ts'],
          exclude: ['**/node_modules/**', 'test/bench/**', CLUSTER],
          sequence: { groupOrder: 0 },
        },
      },
      { extends: true, test: { name: 'cluster', include: [CLUSTER], sequence: { groupOrder: 1 } } },
    ],
  },
});
