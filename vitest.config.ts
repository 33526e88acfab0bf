import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['**/*.test.ts'],
    exclude: ['**/node_modules/**', 'dist/**', 'data/**', '.cache/**', 'tests/artifacts/**'],
    testTimeout: 60_000,
    hookTimeout: 180_000,
    pool: 'forks',
    // Structured logs are for operators; in test output only errors are worth a line.
    env: { OCM_LOG_LEVEL: process.env.OCM_LOG_LEVEL ?? 'error' },
  },
});
