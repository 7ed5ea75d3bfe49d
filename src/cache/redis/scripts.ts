import { createHash } from 'node:crypto';
import type { SwapOutcome } from '../cache.js';

/**
 * The Redis cache's Lua scripts: each runs whole on the server, so the
 * compare and the write it guards cannot be split by another client.
 */

/** A Lua script sent by its SHA1 (EVALSHA), and whole only when the server does not know it yet. */
export interface LuaScript {
  lua: string;
  sha: string;
}

function luaScript(lua: string): LuaScript {
  return { lua, sha: createHash('sha1').update(lua).digest('hex') };
}

/**
 * Compare-and-set of a digest nonce-count (RFC 7616 §3.4: the client
 * increments nc on each reuse of a nonce, a replay repeats one). One script,
 * so two proxies checking the same (nonce, nc) cannot both accept it.
 */
export const ACCEPT_NONCE_COUNT = luaScript(`
local last = tonumber(redis.call('GET', KEYS[1])) or 0
if tonumber(ARGV[1]) <= last then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
`);

/**
 * swapBindings: KEYS bindings, expiry index, lease; ARGV expected JSON ('' =
 * no entry), next JSON ('' = delete), PX, earliest expiry, AoR, fence holder
 * ('' = no fence). Returns 1 swapped, 0 changed meanwhile, -1 fenced.
 */
export const SWAP_BINDINGS = luaScript(`
if ARGV[6] ~= '' and redis.call('GET', KEYS[3]) ~= ARGV[6] then return -1 end
if (redis.call('GET', KEYS[1]) or '') ~= ARGV[1] then return 0 end
if ARGV[2] == '' then
  redis.call('DEL', KEYS[1])
  redis.call('ZREM', KEYS[2], ARGV[5])
else
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
  redis.call('ZADD', KEYS[2], ARGV[4], ARGV[5])
end
return 1
`);

/** claimLease: take the lease when free, extend it when ARGV[1] holds it. */
export const CLAIM_LEASE = luaScript(`
local holder = redis.call('GET', KEYS[1])
if holder == false then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
if holder == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
`);

/** releaseLease: delete only our own lease, never the next holder's. */
export const RELEASE_LEASE = luaScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 0
`);

export const SWAP_OUTCOMES = new Map<unknown, SwapOutcome>([[1, 'swapped'], [0, 'changed'], [-1, 'fenced']]);
