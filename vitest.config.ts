import { defineConfig } from 'vitest/config';

// `import 'warren'` (the shop, a user of the package) resolves to the TypeScript sources through the package's
// `warren-source` export condition, so tests need no build (tsconfig.json customConditions does the same for tsc).
const conditions = ['warren-source'];

// Two projects (`vitest run --project unit` / `--project broker`):
// - unit: specs beside their code (`*.spec.ts`) and the memory-transport suites (`test/*-memory.test.ts`); no broker, fast.
// - broker: cross-cutting suites in test/ against the real RabbitMQ; the global setup fails the run at once, with
//   how to start it, when the broker is unreachable. Each broker suite uses its own vhost, so files run in parallel
//   and repeatedly without seeing each other.
const unit = [
  'core/**/*.spec.ts',
  'gateway/**/*.spec.ts',
  'cli/**/*.spec.ts',
  'services/**/*.spec.ts',
  'test/*-memory.test.ts',
];

export default defineConfig({
  ssr: { resolve: { conditions } },
  test: {
    env: { WARREN_LOG_LEVEL: process.env['WARREN_LOG_LEVEL'] ?? 'silent' },
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    maxWorkers: 2,
    allowOnly: false,
    projects: [
      { extends: true, test: { name: 'unit', include: unit } },
      {
        extends: true,
        test: {
          name: 'broker',
          include: ['test/**/*.test.ts'],
          exclude: ['test/*-memory.test.ts'],
          globalSetup: ['test/support/global-setup.ts'],
        },
      },
    ],
  },
});
