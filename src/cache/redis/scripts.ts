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
 * no entry), next JSON ('' = delete), PX, earliest expiry, AoR, fence (the
 * lease's value, "<token> <holder>"; '' = no fence). Returns 1 swapped, 0
 * changed meanwhile, -1 fenced.
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

/**
 * claimLease: KEYS lease, its token counter; ARGV holder, PX. The lease's
 * value is "<token> <holder>". Taken when free, with a token above every
 * earlier one: above the counter, and at least the server's clock in ms, so
 * that a promoted replica which missed the last claim (and its counter)
 * still hands out a greater token than the lost primary did. Extended when
 * the holder holds it, the token kept. Returns the token, or 0 when another
 * holds the lease.
 */
export const CLAIM_LEASE = luaScript(`
local value = redis.call('GET', KEYS[1])
if value == false then
  local time = redis.call('TIME')
  local token = math.max((tonumber(redis.call('GET', KEYS[2])) or 0) + 1, tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000))
  redis.call('SET', KEYS[2], string.format('%d', token))
  redis.call('SET', KEYS[1], string.format('%d', token) .. ' ' .. ARGV[1], 'PX', ARGV[2])
  return token
end
local space = string.find(value, ' ', 1, true)
if space ~= nil and string.sub(value, space + 1) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return tonumber(string.sub(value, 1, space - 1))
end
return 0
`);

/** releaseLease: delete only our own lease (ARGV holder), never the next holder's. */
export const RELEASE_LEASE = luaScript(`
local value = redis.call('GET', KEYS[1])
if value ~= false then
  local space = string.find(value, ' ', 1, true)
  if space ~= nil and string.sub(value, space + 1) == ARGV[1] then redis.call('DEL', KEYS[1]) end
end
return 0
`);

export const SWAP_OUTCOMES = new Map<unknown, SwapOutcome>([
  [1, 'swapped'],
  [0, 'changed'],
  [-1, 'fenced'],
]);
