import { defineConfig } from 'vitest/config';
import SkipReasonsReporter from './test/support/skip-reasons-reporter.js';

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
    // Each reason a suite was skipped for, once, after the summary (test/support/skip-reason.ts).
    reporters: ['default', new SkipReasonsReporter()],
  },
});
