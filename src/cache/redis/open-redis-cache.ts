import { Redis } from 'ioredis';
import { CacheUnavailableError, redactUrlPassword } from '../../errors.js';
import { cacheKeys } from '../keys.js';
import { DEFAULT_WAIT_TIMEOUT_MS, RedisCache } from './redis-cache.js';

export interface RedisCacheOptions {
  /** Key namespace; only tests sharing a database set it. @default 'sipdr:' */
  keyPrefix?: string;
  /** Opening fails when Redis has not answered within this. @default 3000 */
  connectTimeoutMs?: number;
  /** An operation fails when Redis has not answered within this. @default 3000 */
  commandTimeoutMs?: number;
  /** Redis Sentinels that name the primary (the URL's host and port are then not used; its password and database are). */
  sentinels?: readonly { host: string; port: number }[];
  /** The name the sentinels monitor the primary under. @default 'mymaster' */
  sentinelName?: string;
  /** The sentinels' own password; none when empty or absent. */
  sentinelPassword?: string;
  /** Bindings written count only once this many replicas hold them (Redis WAIT); 0: once the primary does. @default 0 */
  waitReplicas?: number;
  /** How long a binding write waits for those replicas before it fails. @default 500 */
  waitTimeoutMs?: number;
}

const CONNECT_TIMEOUT_MS = 3000;
const DEFAULT_SENTINEL_NAME = 'mymaster';
const COMMAND_TIMEOUT_MS = 3000;
/** Back-off of a live connection that dropped: 100 ms, 200 ms … capped here. */
const MAX_RECONNECT_DELAY_MS = 2000;

/**
 * Connects to `redis://[:password@]host:port/db`, or through Sentinels to
 * the primary they name (ioredis asks them again at each reconnect, and
 * follows their switch to a promoted replica). The first connect is tried
 * once and fails fast with CacheUnavailableError; once open, a dropped
 * connection is retried in the background while operations fail at once.
 */
export async function openRedisCache(url: string, options: RedisCacheOptions = {}): Promise<RedisCache> {
  const connectTimeoutMs = options.connectTimeoutMs ?? CONNECT_TIMEOUT_MS;
  let opened = false;
  const sentinels = options.sentinels ?? [];
  const label =
    sentinels.length === 0
      ? url
      : `${url} through Redis Sentinels ${sentinels.map(({ host, port }) => `${host}:${port}`).join(', ')} (primary "${options.sentinelName ?? DEFAULT_SENTINEL_NAME}")`;
  const redis = new Redis(url, {
    ...(sentinels.length === 0
      ? {}
      : {
          sentinels: sentinels.map(({ host, port }) => ({ host, port })),
          name: options.sentinelName ?? DEFAULT_SENTINEL_NAME,
          ...(options.sentinelPassword ? { sentinelPassword: options.sentinelPassword } : {}),
          // A sentinel that cannot be reached is skipped for the next; all of them unreachable fails like a down Redis.
          sentinelRetryStrategy: (times: number) => (opened ? Math.min(times * 100, MAX_RECONNECT_DELAY_MS) : null),
          // Subscribes to the sentinels' +switch-master: the new primary is used as soon as it is named.
          failoverDetector: true,
        }),
    lazyConnect: true,
    connectTimeout: connectTimeoutMs,
    commandTimeout: options.commandTimeoutMs ?? COMMAND_TIMEOUT_MS,
    maxRetriesPerRequest: 1,
    // Queued commands would wait out an outage; the registrar needs an answer now.
    enableOfflineQueue: false,
    // null ends the attempts: a cache that is down at start is a start-up error, not a wait.
    retryStrategy: (times) => (opened ? Math.min(times * 100, MAX_RECONNECT_DELAY_MS) : null),
  });
  // Every operation reports its own failure as CacheUnavailableError; without
  // a listener ioredis would print each connection error to the console.
  redis.on('error', () => undefined);

  let timer: NodeJS.Timeout | undefined;
  // connectTimeout covers the TCP connect only; this covers AUTH/SELECT/ready too.
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${connectTimeoutMs} ms`)), connectTimeoutMs);
  });
  try {
    await Promise.race([redis.connect(), deadline]);
  } catch (error) {
    redis.disconnect();
    throw new CacheUnavailableError(label, 'connect', error);
  } finally {
    clearTimeout(timer);
  }
  opened = true;
  return new RedisCache(redis, redactUrlPassword(label), cacheKeys(options.keyPrefix), {
    replicas: options.waitReplicas ?? 0,
    timeoutMs: options.waitTimeoutMs ?? DEFAULT_WAIT_TIMEOUT_MS,
  });
}
