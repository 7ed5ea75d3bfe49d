import { CacheUnavailableError } from '../errors.js';
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
} from './cache.js';
import { type Ban, type BanStore, parseBan } from './ban-store.js';

interface Entry<T> {
  value: T;
  /** Epoch ms; Infinity for no expiry. */
  expiresAt: number;
}

/** Expired entries are also dropped in bulk after this many writes, so unread nonces do not pile up. */
const PURGE_EVERY_WRITES = 1000;

/** A binding's own copy, as Redis gives one (structuredClone did the same at forty times the cost: 2 µs a call). */
function copyBinding(binding: Binding): Binding {
  return { ...binding, source: { ...binding.source } };
}

/**
 * The embedded default: plain Maps in this process, expiry checked on read.
 * Behaves like the Redis cache in every observable way (JSON-only peers, an
 * expiry index that outlives an expired entry until swapBindings clears it),
 * so the same suite runs on both.
 */
export class MemoryCache implements Cache, BanStore {
  readonly displayUrl = 'memory';
  private readonly bindings = new Map<string, Entry<Binding[]>>();
  /** AoR → its earliest binding expiresAt, as the Redis sorted set. */
  private readonly due = new Map<string, number>();
  private readonly nonceCounts = new Map<string, Entry<number>>();
  private readonly peers = new Map<string, Entry<string>>();
  private readonly gatewayHealth = new Map<string, GatewayHealth>();
  /** Newest first, as the Redis list. */
  private history: StateChange[] = [];
  private readonly switches = new Map<SwitchName, boolean>();
  private readonly carrierStates = new Map<string, boolean>();
  private readonly leases = new Map<string, Entry<{ holder: string; token: number }>>();
  /** Each lease's last token, kept after the lease ends: the next holder's is greater. */
  private readonly leaseTokens = new Map<string, number>();
  /** By address, as JSON, as Redis keeps them. */
  private readonly bans = new Map<string, string>();
  /** The stored array each array getBindings returned was copied from (undefined: none was stored). */
  private readonly readFrom = new WeakMap<readonly Binding[], Binding[] | undefined>();
  private writesSincePurge = 0;
  private closed = false;

  constructor(private readonly now: () => number = () => Date.now()) {}

  async getBindings(aor: string): Promise<Binding[]> {
    this.assertOpen('getBindings');
    const stored = this.live(this.bindings, aor);
    const copies = (stored ?? []).map(copyBinding);
    this.readFrom.set(copies, stored);
    return copies;
  }

  async swapBindings(
    aor: string,
    expected: readonly Binding[],
    next: readonly Binding[],
    ttlMs: number,
    fence?: Fence,
  ): Promise<SwapOutcome> {
    this.assertOpen('swapBindings');
    if (next.length > 0) checkTtl(ttlMs);
    // No await from here on: atomic within this process.
    const lease = fence && this.live(this.leases, fence.lease);
    if (fence && (lease?.holder !== fence.holder || lease.token !== fence.token)) return 'fenced';
    const stored = this.live(this.bindings, aor);
    const unchanged = this.readFrom.has(expected)
      ? this.readFrom.get(expected) === stored
      : JSON.stringify(expected) === JSON.stringify(stored ?? []);
    if (!unchanged) return 'changed';
    if (next.length === 0) {
      this.bindings.delete(aor);
      this.due.delete(aor);
      return 'swapped';
    }
    this.write(this.bindings, aor, next.map(copyBinding), ttlMs);
    this.due.set(aor, Math.min(...next.map((b) => b.expiresAt)));
    return 'swapped';
  }

  async dueAors(at: number, limit: number): Promise<string[]> {
    this.assertOpen('dueAors');
    const due = [...this.due].filter(([, earliest]) => earliest <= at);
    // The order of ZRANGEBYSCORE: by score, then by member.
    due.sort(([aorA, a], [aorB, b]) => a - b || (aorA < aorB ? -1 : aorA > aorB ? 1 : 0));
    return due.slice(0, Math.max(0, limit)).map(([aor]) => aor);
  }

  async countBoundAors(): Promise<number> {
    this.assertOpen('countBoundAors');
    return this.due.size;
  }

  async acceptNonceCount(nonce: string, nc: number, ttlMs: number): Promise<boolean> {
    this.assertOpen('acceptNonceCount');
    checkTtl(ttlMs);
    // No await between the read and the write: atomic within this process.
    const last = this.live(this.nonceCounts, nonce) ?? 0;
    if (nc <= last) return false;
    this.write(this.nonceCounts, nonce, nc, ttlMs);
    return true;
  }

  async getPeer(name: string): Promise<CachedPeer | undefined> {
    this.assertOpen('getPeer');
    const json = this.live(this.peers, name);
    return json === undefined ? undefined : (JSON.parse(json) as CachedPeer);
  }

  async setPeer(name: string, peer: CachedPeer, ttlMs: number | undefined): Promise<void> {
    this.assertOpen('setPeer');
    if (ttlMs !== undefined) checkTtl(ttlMs);
    // Stored as JSON, as Redis does: each read gives a copy of its own.
    this.write(this.peers, name, JSON.stringify(peer), ttlMs ?? Infinity);
  }

  async listBans(): Promise<Ban[]> {
    this.assertOpen('listBans');
    return [...this.bans.values()].flatMap((json) => parseBan(json) ?? []);
  }

  async getBan(address: string): Promise<Ban | undefined> {
    this.assertOpen('getBan');
    const json = this.bans.get(address);
    return json === undefined ? undefined : parseBan(json);
  }

  async putBan(ban: Ban): Promise<void> {
    this.assertOpen('putBan');
    this.bans.set(ban.address, JSON.stringify(ban));
  }

  async deleteBan(address: string): Promise<boolean> {
    this.assertOpen('deleteBan');
    return this.bans.delete(address);
  }

  async deletePeer(name: string): Promise<void> {
    this.assertOpen('deletePeer');
    this.peers.delete(name);
  }

  async getGatewayHealth(): Promise<Map<string, GatewayHealth>> {
    this.assertOpen('getGatewayHealth');
    // Objects are frozen on the way in, so handing them out shares nothing mutable.
    return new Map(this.gatewayHealth);
  }

  async setGatewayHealth(gwid: string, health: GatewayHealth): Promise<void> {
    this.assertOpen('setGatewayHealth');
    this.gatewayHealth.set(gwid, Object.freeze({ ...health }));
  }

  async deleteGatewayHealth(gwids: readonly string[]): Promise<void> {
    this.assertOpen('deleteGatewayHealth');
    for (const gwid of gwids) this.gatewayHealth.delete(gwid);
  }

  async addStateChange(change: StateChange, keep: number): Promise<void> {
    this.assertOpen('addStateChange');
    this.history = [Object.freeze({ ...change }), ...this.history].slice(0, keep);
  }

  async stateChanges(limit: number): Promise<StateChange[]> {
    this.assertOpen('stateChanges');
    return this.history.slice(0, Math.max(0, limit));
  }

  async getCarrierStates(): Promise<Map<string, boolean>> {
    this.assertOpen('getCarrierStates');
    return new Map(this.carrierStates);
  }

  async setCarrierState(carrierid: string, enabled: boolean): Promise<void> {
    this.assertOpen('setCarrierState');
    this.carrierStates.set(carrierid, enabled);
  }

  async deleteCarrierStates(carrierids: readonly string[]): Promise<void> {
    this.assertOpen('deleteCarrierStates');
    for (const carrierid of carrierids) this.carrierStates.delete(carrierid);
  }

  async getSwitch(name: SwitchName): Promise<boolean | undefined> {
    this.assertOpen('getSwitch');
    return this.switches.get(name);
  }

  async setSwitch(name: SwitchName, on: boolean): Promise<void> {
    this.assertOpen('setSwitch');
    this.switches.set(name, on);
  }

  async claimLease(name: LeaseName, holder: string, ttlMs: number): Promise<number | undefined> {
    this.assertOpen('claimLease');
    checkTtl(ttlMs);
    const current = this.live(this.leases, name);
    if (current !== undefined && current.holder !== holder) return undefined;
    const token = current?.token ?? Math.max((this.leaseTokens.get(name) ?? 0) + 1, this.now());
    this.leaseTokens.set(name, token);
    this.write(this.leases, name, { holder, token }, ttlMs);
    return token;
  }

  async releaseLease(name: LeaseName, holder: string): Promise<void> {
    this.assertOpen('releaseLease');
    if (this.live(this.leases, name)?.holder === holder) this.leases.delete(name);
  }

  async leaseHolder(name: LeaseName): Promise<string | undefined> {
    this.assertOpen('leaseHolder');
    return this.live(this.leases, name)?.holder;
  }

  async ping(): Promise<void> {
    this.assertOpen('ping');
  }

  async close(): Promise<void> {
    this.closed = true;
    this.bindings.clear();
    this.due.clear();
    this.nonceCounts.clear();
    this.peers.clear();
    this.gatewayHealth.clear();
    this.history = [];
    this.switches.clear();
    this.carrierStates.clear();
    this.leases.clear();
  }

  private live<T>(map: Map<string, Entry<T>>, key: string): T | undefined {
    const entry = map.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt <= this.now()) {
      map.delete(key);
      return undefined;
    }
    return entry.value;
  }

  private write<T>(map: Map<string, Entry<T>>, key: string, value: T, ttlMs: number): void {
    map.set(key, { value, expiresAt: this.now() + ttlMs });
    if (++this.writesSincePurge >= PURGE_EVERY_WRITES) this.purgeExpired();
  }

  private purgeExpired(): void {
    this.writesSincePurge = 0;
    const now = this.now();
    for (const map of [this.bindings, this.nonceCounts, this.peers] as Map<string, Entry<unknown>>[]) {
      for (const [key, entry] of map) if (entry.expiresAt <= now) map.delete(key);
    }
  }

  /** A closed cache fails like a Redis one whose connection has ended. */
  private assertOpen(operation: string): void {
    if (this.closed) throw new CacheUnavailableError(this.displayUrl, operation, 'the cache is closed');
  }
}
