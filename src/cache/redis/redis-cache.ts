import type { Redis } from 'ioredis';
import { CacheUnavailableError } from '../../errors.js';
import {
  checkTtl,
  type Binding,
  type Cache,
  type CachedPeer,
  type Fence,
  type GatewayHealth,
  type LeaseName,
  type StateChange,
  type SwapOutcome,
  type SwitchName,
} from '../cache.js';
import { type Ban, type BanStore, parseBan } from '../ban-store.js';
import type { CacheKeys } from '../keys.js';
import {
  ACCEPT_NONCE_COUNT,
  CLAIM_LEASE,
  type LuaScript,
  RELEASE_LEASE,
  SWAP_BINDINGS,
  SWAP_OUTCOMES,
} from './scripts.js';

/** cache.waitTimeoutMs when none is given. */
export const DEFAULT_WAIT_TIMEOUT_MS = 500;

/**
 * The shared cache. An AoR's bindings are one JSON string, written in a
 * MULTI with its entry in the expiry index, so a reader never sees half a
 * REGISTER and the index never points at a set it does not describe.
 */
export class RedisCache implements Cache, BanStore {
  /** The JSON each array getBindings returned was read from; swapBindings compares the stored value with it. */
  private readonly readAs = new WeakMap<readonly Binding[], string>();

  constructor(
    private readonly redis: Redis,
    readonly displayUrl: string,
    private readonly keys: CacheKeys,
    private readonly connection: {
      /** cache.waitReplicas / waitTimeoutMs: what a binding write waits for. */
      replication: { replicas: number; timeoutMs: number };
      /** Stops what keeps the connection up (open-redis-cache.ts), so that close() ends it for good. */
      stopReconnecting(): void;
    },
  ) {}

  async getBindings(aor: string): Promise<Binding[]> {
    const json = await this.run('getBindings', () => this.redis.get(this.keys.bindings(aor)));
    if (json === null) return this.remember([], '');
    // JSON drops an undefined userAgent; the port promises the property. Bindings stored before contactParams existed have none.
    const bindings = (JSON.parse(json) as Binding[]).map((binding) => ({
      ...binding,
      userAgent: binding.userAgent ?? undefined,
      contactParams: binding.contactParams ?? '',
    }));
    return this.remember(bindings, json);
  }

  async swapBindings(
    aor: string,
    expected: readonly Binding[],
    next: readonly Binding[],
    ttlMs: number,
    fence?: Fence,
  ): Promise<SwapOutcome> {
    if (next.length > 0) checkTtl(ttlMs);
    const expectedJson = this.readAs.get(expected) ?? (expected.length === 0 ? '' : JSON.stringify(expected));
    const nextJson = next.length === 0 ? '' : JSON.stringify(next);
    const earliest = next.length === 0 ? 0 : Math.min(...next.map((binding) => binding.expiresAt));
    const keys = [this.keys.bindings(aor), this.keys.bindingsDue, this.keys.lease(fence?.lease ?? 'leader')];
    const reply = await this.script('swapBindings', SWAP_BINDINGS, keys, [
      expectedJson,
      nextJson,
      next.length === 0 ? 1 : ttlMs,
      earliest,
      aor,
      fence ? `${fence.token} ${fence.holder}` : '',
    ]);
    const outcome = SWAP_OUTCOMES.get(reply);
    if (outcome === undefined)
      throw new CacheUnavailableError(this.displayUrl, 'swapBindings', `unexpected script reply ${String(reply)}`);
    if (outcome === 'swapped') await this.replicated('swapBindings');
    return outcome;
  }

  /**
   * With cache.waitReplicas, a write is acknowledged only once that many
   * replicas hold it (Redis WAIT), so that the primary lost right after it
   * loses nothing; fewer within the timeout fails like a cache outage (the
   * REGISTER gets 503 and is retried; the primary keeps the write).
   */
  private async replicated(operation: string): Promise<void> {
    const { replicas, timeoutMs } = this.connection.replication;
    if (replicas === 0) return;
    const acknowledged = Number(await this.run(operation, () => this.redis.call('WAIT', replicas, timeoutMs)));
    if (acknowledged < replicas) {
      throw new CacheUnavailableError(
        this.displayUrl,
        operation,
        `${acknowledged} of the ${replicas} replica${replicas === 1 ? '' : 's'} of cache.waitReplicas acknowledged the write within ${timeoutMs} ms`,
      );
    }
  }

  async dueAors(at: number, limit: number): Promise<string[]> {
    return this.run('dueAors', () => this.redis.zrangebyscore(this.keys.bindingsDue, '-inf', at, 'LIMIT', 0, limit));
  }

  async countBoundAors(): Promise<number> {
    return this.run('countBoundAors', () => this.redis.zcard(this.keys.bindingsDue));
  }

  async acceptNonceCount(nonce: string, nc: number, ttlMs: number): Promise<boolean> {
    checkTtl(ttlMs);
    return (await this.script('acceptNonceCount', ACCEPT_NONCE_COUNT, [this.keys.nonce(nonce)], [nc, ttlMs])) === 1;
  }

  async getPeer(name: string): Promise<CachedPeer | undefined> {
    const json = await this.run('getPeer', () => this.redis.get(this.keys.peer(name)));
    return json === null ? undefined : (JSON.parse(json) as CachedPeer);
  }

  async setPeer(name: string, peer: CachedPeer, ttlMs: number | undefined): Promise<void> {
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
    await this.exec(
      'addStateChange',
      this.redis
        .multi()
        .lpush(key, JSON.stringify(change))
        .ltrim(key, 0, keep - 1),
    );
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

  /** With cache.waitReplicas, a claim counts only once the replicas hold it: a promoted replica knows the lease and its token. */
  async claimLease(name: LeaseName, holder: string, ttlMs: number): Promise<number | undefined> {
    checkTtl(ttlMs);
    const token = Number(
      await this.script(
        'claimLease',
        CLAIM_LEASE,
        [this.keys.lease(name), this.keys.leaseToken(name)],
        [holder, ttlMs],
      ),
    );
    if (token === 0) return undefined;
    await this.replicated('claimLease');
    return token;
  }

  async releaseLease(name: LeaseName, holder: string): Promise<void> {
    await this.script('releaseLease', RELEASE_LEASE, [this.keys.lease(name)], [holder]);
  }

  async listBans(): Promise<Ban[]> {
    const stored = await this.run('listBans', () => this.redis.hvals(this.keys.bans));
    return stored.flatMap((json) => parseBan(json) ?? []);
  }

  async getBan(address: string): Promise<Ban | undefined> {
    const json = await this.run('getBan', () => this.redis.hget(this.keys.bans, address));
    return json === null ? undefined : parseBan(json);
  }

  async putBan(ban: Ban): Promise<void> {
    await this.run('putBan', () => this.redis.hset(this.keys.bans, ban.address, JSON.stringify(ban)));
  }

  async deleteBan(address: string): Promise<boolean> {
    return (await this.run('deleteBan', () => this.redis.hdel(this.keys.bans, address))) > 0;
  }

  async leaseHolder(name: LeaseName): Promise<string | undefined> {
    const value = await this.run('leaseHolder', () => this.redis.get(this.keys.lease(name)));
    return value === null ? undefined : value.slice(value.indexOf(' ') + 1);
  }

  async ping(): Promise<void> {
    await this.run('ping', () => this.redis.ping());
  }

  async close(): Promise<void> {
    this.connection.stopReconnecting();
    try {
      await this.redis.quit();
    } catch {
      // Already down: nothing to say goodbye to.
    }
    // Stops any reconnecting, and closes the connections to the sentinels that QUIT leaves open.
    this.redis.disconnect();
  }

  private async run<T>(operation: string, command: () => Promise<T>): Promise<T> {
    try {
      return await command();
    } catch (error) {
      throw new CacheUnavailableError(this.displayUrl, operation, error);
    }
  }

  /** Runs a script by its SHA, sending it whole the first time (or after SCRIPT FLUSH). */
  private script(
    operation: string,
    script: LuaScript,
    keys: readonly string[],
    args: readonly (string | number)[],
  ): Promise<unknown> {
    return this.run(operation, async () => {
      try {
        return await this.redis.evalsha(script.sha, keys.length, ...keys, ...args);
      } catch (error) {
        if (!(error instanceof Error && error.message.startsWith('NOSCRIPT'))) throw error;
        return await this.redis.eval(script.lua, keys.length, ...keys, ...args);
      }
    });
  }

  /** What swapBindings compares with: the exact JSON these bindings were read as. */
  private remember(bindings: Binding[], json: string): Binding[] {
    this.readAs.set(bindings, json);
    return bindings;
  }

  /** A MULTI resolves even when one of its commands failed: look at each reply. */
  private async exec(operation: string, multi: ReturnType<Redis['multi']>): Promise<void> {
    const replies = await this.run(operation, () => multi.exec());
    const failed =
      replies === null ? new Error('transaction discarded') : replies.find(([error]) => error !== null)?.[0];
    if (failed) throw new CacheUnavailableError(this.displayUrl, operation, failed);
  }
}
