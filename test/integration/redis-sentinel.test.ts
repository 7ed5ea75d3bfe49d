import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Cache } from '../../src/cache/cache.js';
import type { Binding } from '../../src/registrar/core/bindings.js';
import { cacheOptions, openCache } from '../../src/cache/open-cache.js';
import { configSchema } from '../../src/config/schema.js';
import { freePort } from '../support/drouter-process.js';
import { testEngine } from '../support/drouter-server.js';
import type { PrivateRedis } from '../support/private-redis.js';
import { SentinelGroup } from '../support/sentinel-group.js';
import { describeUnless, redisMissing } from '../support/skip-reason.js';
import { waitFor } from '../support/wait-for.js';

const NAME = 'drouter-test';
/** Why these suites do not run here: no Redis, or the drachtio engine's run (no SIP in them: once, with the native suite). */
const SKIPPED =
  redisMissing() || (testEngine === 'native' ? '' : 'no SIP engine in it: run once, with the native suite');

function binding(aor: string, contact: string): Binding {
  return {
    aor,
    contact,
    expiresAt: Date.now() + 3_600_000,
    callId: `call-${aor}`,
    cseq: 1,
    q: 1,
    source: { address: '192.0.2.10', port: 5060, transport: 'udp' },
    userAgent: undefined,
    contactParams: '',
  };
}

/** Resolves once `written` is stored: each try fails at once while the cache has no primary. */
async function writeAfterFailover(cache: Cache, written: Binding): Promise<void> {
  await waitFor(
    'a write after the failover',
    30_000,
    async () =>
      (await cache.swapBindings(written.aor, [], [written], 60_000).catch(() => undefined)) === 'swapped'
        ? true
        : undefined,
    { pollMs: 100 },
  );
}

/**
 * cache.sentinels (issue 21): the cache reaches the primary that Redis
 * Sentinel names, and follows a failover to the promoted replica. Real
 * processes on 127.0.0.1: a primary, a replica, three sentinels (quorum 2,
 * the primary called down after 1 s by two of them: SentinelGroup).
 */
describeUnless(SKIPPED)('the cache through Redis Sentinel', () => {
  let group: SentinelGroup;
  let primary: PrivateRedis;
  let replica: PrivateRedis;
  let cache: Cache;

  beforeAll(async () => {
    group = await SentinelGroup.start(NAME, 1);
    primary = group.primary;
    replica = group.replicas[0] as PrivateRedis;
    const config = configSchema.parse({
      cache: {
        url: 'redis://unused-with-sentinels:1/0',
        sentinels: group.sentinelAddresses,
        sentinelName: NAME,
        keyPrefix: 'sentinel-test:',
      },
    });
    cache = await openCache(config.cache.url, cacheOptions(config.cache));
  }, 60_000);

  afterAll(async () => {
    await cache?.close();
    await group?.stop();
  });

  it('refuses a sentinel list without a redis:// URL, and names the sentinels when none answers', async () => {
    expect(
      configSchema.safeParse({ cache: { url: 'memory', sentinels: ['127.0.0.1:26379'] } }).error?.issues[0],
    ).toMatchObject({ path: ['cache', 'url'] });
    expect(configSchema.safeParse({ cache: { url: 'redis://x:1/0', sentinels: ['127.0.0.1'] } }).success).toBe(false);
    const nobody = await freePort();
    const refused = openCache('redis://unused:1/0', {
      sentinels: [{ host: '127.0.0.1', port: nobody }],
      sentinelName: NAME,
    });
    await expect(refused).rejects.toMatchObject({
      code: 'DROUTER_ERR_CACHE_UNAVAILABLE',
      message: expect.stringContaining(`through Redis Sentinels 127.0.0.1:${nobody} (primary "${NAME}")`) as unknown,
    });
  });

  it('with cache.waitReplicas 1, a binding write returns once the replica holds it', async () => {
    const acked = await openCache(primary.url, { keyPrefix: 'sentinel-test:', waitReplicas: 1, waitTimeoutMs: 2000 });
    try {
      expect(await acked.swapBindings('2001', [], [binding('2001', 'sip:2001@192.0.2.20:5060')], 60_000)).toBe(
        'swapped',
      );
      const onReplica = new Redis(replica.port, '127.0.0.1');
      expect(await onReplica.get('sentinel-test:bindings:2001')).toContain('sip:2001@192.0.2.20:5060');
      onReplica.disconnect();
    } finally {
      await acked.close();
    }
  });

  it('writes to the primary the sentinels name, and after the primary is killed, to the replica they promote: what had reached the replica is kept', async () => {
    const before = [binding('1001', 'sip:1001@192.0.2.10:5060')];
    expect(await cache.swapBindings('1001', [], before, 60_000)).toBe('swapped');
    // Acknowledged by the replica before the primary dies (the registrar's own WAIT is issue 21's next part).
    const direct = new Redis(primary.port, '127.0.0.1');
    expect(await direct.call('WAIT', '1', '2000')).toBe(1);
    direct.disconnect();

    await primary.stop();
    const killedAt = Date.now();
    // Writes fail at once during the failover (no queue: the registrar answers 503), then go to the new primary.
    await writeAfterFailover(cache, binding('1002', 'sip:1002@192.0.2.11:5060'));
    const outageMs = Date.now() - killedAt;
    console.log(
      `Redis Sentinel failover seen by the cache: ${outageMs} ms from the primary killed to the first write to the promoted replica`,
    );
    expect(outageMs).toBeLessThan(20_000);

    expect((await cache.getBindings('1001')).map((b) => b.contact)).toEqual(['sip:1001@192.0.2.10:5060']);
    expect((await cache.getBindings('1002')).map((b) => b.contact)).toEqual(['sip:1002@192.0.2.11:5060']);
    const promoted = new Redis(replica.port, '127.0.0.1');
    expect(((await promoted.call('ROLE')) as unknown[])[0]).toBe('master');
    promoted.disconnect();
  }, 60_000);

  it('with cache.waitReplicas 1 and no replica left (the promoted one stands alone), a binding write fails as an outage (the REGISTER gets 503), and so does a lease claim', async () => {
    const config = configSchema.parse({
      cache: {
        url: 'redis://unused:1/0',
        sentinels: group.sentinelAddresses,
        sentinelName: NAME,
        keyPrefix: 'sentinel-test:',
        waitReplicas: 1,
        waitTimeoutMs: 300,
      },
    });
    const acked = await openCache(config.cache.url, cacheOptions(config.cache));
    try {
      const write = acked.swapBindings('2002', [], [binding('2002', 'sip:2002@192.0.2.21:5060')], 60_000);
      await expect(write).rejects.toMatchObject({
        code: 'DROUTER_ERR_CACHE_UNAVAILABLE',
        message: expect.stringContaining(
          '0 of the 1 replica of cache.waitReplicas acknowledged the write within 300 ms',
        ) as unknown,
      });
      // A lease claim no replica holds does not count either: a later promotion could not know of it.
      await expect(acked.claimLease('leader', 'node-a', 3000)).rejects.toMatchObject({
        message: expect.stringContaining('did not answer claimLease: 0 of the 1 replica') as unknown,
      });
    } finally {
      await acked.close();
    }
    expect(configSchema.safeParse({ cache: { url: 'memory', waitReplicas: 1 } }).error?.issues[0]).toMatchObject({
      path: ['cache', 'waitReplicas'],
    });
  });
});

/**
 * A sentinel that hangs (its host frozen: it takes connections and answers
 * nothing) is the one the cache asks first when the primary is killed.
 * The cache must move on to the next sentinel, and must not give up when
 * the others announce the promotion while it is still waiting on the hung
 * one (ioredis's failover detector ends that attempt; ioredis then stops
 * reconnecting for good). Quorum 1 and staggered down-after, so that the
 * two live sentinels elect one of them without the frozen one's vote.
 */
describeUnless(SKIPPED)('the cache through Redis Sentinel, the sentinel it asks frozen', () => {
  let group: SentinelGroup;
  let frozen: PrivateRedis;
  let cache: Cache;

  beforeAll(async () => {
    group = await SentinelGroup.start(NAME, 1, { quorum: 1, downAfterMs: [1000, 3000, 10_000] });
    const [quick, second, last] = group.sentinels;
    if (!quick || !second || !last) throw new Error('the group has three sentinels');
    frozen = last;
    cache = await openCache('redis://unused-with-sentinels:1/0', {
      sentinels: [frozen, quick, second].map((sentinel) => ({ host: '127.0.0.1', port: sentinel.port })),
      sentinelName: NAME,
      keyPrefix: 'sentinel-frozen-test:',
    });
  }, 60_000);

  afterAll(async () => {
    frozen?.resume();
    await cache?.close();
    await group?.stop();
  });

  it('writes to the promoted replica soon after the switch, the first sentinel it asks answering nothing', async () => {
    expect(await cache.swapBindings('3001', [], [binding('3001', 'sip:3001@192.0.2.30:5060')], 60_000)).toBe('swapped');
    frozen.pause();
    await group.primary.stop();
    const killedAt = Date.now();
    await writeAfterFailover(cache, binding('3002', 'sip:3002@192.0.2.31:5060'));
    const switchedAt = group.switchedAt();
    console.log(
      `Redis Sentinel failover, the first sentinel frozen: switch ${switchedAt === undefined ? '?' : switchedAt - killedAt} ms after the kill, first write ${Date.now() - killedAt} ms after it`,
    );
    expect(switchedAt).toBeDefined();
    // The hung sentinel costs one command timeout (3 s) at the most, then the next one names the new primary.
    expect(Date.now() - (switchedAt ?? 0)).toBeLessThan(10_000);
    expect(((await cache.getBindings('3002')) ?? []).map((b) => b.contact)).toEqual(['sip:3002@192.0.2.31:5060']);
  }, 60_000);
});
