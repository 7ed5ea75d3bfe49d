import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import type { Binding, Cache, CachedPeer, GatewayHealth } from '../../src/cache/cache.js';
import { cacheKeys } from '../../src/cache/keys.js';
import { MemoryCache } from '../../src/cache/memory-cache.js';
import { openCache } from '../../src/cache/open-cache.js';
import { CacheUnavailableError } from '../../src/errors.js';
import { deleteKeys } from '../support/redis-keys.js';
import { startTcpRelay, type TcpRelay } from '../support/tcp-relay.js';

/**
 * One suite over every cache: memory always, Redis when
 * DROUTER_TEST_REDIS_URL is set (set but unreachable fails, never skips).
 * Each Redis test works under its own key prefix, so suites sharing the
 * database do not see each other, and deletes its keys afterwards.
 */
const REDIS_TEST_URL = process.env.DROUTER_TEST_REDIS_URL;

interface CacheKind {
  name: 'memory' | 'redis';
  open(): Promise<Cache>;
  /** Removes what the test left in a shared server. */
  cleanup(): Promise<void>;
}

let testNumber = 0;

function cacheKinds(): CacheKind[] {
  const kinds: CacheKind[] = [{ name: 'memory', open: () => openCache('memory'), cleanup: async () => undefined }];
  if (REDIS_TEST_URL) {
    let prefix: string | undefined;
    kinds.push({
      name: 'redis',
      open: async () => {
        const cache = await openCache(REDIS_TEST_URL, { keyPrefix: `sipdr-test:${process.pid}:${++testNumber}:` });
        prefix = `sipdr-test:${process.pid}:${testNumber}:`;
        return cache;
      },
      cleanup: async () => {
        if (prefix !== undefined) await deleteKeys(REDIS_TEST_URL, cacheKeys(prefix).all);
        prefix = undefined;
      },
    });
  }
  return kinds;
}

function binding(aor: string, contact: string, overrides: Partial<Binding> = {}): Binding {
  return {
    aor,
    contact,
    expiresAt: 1_700_000_000_000,
    callId: `call-${contact}`,
    cseq: 1,
    q: 1,
    source: { address: '127.0.0.7', port: 5060, transport: 'udp' },
    userAgent: 'sipp',
    contactParams: ';+sip.instance="<urn:uuid:00000000-0000-1000-8000-000000000001>"',
    ...overrides,
  };
}

/** A peer as a lookup reads it from sippeers, each column nullable as the table's. */
function peer(name: string, overrides: Partial<CachedPeer> = {}): CachedPeer {
  return {
    id: 1,
    name,
    type: 'friend',
    host: 'dynamic',
    secret: 'hunter2',
    md5secret: null,
    defaultuser: null,
    ipaddr: null,
    port: null,
    regseconds: null,
    fullcontact: null,
    useragent: null,
    regserver: null,
    lastms: null,
    insecure: null,
    permit: null,
    deny: null,
    ...overrides,
  };
}

/** Writes an AoR's bindings over whatever it has, as one writer alone would. */
async function put(cache: Cache, aor: string, bindings: readonly Binding[], ttlMs: number): Promise<void> {
  expect(await cache.swapBindings(aor, await cache.getBindings(aor), bindings, ttlMs)).toBe('swapped');
}

const MINUTE_MS = 60_000;
const SHORT_TTL_MS = 150;
const PAST_SHORT_TTL_MS = 350;

describe.each(cacheKinds())('the $name cache', (kind) => {
  const opened: Cache[] = [];
  async function open(): Promise<Cache> {
    const cache = await kind.open();
    opened.push(cache);
    return cache;
  }

  afterEach(async () => {
    for (const cache of opened.splice(0)) await cache.close();
    await kind.cleanup();
  });

  it('answers ping and shows its URL without a password', async () => {
    const cache = await open();
    await expect(cache.ping()).resolves.toBeUndefined();
    expect(cache.displayUrl).toBe(
      kind.name === 'memory' ? 'memory' : REDIS_TEST_URL?.replace(/(\/\/[^:/@]*:)[^@]*@/, '$1***@'),
    );
  });

  it('returns the bindings it stored, every field intact, and none for another AoR', async () => {
    const cache = await open();
    const stored = [
      binding('alice@example.com', 'sip:alice@127.0.0.7:5060', { q: 0.5, cseq: 42 }),
      binding('alice@example.com', 'sip:alice@127.0.0.8:5070;transport=tcp', {
        userAgent: undefined,
        source: { address: '127.0.0.8', port: 5070, transport: 'tcp' },
      }),
    ];
    await put(cache, 'alice@example.com', stored, MINUTE_MS);
    expect(await cache.getBindings('alice@example.com')).toStrictEqual(stored);
    expect(await cache.getBindings('bob@example.com')).toEqual([]);
  });

  it('keeps its own copies: changing what it was given or what it returned changes nothing stored', async () => {
    const cache = await open();
    const given = [binding('alice@example.com', 'sip:alice@127.0.0.7:5060')];
    await put(cache, 'alice@example.com', given, MINUTE_MS);
    const expected = structuredClone(given);
    (given[0] as Binding).source.port = 1;
    const returned = await cache.getBindings('alice@example.com');
    (returned[0] as Binding).source.port = 2;
    (returned[0] as Binding).cseq = 99;
    expect(await cache.getBindings('alice@example.com')).toStrictEqual(expected);
  });

  it('replaces the whole set: contacts missing from the new set are gone', async () => {
    const cache = await open();
    await put(
      cache,
      'alice@example.com',
      [binding('alice@example.com', 'sip:a@127.0.0.7'), binding('alice@example.com', 'sip:b@127.0.0.8')],
      MINUTE_MS,
    );
    const replacement = [binding('alice@example.com', 'sip:c@127.0.0.9', { cseq: 2 })];
    await put(cache, 'alice@example.com', replacement, MINUTE_MS);
    expect(await cache.getBindings('alice@example.com')).toStrictEqual(replacement);
  });

  it('deletes an AoR given an empty list, and drops it from the expiry index', async () => {
    const cache = await open();
    await put(
      cache,
      'alice@example.com',
      [binding('alice@example.com', 'sip:a@127.0.0.7', { expiresAt: 1000 })],
      MINUTE_MS,
    );
    expect(await cache.dueAors(1000, 10)).toEqual(['alice@example.com']);
    await put(cache, 'alice@example.com', [], MINUTE_MS);
    expect(await cache.getBindings('alice@example.com')).toEqual([]);
    expect(await cache.dueAors(Number.MAX_SAFE_INTEGER, 10)).toEqual([]);
  });

  it('forgets bindings once their ttl has passed', async () => {
    const cache = await open();
    await put(cache, 'alice@example.com', [binding('alice@example.com', 'sip:a@127.0.0.7')], SHORT_TTL_MS);
    await put(cache, 'bob@example.com', [binding('bob@example.com', 'sip:b@127.0.0.8')], MINUTE_MS);
    expect(await cache.getBindings('alice@example.com')).toHaveLength(1);
    await sleep(PAST_SHORT_TTL_MS);
    expect(await cache.getBindings('alice@example.com')).toEqual([]);
    expect(await cache.getBindings('bob@example.com')).toHaveLength(1);
  });

  it('lists due AoRs by earliest binding expiry, oldest first, up to the limit', async () => {
    const cache = await open();
    const set = (aor: string, ...expiries: number[]) =>
      put(
        cache,
        aor,
        expiries.map((expiresAt, i) => binding(aor, `sip:${aor}-${i}`, { expiresAt })),
        MINUTE_MS,
      );
    await set('a@example.com', 3000, 9000);
    await set('b@example.com', 9000, 1000); // scored by its earliest: 1000
    await set('c@example.com', 2000);
    await set('d@example.com', 2000); // ties go in AoR order, as ZRANGEBYSCORE does

    expect(await cache.dueAors(2500, 10)).toEqual(['b@example.com', 'c@example.com', 'd@example.com']);
    expect(await cache.dueAors(2500, 2)).toEqual(['b@example.com', 'c@example.com']);
    expect(await cache.dueAors(3000, 10)).toEqual(['b@example.com', 'c@example.com', 'd@example.com', 'a@example.com']);
    expect(await cache.dueAors(999, 10)).toEqual([]);

    await set('b@example.com', 5000); // a re-REGISTER moves it later
    expect(await cache.dueAors(2500, 10)).toEqual(['c@example.com', 'd@example.com']);
  });

  it('swaps bindings only if nobody wrote since they were read: a concurrent REGISTER wins over a stale write', async () => {
    const cache = await open();
    const aor = 'alice@example.com';
    const none = await cache.getBindings(aor);
    expect(await cache.swapBindings(aor, none, [binding(aor, 'sip:a@127.0.0.7')], MINUTE_MS)).toBe('swapped');
    const read = await cache.getBindings(aor);
    const readToo = await cache.getBindings(aor);
    expect(await cache.swapBindings(aor, read, [binding(aor, 'sip:b@127.0.0.8', { cseq: 2 })], MINUTE_MS)).toBe(
      'swapped',
    );
    // Read before the write above: refused, and the first writer's bindings stay.
    expect(await cache.swapBindings(aor, readToo, [], MINUTE_MS)).toBe('changed');
    expect(await cache.swapBindings(aor, none, [binding(aor, 'sip:c@127.0.0.9')], MINUTE_MS)).toBe('changed');
    expect((await cache.getBindings(aor)).map((b) => b.contact)).toEqual(['sip:b@127.0.0.8']);
    // An array the cache did not hand out is compared by value (the registrar's undo passes the set it wrote).
    expect(await cache.swapBindings(aor, [binding(aor, 'sip:b@127.0.0.8', { cseq: 2 })], [], MINUTE_MS)).toBe(
      'swapped',
    );
    expect(await cache.getBindings(aor)).toEqual([]);
    expect(await cache.dueAors(Number.MAX_SAFE_INTEGER, 10)).toEqual([]);
  });

  it('refuses a fenced swap once the fence holder has lost the lease, or holds it under another token, and writes nothing', async () => {
    const cache = await open();
    const aor = 'alice@example.com';
    await put(cache, aor, [binding(aor, 'sip:a@127.0.0.7', { expiresAt: 1000 })], MINUTE_MS);
    const token = await cache.claimLease('leader', 'node-a', MINUTE_MS);
    expect(token).toBeGreaterThan(0);
    const read = await cache.getBindings(aor);
    expect(
      await cache.swapBindings(aor, read, [], MINUTE_MS, { lease: 'leader', holder: 'node-b', token: token ?? 0 }),
    ).toBe('fenced');
    expect(
      await cache.swapBindings(aor, read, [], MINUTE_MS, {
        lease: 'leader',
        holder: 'node-a',
        token: (token ?? 0) - 1,
      }),
    ).toBe('fenced');
    expect(await cache.getBindings(aor)).toHaveLength(1);
    expect(
      await cache.swapBindings(aor, read, [], MINUTE_MS, { lease: 'leader', holder: 'node-a', token: token ?? 0 }),
    ).toBe('swapped');
    expect(await cache.getBindings(aor)).toEqual([]);
  });

  it('grants a lease to one holder at a time, extends it for that holder under the same token, and frees it on release or after its ttl', async () => {
    const cache = await open();
    expect(await cache.leaseHolder('leader')).toBeUndefined();
    const first = await cache.claimLease('leader', 'node-a', SHORT_TTL_MS);
    expect(first).toBeGreaterThan(0);
    expect(await cache.claimLease('leader', 'node-b', MINUTE_MS)).toBeUndefined();
    expect(await cache.leaseHolder('leader')).toBe('node-a');
    // node-a's claim extends its own lease past the first ttl.
    await sleep(SHORT_TTL_MS / 2);
    expect(await cache.claimLease('leader', 'node-a', SHORT_TTL_MS)).toBe(first);
    await sleep(SHORT_TTL_MS * 0.75);
    expect(await cache.leaseHolder('leader')).toBe('node-a');
    await sleep(PAST_SHORT_TTL_MS);
    expect(await cache.leaseHolder('leader')).toBeUndefined();
    const second = await cache.claimLease('leader', 'node-b', MINUTE_MS);
    expect(second).toBeGreaterThan(first ?? Infinity);
    // A release by another holder leaves the lease where it is.
    await cache.releaseLease('leader', 'node-a');
    expect(await cache.leaseHolder('leader')).toBe('node-b');
    await cache.releaseLease('leader', 'node-b');
    expect(await cache.leaseHolder('leader')).toBeUndefined();
    // The same holder taking it again holds a new token: what it wrote under the old one is fenced.
    const third = await cache.claimLease('leader', 'node-b', MINUTE_MS);
    expect(third).toBeGreaterThan(second ?? Infinity);
  });

  it('accepts a nonce-count only when greater than the last one seen for that nonce', async () => {
    const cache = await open();
    expect(await cache.acceptNonceCount('n1', 1, MINUTE_MS)).toBe(true);
    expect(await cache.acceptNonceCount('n1', 1, MINUTE_MS)).toBe(false);
    expect(await cache.acceptNonceCount('n1', 2, MINUTE_MS)).toBe(true);
    expect(await cache.acceptNonceCount('n1', 1, MINUTE_MS)).toBe(false);
    expect(await cache.acceptNonceCount('n1', 5, MINUTE_MS)).toBe(true);
    expect(await cache.acceptNonceCount('n1', 4, MINUTE_MS)).toBe(false);
    expect(await cache.acceptNonceCount('n2', 1, MINUTE_MS)).toBe(true);
  });

  it('accepts exactly one of two identical nonce-counts sent at once', async () => {
    const cache = await open();
    for (let nonce = 0; nonce < 20; nonce++) {
      const results = await Promise.all([
        cache.acceptNonceCount(`race-${nonce}`, 3, MINUTE_MS),
        cache.acceptNonceCount(`race-${nonce}`, 3, MINUTE_MS),
      ]);
      expect(results.filter(Boolean)).toHaveLength(1);
    }
  });

  it('forgets a nonce once its ttl has passed', async () => {
    const cache = await open();
    expect(await cache.acceptNonceCount('n1', 7, SHORT_TTL_MS)).toBe(true);
    await sleep(PAST_SHORT_TTL_MS);
    expect(await cache.acceptNonceCount('n1', 1, MINUTE_MS)).toBe(true);
  });

  it('keeps a peer without ttl, drops one with ttl when it passes, and stores JSON', async () => {
    const cache = await open();
    const registered = peer('1001', { ipaddr: '127.0.0.7', port: 5060, regseconds: 1_700_000_000, lastms: 0 });
    await cache.setPeer('1001', registered, undefined);
    await cache.setPeer('1002', peer('1002'), SHORT_TTL_MS);
    // Both caches keep JSON: every column comes back as it was, nulls too, in a copy of its own.
    const read = await cache.getPeer('1001');
    expect(read).toStrictEqual(registered);
    expect(read).not.toBe(registered);
    expect(await cache.getPeer('1002')).toStrictEqual(peer('1002'));
    await sleep(PAST_SHORT_TTL_MS);
    expect(await cache.getPeer('1002')).toBeUndefined();
    expect(await cache.getPeer('1001')).toStrictEqual(registered);
    expect(await cache.getPeer('1003')).toBeUndefined();
  });

  it('overwrites a peer, and a later set without ttl keeps it', async () => {
    const cache = await open();
    await cache.setPeer('1001', peer('1001', { host: 'a' }), SHORT_TTL_MS);
    await cache.setPeer('1001', peer('1001', { host: 'b' }), undefined);
    await sleep(PAST_SHORT_TTL_MS);
    expect(await cache.getPeer('1001')).toEqual(peer('1001', { host: 'b' }));
  });

  it('deletes a peer, and deleting an absent one is no error', async () => {
    const cache = await open();
    await cache.setPeer('1001', peer('1001'), undefined);
    await cache.deletePeer('1001');
    expect(await cache.getPeer('1001')).toBeUndefined();
    await expect(cache.deletePeer('1001')).resolves.toBeUndefined();
  });

  it("keeps every gateway's health, overwrites one, forgets the ones a reload removed", async () => {
    const cache = await open();
    const up: GatewayHealth = {
      state: 'active',
      reason: 'probe answered 200',
      since: 1_700_000_000_000,
      failures: 1,
      successes: 0,
      lastRttMs: 3.5,
      lastProbeAt: 1_700_000_001_000,
    };
    const down: GatewayHealth = {
      state: 'probing-disabled',
      reason: 'no answer to the probe within 2000 ms',
      since: 1_700_000_002_000,
      failures: 0,
      successes: 0,
      lastRttMs: null,
      lastProbeAt: null,
    };
    await cache.setGatewayHealth('1', up);
    await cache.setGatewayHealth('gw-2', down);
    expect(await cache.getGatewayHealth()).toEqual(
      new Map([
        ['1', up],
        ['gw-2', down],
      ]),
    );
    await cache.setGatewayHealth('1', { ...up, state: 'admin-disabled', reason: 'disabled by admin' });
    await cache.deleteGatewayHealth(['gw-2', 'never-there']);
    expect(await cache.getGatewayHealth()).toEqual(
      new Map([['1', { ...up, state: 'admin-disabled', reason: 'disabled by admin' }]]),
    );
    await cache.deleteGatewayHealth([]);
    expect((await cache.getGatewayHealth()).size).toBe(1);
  });

  it('keeps the newest state changes, newest first, up to the number asked to keep', async () => {
    const cache = await open();
    for (let i = 1; i <= 5; i++)
      await cache.addStateChange(
        { gwid: String(i), from: 'active', to: 'probing-disabled', reason: `change ${i}`, at: i },
        3,
      );
    expect((await cache.stateChanges(10)).map((change) => change.reason)).toEqual(['change 5', 'change 4', 'change 3']);
    expect(await cache.stateChanges(1)).toEqual([
      { gwid: '5', from: 'active', to: 'probing-disabled', reason: 'change 5', at: 5 },
    ]);
    expect(await cache.stateChanges(0)).toEqual([]);
  });

  it('keeps carrier states set at run time, and forgets the ones asked to', async () => {
    const cache = await open();
    expect(await cache.getCarrierStates()).toEqual(new Map());
    await cache.setCarrierState('cr1', false);
    await cache.setCarrierState('cr2', true);
    await cache.setCarrierState('cr1', true);
    expect(await cache.getCarrierStates()).toEqual(
      new Map([
        ['cr1', true],
        ['cr2', true],
      ]),
    );
    await cache.deleteCarrierStates(['cr2', 'never-there']);
    await cache.deleteCarrierStates([]);
    expect(await cache.getCarrierStates()).toEqual(new Map([['cr1', true]]));
  });

  it('keeps a shared switch: unset until set, then on or off', async () => {
    const cache = await open();
    expect(await cache.getSwitch('probing')).toBeUndefined();
    await cache.setSwitch('probing', false);
    expect(await cache.getSwitch('probing')).toBe(false);
    await cache.setSwitch('probing', true);
    expect(await cache.getSwitch('probing')).toBe(true);
  });

  it('refuses a ttl that is not a positive integer of milliseconds', async () => {
    const cache = await open();
    const one = [binding('alice@example.com', 'sip:a@127.0.0.7')];
    await expect(cache.swapBindings('alice@example.com', [], one, 0)).rejects.toThrow(RangeError);
    await expect(cache.acceptNonceCount('n1', 1, 1.5)).rejects.toThrow(/positive integer.*1\.5/);
    await expect(cache.setPeer('1001', peer('1001'), -1)).rejects.toThrow(RangeError);
    expect(await cache.getBindings('alice@example.com')).toEqual([]);
  });

  it('once closed, fails every operation with CacheUnavailableError naming it', async () => {
    const cache = await open();
    await cache.close();
    const error = await cache.getBindings('alice@example.com').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CacheUnavailableError);
    expect(error).toMatchObject({ code: 'DROUTER_ERR_CACHE_UNAVAILABLE', operation: 'getBindings' });
    await expect(cache.ping()).rejects.toThrow(/did not answer ping/);
    await expect(cache.getGatewayHealth()).rejects.toMatchObject({ operation: 'getGatewayHealth' });
    await expect(cache.setSwitch('probing', true)).rejects.toMatchObject({ operation: 'setSwitch' });
  });
});

describe('the memory cache clock', () => {
  it('expires entries by the injected clock, at exactly the ttl', async () => {
    let now = 1_000_000;
    const cache = new MemoryCache(() => now);
    await put(cache, 'alice@example.com', [binding('alice@example.com', 'sip:a@127.0.0.7')], 1000);
    await cache.setPeer('1001', peer('1001'), 1000);
    expect(await cache.acceptNonceCount('n1', 3, 1000)).toBe(true);
    now += 999;
    expect(await cache.getBindings('alice@example.com')).toHaveLength(1);
    expect(await cache.getPeer('1001')).toEqual(peer('1001'));
    expect(await cache.acceptNonceCount('n1', 3, 1000)).toBe(false);
    now += 1;
    expect(await cache.getBindings('alice@example.com')).toEqual([]);
    expect(await cache.getPeer('1001')).toBeUndefined();
    // Expired with the refused check above: a refusal does not renew the entry.
    expect(await cache.acceptNonceCount('n1', 3, 1000)).toBe(true);
    await cache.close();
  });
});

if (REDIS_TEST_URL) {
  const redisTestUrl = REDIS_TEST_URL;

  describe('the redis cache when Redis does not answer', () => {
    let relay: TcpRelay | undefined;
    let cache: Cache | undefined;

    afterEach(async () => {
      await cache?.close();
      await relay?.close();
      cache = undefined;
      relay = undefined;
    });

    it('fails openCache on a dead server within 5 s, naming the URL', async () => {
      const startedAt = performance.now();
      const error = await openCache('redis://127.0.0.1:1/0').catch((e: unknown) => e);
      expect(performance.now() - startedAt).toBeLessThan(5000);
      expect(error).toBeInstanceOf(CacheUnavailableError);
      expect(error).toMatchObject({ code: 'DROUTER_ERR_CACHE_UNAVAILABLE', operation: 'connect' });
      expect((error as Error).message).toContain('redis://127.0.0.1:1/0');
    });

    it('hides the password of the URL in the message', async () => {
      const error = await openCache('redis://:secret@127.0.0.1:1/0').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CacheUnavailableError);
      expect((error as Error).message).toContain('redis://:***@127.0.0.1:1/0');
      expect((error as Error).message).not.toContain('secret');
    });

    it('fails an operation with CacheUnavailableError when the connection is cut, and close still returns', async () => {
      const target = new URL(redisTestUrl);
      relay = await startTcpRelay(target.hostname, target.port === '' ? 6379 : Number(target.port));
      const viaRelay = new URL(redisTestUrl);
      viaRelay.hostname = '127.0.0.1';
      viaRelay.port = String(relay.port);
      cache = await openCache(viaRelay.toString(), { keyPrefix: `sipdr-test:${process.pid}:cut:` });
      await cache.ping();

      await relay.cut();
      const error = await cache.getBindings('alice@example.com').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CacheUnavailableError);
      expect((error as Error).message).toContain(`127.0.0.1:${relay.port}`);
      expect((error as Error).message).toMatch(/did not answer getBindings/);
      await expect(cache.ping()).rejects.toThrow(CacheUnavailableError);
    });
  });

  describe('the redis cache after a failover to a replica that missed the last claim', () => {
    it("hands the next holder a greater fencing token even with the lease and its counter gone, so the old holder's writes are refused", async () => {
      const prefix = `sipdr-test:${process.pid}:lost-lease:`;
      const cache = await openCache(redisTestUrl, { keyPrefix: prefix });
      try {
        const old = await cache.claimLease('leader', 'node-a', MINUTE_MS);
        // What the promoted replica holds when the claim never reached it: neither the lease nor its counter.
        await deleteKeys(redisTestUrl, `${prefix}lease*`);
        const next = await cache.claimLease('leader', 'node-b', MINUTE_MS);
        expect(next).toBeGreaterThan(old ?? Infinity);
        const aor = 'alice@example.com';
        const one = [binding(aor, 'sip:a@127.0.0.7', { expiresAt: Date.now() + MINUTE_MS })];
        expect(
          await cache.swapBindings(aor, [], one, MINUTE_MS, { lease: 'leader', holder: 'node-a', token: old ?? 0 }),
        ).toBe('fenced');
        expect(
          await cache.swapBindings(aor, [], one, MINUTE_MS, { lease: 'leader', holder: 'node-b', token: next ?? 0 }),
        ).toBe('swapped');
      } finally {
        await cache.close();
        await deleteKeys(redisTestUrl, cacheKeys(prefix).all);
      }
    });
  });
}
