import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/helpers/global-setup.ts'],
    pool: 'forks',
    maxWorkers: 3,
    testTimeout: 30_000,
    hookTimeout: 120_000,
    reporters: ['default'],
    coverage: {
      provider: 'v8',
      include: ['src/**/*.ts'],
      // process entry points: exercised by the README's `npm start`, not importable in-process
      exclude: ['src/server.ts', 'src/cli/**'],
      reporter: ['text-summary', 'json-summary'],
      thresholds: { lines: 80, branches: 80 }
    }
  }
})
