// The multi-instance suite (`npm run test:cluster`): three processes of the built server behind a
// test balancer, PostgreSQL through PgBouncer (transaction pooling) and Redis. One file at a time,
// one worker: the tests share one cluster and measure what its clients see.
import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/cluster/**/*.cluster.ts'],
    pool: 'forks',
    maxWorkers: 1,
    fileParallelism: false,
    testTimeout: 300_000,
    // as the reliability suite: a test that fails once on a loaded machine runs again (the log
    // keeps the first failure); each test stands on its own on the shared cluster
    retry: 1,
    hookTimeout: 600_000,
    reporters: ['default']
  }
})
