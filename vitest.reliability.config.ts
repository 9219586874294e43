// The reliability suite (`npm run test:reliability`): the built server as a child process against
// a private PostgreSQL that the tests stop, kill and restart, plus SIGKILL/SIGTERM of the server.
// Files run one at a time: each drives load and measures what clients see.
import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/reliability/**/*.reliability.ts'],
    pool: 'forks',
    maxWorkers: 1,
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 180_000,
    reporters: ['default']
  }
})
