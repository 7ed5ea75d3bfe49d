/**
 * Every Redis key of the cache, built here and nowhere else, so the layout
 * can be read (and changed) in one place.
 *
 *   sipdr:bindings:<aor>   string, JSON Binding[], PX = the swapBindings ttl
 *   sipdr:bindings-due     sorted set, member <aor>, score = earliest expiresAt
 *   sipdr:nonce:<nonce>    string, last accepted nonce-count, PX
 *   sipdr:peer:<name>      string, JSON peer record, optional PX
 *   sipdr:gateway-health   hash, field <gwid>, JSON GatewayHealth
 *   sipdr:gateway-history  list, JSON StateChange, newest first, trimmed
 *   sipdr:carrier-state    hash, field <carrierid>, "on" or "off"
 *   sipdr:switch:<name>    string, "on" or "off"
 *   sipdr:lease:<name>     string, "<token> <holder>", PX = the lease time
 *   sipdr:lease-token:<name>  string, the last fencing token handed out (no expiry)
 *   sipdr:bans             hash, field <address>, JSON Ban (src/defence/core/ban-policy.ts)
 */

export const KEY_PREFIX = 'sipdr:';

export interface CacheKeys {
  bindings(aor: string): string;
  /** The expiry index the sweep reads (dueAors). */
  readonly bindingsDue: string;
  nonce(nonce: string): string;
  peer(name: string): string;
  readonly gatewayHealth: string;
  readonly gatewayHistory: string;
  readonly carrierState: string;
  switch(name: string): string;
  lease(name: string): string;
  /** The lease's last fencing token: the next holder's is greater. */
  leaseToken(name: string): string;
  /** The bans the nodes share. */
  readonly bans: string;
  /** A SCAN pattern matching every key above. */
  readonly all: string;
}

/** `prefix` other than the default only lets tests share a Redis database. */
export function cacheKeys(prefix: string = KEY_PREFIX): CacheKeys {
  return {
    bindings: (aor) => `${prefix}bindings:${aor}`,
    bindingsDue: `${prefix}bindings-due`,
    nonce: (nonce) => `${prefix}nonce:${nonce}`,
    peer: (name) => `${prefix}peer:${name}`,
    gatewayHealth: `${prefix}gateway-health`,
    gatewayHistory: `${prefix}gateway-history`,
    carrierState: `${prefix}carrier-state`,
    switch: (name) => `${prefix}switch:${name}`,
    lease: (name) => `${prefix}lease:${name}`,
    leaseToken: (name) => `${prefix}lease-token:${name}`,
    bans: `${prefix}bans`,
    all: `${escapeGlob(prefix)}*`,
  };
}

function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&');
}
