import { describe, expect, it } from 'vitest';
import {
  restartDelayMs,
  FIRST_RESTART_DELAY_MS,
  MAX_RESTART_DELAY_MS,
  STABLE_RUN_MS,
} from '../../../../src/cluster/core/restart-backoff.js';
import { parseWorkers, workerConfigViolations } from '../../../../src/cluster/core/workers-config.js';
import { configSchema } from '../../../../src/config/schema.js';

describe('--workers', () => {
  it('is 1 when absent, a whole number from 1 to 64 otherwise', () => {
    expect(parseWorkers(undefined)).toBe(1);
    expect(parseWorkers('3')).toBe(3);
    for (const bad of ['0', '65', '-1', '2.5', 'two', ''])
      expect(() => parseWorkers(bad)).toThrow(`--workers ${JSON.stringify(bad)}: expected a whole number from 1 to 64`);
  });

  it('asks nothing of the configuration for one worker', () => {
    expect(workerConfigViolations(configSchema.parse({}), 1)).toEqual([]);
  });

  it('needs Redis, a store every process opens, and the native engine for more', () => {
    const config = configSchema.parse({ store: { url: 'sqlite::memory:' }, sip: { engine: 'drachtio' } });
    expect(workerConfigViolations(config, 2).map((v) => [v.key, v.source])).toEqual([
      ['cache.url', 'the configuration, with --workers 2'],
      ['store.url', 'the configuration, with --workers 2'],
      ['sip.engine', 'the configuration, with --workers 2'],
    ]);
    expect(
      workerConfigViolations(
        configSchema.parse({ cache: { url: 'redis://127.0.0.1:6379/15' }, store: { url: 'sqlite:/tmp/x.db' } }),
        4,
      ),
    ).toEqual([]);
  });
});

describe('the restart back-off', () => {
  it('restarts at once first, doubles while the worker keeps dying, caps, and forgets after a stable run', () => {
    expect(restartDelayMs(undefined, 10)).toBe(FIRST_RESTART_DELAY_MS);
    expect(restartDelayMs(FIRST_RESTART_DELAY_MS, 10)).toBe(2 * FIRST_RESTART_DELAY_MS);
    expect(restartDelayMs(MAX_RESTART_DELAY_MS, 10)).toBe(MAX_RESTART_DELAY_MS);
    expect(restartDelayMs(MAX_RESTART_DELAY_MS, STABLE_RUN_MS)).toBe(FIRST_RESTART_DELAY_MS);
  });
});
