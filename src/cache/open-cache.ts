import type { CacheConfig } from '../config/schema.js';
import { redactUrlPassword } from '../errors.js';
import type { BanStore } from './ban-store.js';
import type { Cache } from './cache.js';
import { MemoryCache } from './memory-cache.js';
import { openRedisCache, type RedisCacheOptions } from './redis/open-redis-cache.js';

export type { RedisCacheOptions as CacheOptions };

/**
 * The cache of `cache.url`: `memory` (one process, the embedded default) or
 * `redis://[:password@]host:port/db`. Redis that does not answer within
 * 3 s fails with CacheUnavailableError naming the URL, password hidden.
 */
export async function openCache(url: string, options: RedisCacheOptions = {}): Promise<Cache & BanStore> {
  if (url === 'memory') return new MemoryCache();
  if (url.startsWith('redis://')) return openRedisCache(url, options);
  // The config schema admits only these two; anything else is a wiring mistake.
  throw new TypeError(`cache.url ${redactUrlPassword(url)} is not usable: expected memory or redis://host:port/db`);
}

/** The connection settings of the `cache` section (cache.url aside). */
export function cacheOptions(config: CacheConfig): RedisCacheOptions {
  return {
    keyPrefix: config.keyPrefix,
    sentinels: config.sentinels.map(sentinelEndpoint),
    sentinelName: config.sentinelName,
    sentinelPassword: config.sentinelPassword,
    waitReplicas: config.waitReplicas,
    waitTimeoutMs: config.waitTimeoutMs,
  };
}

/** `host:port` (validated by the schema), an IPv6 host without its brackets. */
function sentinelEndpoint(text: string): { host: string; port: number } {
  const colon = text.lastIndexOf(':');
  return { host: text.slice(0, colon).replace(/^\[(.*)\]$/, '$1'), port: Number(text.slice(colon + 1)) };
}
