import { defineConfig } from 'vitest/config';

// Unit specs sit next to their code (`*.spec.ts`); cross-cutting and broker
// suites live in test/ (`*.test.ts`). Broker suites each use their own vhost,
// so files run in parallel and repeatedly without seeing each other.
export default defineConfig({
  test: {
    include: ['core/**/*.spec.ts', 'gateway/**/*.spec.ts', 'cli/**/*.spec.ts', 'services/**/*.spec.ts', 'test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    env: { WARREN_LOG_LEVEL: process.env['WARREN_LOG_LEVEL'] ?? 'silent' },
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    maxWorkers: 2,
    allowOnly: false,
  },
});
