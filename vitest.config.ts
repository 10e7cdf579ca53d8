import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: [
      'apps/*/test/**/*.test.ts',
      'packages/*/test/**/*.test.ts',
      'tooling/*/test/**/*.test.ts',
      'ml-demo/test/**/*.test.ts',
    ],
    // Tests train real models and start real servers: generous defaults, overridden per test where needed.
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Two cores: more parallel files only make the trainings fight for CPU.
    maxWorkers: 2,
    reporters: ['default'],
  },
});
