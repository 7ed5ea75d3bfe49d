import { redactUrlPassword } from '../errors.js';
import type { BanStore } from './ban-store.js';
import type { Cache } from './cache.js';
import { MemoryCache } from './memory-cache.js';
import { openRedisCache, type RedisCacheOptions } from './redis/redis-cache.js';

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
