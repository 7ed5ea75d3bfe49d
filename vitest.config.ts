import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // A test without an assertion is a defect (STYLE.md habit 9).
    expect: { requireAssertions: true },
    testTimeout: 20_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // On the drachtio engine, one drachtio-server for the whole run (when none is named).
    globalSetup: ['test/support/drachtio-global-setup.ts'],
  },
});
