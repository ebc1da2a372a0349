import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // One embedded store per run, copied into the homes of tests that do not test store creation (see the file).
    globalSetup: ['./test/fixtures/store-template.ts'],
    // Integration tests share two real servers and spawn CLI processes: two workers fit a 2-core machine.
    maxWorkers: 2,
    reporters: ['default', './test/fixtures/summary-reporter.ts'],
  },
});
