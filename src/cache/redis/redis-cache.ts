import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';
import { redactUrlPassword } from '../../errors.js';
import { CacheUnavailableError, checkTtl, type Binding, type Cache, type GatewayHealth, type StateChange, type SwitchName } from '../cache.js';
import { cacheKeys, type CacheKeys } from '../keys.js';

export interface RedisCacheOptions {
  /** Key namespace; only tests sharing a database set it. @default 'sipdr:' */
  keyPrefix?: string;
  /** Opening fails when Redis has not answered within this. @default 3000 */
  connectTimeoutMs?: number;
  /** An operation fails when Redis has not answered within this. @default 3000 */
  commandTimeoutMs?: number;
}

const CONNECT_TIMEOUT_MS = 3000;
const COMMAND_TIMEOUT_MS = 3000;
/** Back-off of a live connection that dropped: 100 ms, 200 ms … capped here. */
const MAX_RECONNECT_DELAY_MS = 2000;

/**
 * Compare-and-set of a digest nonce-count (RFC 7616 §3.4: the client
 * increments nc on each reuse of a nonce, a replay repeats one). One script,
 * so two proxies checking the same (nonce, nc) cannot both accept it.
 */
const ACCEPT_NONCE_COUNT_LUA = `
local last = tonumber(redis.call('GET', KEYS[1])) or 0
if tonumber(ARGV[1]) <= last then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
`;
const ACCEPT_NONCE_COUNT_SHA = createHash('sha1').update(ACCEPT_NONCE_COUNT_LUA).digest('hex');

/**
 * Connects to `redis://[:password@]host:port/db`. The first connect is tried
 * once and fails fast with CacheUnavailableError; once open, a dropped
 * connection is retried in the background while operations fail at once.
 */
export async function openRedisCache(url: string, options: RedisCacheOptions = {}): Promise<RedisCache> {
  const connectTimeoutMs = options.connectTimeoutMs ?? CONNECT_TIMEOUT_MS;
  let opened = false;
  const redis = new Redis(url, {
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
    throw new CacheUnavailableError(url, 'connect', error);
  } finally {
    clearTimeout(timer);
  }
  opened = true;
  return new RedisCache(redis, redactUrlPassword(url), cacheKeys(options.keyPrefix));
}

/**
 * The shared cache. An AoR's bindings are one JSON string, written in a
 * MULTI with its entry in the expiry index, so a reader never sees half a
 * REGISTER and the index never points at a set it does not describe.
 */
export class RedisCache implements Cache {
  constructor(
    private readonly redis: Redis,
    readonly displayUrl: string,
    private readonly keys: CacheKeys,
  ) {}

  async getBindings(aor: string): Promise<Binding[]> {
    const json = await this.run('getBindings', () => this.redis.get(this.keys.bindings(aor)));
    if (json === null) return [];
    // JSON drops an undefined userAgent; the port promises the property. Bindings stored before contactParams existed have none.
    return (JSON.parse(json) as Binding[]).map((binding) => ({ ...binding, userAgent: binding.userAgent ?? undefined, contactParams: binding.contactParams ?? '' }));
  }

  async setBindings(aor: string, bindings: readonly Binding[], ttlMs: number): Promise<void> {
    const key = this.keys.bindings(aor);
    if (bindings.length === 0) {
      await this.exec('setBindings', this.redis.multi().del(key).zrem(this.keys.bindingsDue, aor));
      return;
    }
    checkTtl(ttlMs);
    const earliest = Math.min(...bindings.map((binding) => binding.expiresAt));
    await this.exec(
      'setBindings',
      this.redis.multi().set(key, JSON.stringify(bindings), 'PX', ttlMs).zadd(this.keys.bindingsDue, earliest, aor),
    );
  }

  async dueAors(at: number, limit: number): Promise<string[]> {
    return this.run('dueAors', () => this.redis.zrangebyscore(this.keys.bindingsDue, '-inf', at, 'LIMIT', 0, limit));
  }

  async countBoundAors(): Promise<number> {
    return this.run('countBoundAors', () => this.redis.zcard(this.keys.bindingsDue));
  }

  async acceptNonceCount(nonce: string, nc: number, ttlMs: number): Promise<boolean> {
    checkTtl(ttlMs);
    const key = this.keys.nonce(nonce);
    const accepted = await this.run('acceptNonceCount', async () => {
      try {
        return await this.redis.evalsha(ACCEPT_NONCE_COUNT_SHA, 1, key, nc, ttlMs);
      } catch (error) {
        // First use on this server (or after SCRIPT FLUSH): send the script itself.
        if (!(error instanceof Error && error.message.startsWith('NOSCRIPT'))) throw error;
        return await this.redis.eval(ACCEPT_NONCE_COUNT_LUA, 1, key, nc, ttlMs);
      }
    });
    return accepted === 1;
  }

  async getPeer(name: string): Promise<Record<string, unknown> | undefined> {
    const json = await this.run('getPeer', () => this.redis.get(this.keys.peer(name)));
    return json === null ? undefined : (JSON.parse(json) as Record<string, unknown>);
  }

  async setPeer(name: string, peer: Record<string, unknown>, ttlMs: number | undefined): Promise<void> {
    const key = this.keys.peer(name);
    const json = JSON.stringify(peer);
    if (ttlMs === undefined) {
      await this.run('setPeer', () => this.redis.set(key, json));
      return;
    }
    checkTtl(ttlMs);
    await this.run('setPeer', () => this.redis.set(key, json, 'PX', ttlMs));
  }

  async deletePeer(name: string): Promise<void> {
    await this.run('deletePeer', () => this.redis.del(this.keys.peer(name)));
  }

  async getGatewayHealth(): Promise<Map<string, GatewayHealth>> {
    const fields = await this.run('getGatewayHealth', () => this.redis.hgetall(this.keys.gatewayHealth));
    return new Map(Object.entries(fields).map(([gwid, json]) => [gwid, JSON.parse(json) as GatewayHealth]));
  }

  async setGatewayHealth(gwid: string, health: GatewayHealth): Promise<void> {
    await this.run('setGatewayHealth', () => this.redis.hset(this.keys.gatewayHealth, gwid, JSON.stringify(health)));
  }

  async deleteGatewayHealth(gwids: readonly string[]): Promise<void> {
    if (gwids.length === 0) return;
    await this.run('deleteGatewayHealth', () => this.redis.hdel(this.keys.gatewayHealth, ...gwids));
  }

  async addStateChange(change: StateChange, keep: number): Promise<void> {
    const key = this.keys.gatewayHistory;
    await this.exec('addStateChange', this.redis.multi().lpush(key, JSON.stringify(change)).ltrim(key, 0, keep - 1));
  }

  async stateChanges(limit: number): Promise<StateChange[]> {
    if (limit <= 0) return [];
    const entries = await this.run('stateChanges', () => this.redis.lrange(this.keys.gatewayHistory, 0, limit - 1));
    return entries.map((json) => JSON.parse(json) as StateChange);
  }

  async getCarrierStates(): Promise<Map<string, boolean>> {
    const fields = await this.run('getCarrierStates', () => this.redis.hgetall(this.keys.carrierState));
    return new Map(Object.entries(fields).map(([carrierid, value]) => [carrierid, value === 'on']));
  }

  async setCarrierState(carrierid: string, enabled: boolean): Promise<void> {
    await this.run('setCarrierState', () => this.redis.hset(this.keys.carrierState, carrierid, enabled ? 'on' : 'off'));
  }

  async deleteCarrierStates(carrierids: readonly string[]): Promise<void> {
    if (carrierids.length === 0) return;
    await this.run('deleteCarrierStates', () => this.redis.hdel(this.keys.carrierState, ...carrierids));
  }

  async getSwitch(name: SwitchName): Promise<boolean | undefined> {
    const value = await this.run('getSwitch', () => this.redis.get(this.keys.switch(name)));
    return value === null ? undefined : value === 'on';
  }

  async setSwitch(name: SwitchName, on: boolean): Promise<void> {
    await this.run('setSwitch', () => this.redis.set(this.keys.switch(name), on ? 'on' : 'off'));
  }

  async ping(): Promise<void> {
    await this.run('ping', () => this.redis.ping());
  }

  async close(): Promise<void> {
    try {
      await this.redis.quit();
    } catch {
      // Already down: nothing to say goodbye to; stop any reconnecting.
      this.redis.disconnect();
    }
  }

  private async run<T>(operation: string, command: () => Promise<T>): Promise<T> {
    try {
      return await command();
    } catch (error) {
      throw new CacheUnavailableError(this.displayUrl, operation, error);
    }
  }

  /** A MULTI resolves even when one of its commands failed: look at each reply. */
  private async exec(operation: string, multi: ReturnType<Redis['multi']>): Promise<void> {
    const replies = await this.run(operation, () => multi.exec());
    const failed = replies === null ? new Error('transaction discarded') : replies.find(([error]) => error !== null)?.[0];
    if (failed) throw new CacheUnavailableError(this.displayUrl, operation, failed);
  }
}
