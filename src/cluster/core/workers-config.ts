import type { Config } from '../../config/schema.js';
import { type ConfigViolation, UsageError } from '../../errors.js';

/** Far more than any machine's cores; the Via branches carry the number in at most three digits. */
export const MAX_WORKERS = 64;

/** `--workers N`: a whole number from 1 to MAX_WORKERS; absent: 1 (one process, no cluster). */
export function parseWorkers(text: string | undefined): number {
  if (text === undefined) return 1;
  const workers = Number(text);
  if (!/^\d+$/.test(text) || workers < 1 || workers > MAX_WORKERS) {
    throw new UsageError(`--workers ${JSON.stringify(text)}: expected a whole number from 1 to ${MAX_WORKERS}`);
  }
  return workers;
}

/**
 * What the configuration must allow for several workers: state the workers
 * share lives in Redis and the database, never in one process's memory.
 * An empty list for one worker.
 */
export function workerConfigViolations(config: Readonly<Config>, workers: number): ConfigViolation[] {
  if (workers <= 1) return [];
  const source = `the configuration, with --workers ${workers}`;
  const violations: ConfigViolation[] = [];
  if (config.cache.url === 'memory') {
    violations.push({
      key: 'cache.url',
      value: config.cache.url,
      allowed:
        'redis://host:port/db: workers share bindings, nonces and gateway state only through Redis (memory is one per process)',
      source,
    });
  }
  if (config.store.url === 'sqlite::memory:') {
    violations.push({
      key: 'store.url',
      value: config.store.url,
      allowed: 'mysql://… or a sqlite:PATH file that every worker opens (an in-memory database is one per process)',
      source,
    });
  }
  if (config.sip.engine !== 'native') {
    violations.push({
      key: 'sip.engine',
      value: config.sip.engine,
      allowed:
        'native: with drachtio the drachtio-server holds the SIP socket and drouter does little per message; run one process per drachtio-server',
      source,
    });
  }
  return violations;
}
