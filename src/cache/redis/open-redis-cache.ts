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

const reconnectDelayMs = (attempt: number) => Math.min(attempt * 100, MAX_RECONNECT_DELAY_MS);

/**
 * Connects to `redis://[:password@]host:port/db`, or through Sentinels to
 * the primary they name (ioredis asks them again at each reconnect, and
 * follows their switch to a promoted replica). The first connect is tried
 * once and fails fast with CacheUnavailableError; once open, a dropped
 * connection is retried in the background while operations fail at once.
 */
export async function openRedisCache(url: string, options: RedisCacheOptions = {}): Promise<RedisCache> {
  const connectTimeoutMs = options.connectTimeoutMs ?? CONNECT_TIMEOUT_MS;
  const commandTimeoutMs = options.commandTimeoutMs ?? COMMAND_TIMEOUT_MS;
  let opened = false;
  // null ends the attempts: a cache that is down at start is a start-up error, not a wait.
  const delayOnceOpen = (attempt: number) => (opened ? reconnectDelayMs(attempt) : null);
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
          // A sentinel that takes the connection and answers nothing (a hung host) is skipped like one that refuses it.
          sentinelCommandTimeout: commandTimeoutMs,
          // A sentinel that cannot be reached is skipped for the next; all of them unreachable fails like a down Redis.
          sentinelRetryStrategy: delayOnceOpen,
          // Subscribes to the sentinels' +switch-master: the new primary is used as soon as it is named.
          failoverDetector: true,
        }),
    lazyConnect: true,
    connectTimeout: connectTimeoutMs,
    commandTimeout: commandTimeoutMs,
    maxRetriesPerRequest: 1,
    // Queued commands would wait out an outage; the registrar needs an answer now.
    enableOfflineQueue: false,
    retryStrategy: delayOnceOpen,
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
  const stopReconnecting = reconnectAfterEnd(redis);
  return new RedisCache(redis, redactUrlPassword(label), cacheKeys(options.keyPrefix), {
    replication: { replicas: options.waitReplicas ?? 0, timeoutMs: options.waitTimeoutMs ?? DEFAULT_WAIT_TIMEOUT_MS },
    stopReconnecting,
  });
}

/**
 * ioredis stops for good (status "end": every operation then fails with
 * "Connection is closed") when an attempt to reconnect is ended from
 * outside. With Sentinels that happens when the sentinels' +switch-master
 * reaches its failover detector while it still waits on a sentinel's
 * answer. That fits what sentinel-failover.test.ts showed under load (both
 * nodes answered REGISTERs with 503 for all 40 s it lasted, after a
 * failover that took 2 s); redis-sentinel.test.ts makes it happen with a
 * frozen sentinel. Once the cache is open, an end it did not ask
 * for is one more reconnect, with the back-off of a dropped connection.
 * Returns what stops it, for close().
 */
function reconnectAfterEnd(redis: Redis): () => void {
  let attempt = 0;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  redis.on('ready', () => (attempt = 0));
  redis.on('end', () => {
    if (stopped) return;
    timer = setTimeout(() => void redis.connect().catch(() => undefined), reconnectDelayMs(++attempt));
  });
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
