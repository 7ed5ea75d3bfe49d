import type { GatewayHealth, StateChange } from '../probe/core/gateway-health.js';
import type { Binding } from '../registrar/core/bindings.js';
import type { PeerRow } from '../core/model/sippeers-table.js';

export type { Binding, GatewayHealth, StateChange };

/**
 * Run-time switches every node shares: `probing` (`drouter probing on|off`);
 * `rows-loaded`, set once the leader has put the sippeers rows'
 * registrations into this cache (gone with a cache that restarted empty).
 */
export type SwitchName = 'probing' | 'rows-loaded';

/** Leases the nodes contend for: `leader` runs the singleton work (probing, the expiry sweep). */
export type LeaseName = 'leader';

/**
 * A write that only the holder of a lease may make: a node that lost the
 * lease is refused (fencing). The token names one holding of the lease: a
 * holder that lost it and took it again holds a new, greater token, and
 * writes fenced by the old one are refused.
 */
export interface Fence {
  lease: LeaseName;
  holder: string;
  token: number;
}

/** swapBindings: written; refused because another writer changed the bindings first; refused because the fence's holder no longer holds the lease. */
export type SwapOutcome = 'swapped' | 'changed' | 'fenced';

/**
 * The registrar's bindings by AoR (RFC 3261 §10's location service), with
 * the expiry index the sweep works from.
 */
export interface BindingCache {
  /** The stored bindings of an AoR (expired ones too: the caller compares with its clock). */
  getBindings(aor: string): Promise<Binding[]>;
  /**
   * Replaces all bindings of an AoR at once, if they are still `expected`
   * (the array getBindings returned, or `[]` for none): a REGISTER on
   * another node or worker, or the expiry sweep, that wrote in between
   * makes this 'changed' and writes nothing, so no refresh is lost to a
   * stale read. Atomic (Redis: one Lua script). An empty `next` deletes; the
   * entry lives `ttlMs` (Redis PX). With `fence`, only while its holder
   * holds the lease.
   */
  swapBindings(
    aor: string,
    expected: readonly Binding[],
    next: readonly Binding[],
    ttlMs: number,
    fence?: Fence,
  ): Promise<SwapOutcome>;
  /** AoRs whose earliest binding expiry is <= `at` (the expiry sweep's work list). swapBindings maintains this index (Redis: a sorted set scored by the earliest expiresAt). */
  dueAors(at: number, limit: number): Promise<string[]>;
  /** How many AoRs have bindings (the expiry index's size: expired ones not swept yet count too). */
  countBoundAors(): Promise<number>;
}

/** A row JSON gives back as it was: every column a string, a number or null (a Date, say, would come back a string). */
type JsonRow<Row extends Readonly<Record<string, string | number | null>>> = Row;

/** A peer as the peer cache keeps it: the sippeers columns a lookup reads (PeerRow: text, integers or null), as JSON. */
export type CachedPeer = JsonRow<PeerRow>;

/** Realtime peers kept after their first read (chan_sip rtcachefriends), by peer name. */
export interface PeerCache {
  getPeer(name: string): Promise<CachedPeer | undefined>;
  setPeer(name: string, peer: CachedPeer, ttlMs: number | undefined): Promise<void>;
  deletePeer(name: string): Promise<void>;
}

/** The digest nonce counts seen, so that a replayed response is refused. */
export interface NonceCountCache {
  /** True and remembered when `nc` is greater than the last one seen for this nonce, false otherwise. Entry lives `ttlMs`. Atomic (Redis: a Lua script or WATCH). */
  acceptNonceCount(nonce: string, nc: number, ttlMs: number): Promise<boolean>;
}

/** Every gateway's health, which the nodes share, and the history of its state changes. */
export interface GatewayStateCache {
  /** Every gateway's health, by gwid. */
  getGatewayHealth(): Promise<Map<string, GatewayHealth>>;
  setGatewayHealth(gwid: string, health: GatewayHealth): Promise<void>;
  /** Forgets gateways a reload removed. */
  deleteGatewayHealth(gwids: readonly string[]): Promise<void>;
  /** Adds a state change to the history, keeping the newest `keep`. */
  addStateChange(change: StateChange, keep: number): Promise<void>;
  /** The newest `limit` state changes, newest first. */
  stateChanges(limit: number): Promise<StateChange[]>;
}

/** Carriers an operator enabled or disabled at run time, by carrierid (true: enabled). */
export interface CarrierStateCache {
  getCarrierStates(): Promise<Map<string, boolean>>;
  setCarrierState(carrierid: string, enabled: boolean): Promise<void>;
  deleteCarrierStates(carrierids: readonly string[]): Promise<void>;
}

/** The run-time switches every node shares (see SwitchName). */
export interface SwitchCache {
  /** undefined when never set (the configuration's value applies). */
  getSwitch(name: SwitchName): Promise<boolean | undefined>;
  setSwitch(name: SwitchName, on: boolean): Promise<void>;
}

/** The leases the nodes contend for, each holding with its fencing token (see Fence). */
export interface LeaseCache {
  /**
   * Takes the lease when nobody holds it, with a fencing token greater than
   * any before it, or extends it when `holder` does: the token when `holder`
   * holds it for `ttlMs` from now, undefined when another does.
   */
  claimLease(name: LeaseName, holder: string, ttlMs: number): Promise<number | undefined>;
  /** Gives the lease up, if `holder` holds it (so the other node need not wait for it to run out). */
  releaseLease(name: LeaseName, holder: string): Promise<void>;
  /** Who holds the lease now, if anyone. */
  leaseHolder(name: LeaseName): Promise<string | undefined>;
}

/** The connection itself: whether it answers, where it goes, its end. */
export interface CacheConnection {
  /** Throws CacheUnavailableError when the cache does not answer. */
  ping(): Promise<void>;
  readonly displayUrl: string;
  close(): Promise<void>;
}

/**
 * The whole cache, every port above on one connection: `memory` in one
 * process, Redis when several share the state. Only what opens and closes
 * the cache holds all of it; each service takes the ports it uses.
 */
export type Cache = BindingCache &
  PeerCache &
  NonceCountCache &
  GatewayStateCache &
  CarrierStateCache &
  SwitchCache &
  LeaseCache &
  CacheConnection;

/**
 * Redis rejects a PX that is not a positive integer; every cache refuses it
 * the same way, as the caller's mistake rather than an unavailable cache.
 */
export function checkTtl(ttlMs: number): void {
  if (!Number.isInteger(ttlMs) || ttlMs <= 0) {
    throw new RangeError(`cache ttlMs must be a positive integer of milliseconds, got ${ttlMs}`);
  }
}
