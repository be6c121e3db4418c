import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The machine has 2 cores; end-to-end suites start serverless-offline.
    maxWorkers: 2,
    testTimeout: 20_000,
    hookTimeout: 120_000
  }
})
