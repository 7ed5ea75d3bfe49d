import { afterEach, describe, expect, it } from 'vitest';
import type { Binding, Cache, Fence } from '../../src/cache/cache.js';
import { cacheKeys } from '../../src/cache/keys.js';
import { openCache } from '../../src/cache/open-cache.js';
import { ExpirySweeper } from '../../src/registrar/expiry-service.js';
import { PeerLookup } from '../../src/registrar/peer-service.js';
import { prepareStore } from '../../src/store/knex/open-store.js';
import type { Store } from '../../src/store/store.js';
import { databaseKinds, type ScratchDatabase } from '../support/databases.js';
import { captureLog } from '../support/log-capture.js';
import { deleteKeys } from '../support/redis-keys.js';

/**
 * The expiry sweep as singleton work of a pair: only the leader sweeps, a
 * leader that lost the lease is refused by the cache, and a refresh that
 * lands while the sweep works wins over it (nothing acknowledged with a 200
 * is lost to the sweep, in the cache or in the sippeers row). Every cache
 * (memory; Redis with DROUTER_TEST_REDIS_URL) on every store (SQLite;
 * MariaDB with DROUTER_TEST_MYSQL_URL).
 */
const REDIS_TEST_URL = process.env.DROUTER_TEST_REDIS_URL;
const NOW = Date.parse('2026-11-26T12:00:00Z');
const HOUR_MS = 3_600_000;

const cacheUrls = [
  { cache: 'memory', url: 'memory' },
  ...(REDIS_TEST_URL ? [{ cache: 'redis', url: REDIS_TEST_URL }] : []),
];
const combinations = databaseKinds().flatMap((database) => cacheUrls.map((cache) => ({ ...cache, database })));

function binding(expiresAt: number, contact = 'sip:1001@127.0.0.7:5060'): Binding {
  return {
    aor: '1001',
    contact,
    expiresAt,
    callId: 'c1',
    cseq: 1,
    q: 1,
    source: { address: '127.0.0.7', port: 5060, transport: 'udp' },
    userAgent: 'sipp',
    contactParams: '',
  };
}

describe.each(combinations)('the expiry sweep on $cache with $database.name', ({ url, database }) => {
  let db: ScratchDatabase | undefined;
  let store: Store | undefined;
  let cache: Cache | undefined;
  let prefix = '';
  let testNumber = 0;

  afterEach(async () => {
    await cache?.close();
    await store?.close();
    await db?.drop();
    if (url !== 'memory') await deleteKeys(url, cacheKeys(prefix).all);
  });

  /** Peer 1001 registered until `regseconds`, with one binding expired at NOW - 1 s in the cache. */
  async function rig(options: { onRead?: () => Promise<void>; fence?: () => Fence | undefined } = {}) {
    db = await database.create('sweep');
    store = (await prepareStore(db.url, { seedExample: false })).store;
    await db.exec(
      "INSERT INTO sippeers (name, type, host, secret, ipaddr, port, regseconds, fullcontact) VALUES ('1001', 'friend', 'dynamic', 's', '127.0.0.7', 5060, ?, 'sip:1001@127.0.0.7:5060')",
      [Math.floor((NOW - 1000) / 1000)],
    );
    prefix = `sipdr-test:${process.pid}:sweep:${++testNumber}:`;
    const opened = await openCache(url, { keyPrefix: prefix });
    cache = opened;
    const token = await opened.claimLease('leader', 'node-a', HOUR_MS);
    expect(token).toBeGreaterThan(0);
    const fence: Fence = { lease: 'leader', holder: 'node-a', token: token ?? 0 };
    expect(await opened.swapBindings('1001', [], [binding(NOW - 1000)], HOUR_MS)).toBe('swapped');
    // The real cache, with a hook right after the sweep's read: where a concurrent REGISTER would land.
    const sweepCache: Cache = Object.create(opened, {
      getBindings: {
        value: async (aor: string) => {
          const read = await opened.getBindings(aor);
          await options.onRead?.();
          return read;
        },
      },
    }) as Cache;
    const { log, messages } = captureLog();
    const sweeper = new ExpirySweeper({
      cache: sweepCache,
      store,
      peers: new PeerLookup(store, opened, { rtcachefriends: false, rtautoclearSeconds: 0 }),
      clock: { now: () => new Date(NOW) },
      log,
      intervalMs: 1000,
      rtupdate: true,
      ignoreregexpire: false,
      fence: options.fence ?? (() => fence),
    });
    const row = async () =>
      (await db?.exec("SELECT ipaddr, port, regseconds, fullcontact FROM sippeers WHERE name = '1001'"))?.[0];
    return { cache: opened, sweeper, row, messages };
  }

  it('on the leader, removes the expired binding and clears the row', async () => {
    const { cache, sweeper, row } = await rig();
    expect(await sweeper.sweep()).toEqual(['1001']);
    expect(await cache.getBindings('1001')).toEqual([]);
    expect(await row()).toEqual({ ipaddr: '', port: 0, regseconds: 0, fullcontact: '' });
  });

  it('on a node that is not the leader, does nothing', async () => {
    const { cache, sweeper, row } = await rig({ fence: () => undefined });
    expect(await sweeper.sweep()).toEqual([]);
    expect(await cache.getBindings('1001')).toHaveLength(1);
    expect(await row()).toMatchObject({ ipaddr: '127.0.0.7', port: 5060 });
  });

  it('loses to a REGISTER refresh that lands between its read and its write: the new binding and the row stay', async () => {
    const refreshed = binding(NOW + 120_000, 'sip:1001@127.0.0.7:5062');
    const handle: { cache?: Cache; db?: ScratchDatabase } = {};
    const { cache, sweeper, row } = await rig({
      onRead: async () => {
        // Another node's REGISTER: its bindings and its row, written while the sweep holds a stale read.
        const current = await handle.cache?.getBindings('1001');
        expect(await handle.cache?.swapBindings('1001', current ?? [], [refreshed], HOUR_MS)).toBe('swapped');
        await handle.db?.exec(
          "UPDATE sippeers SET port = 5062, regseconds = ?, fullcontact = 'sip:1001@127.0.0.7:5062' WHERE name = '1001'",
          [Math.floor((NOW + 120_000) / 1000)],
        );
      },
    });
    handle.cache = cache;
    handle.db = db;
    expect(await sweeper.sweep()).toEqual([]);
    expect((await cache.getBindings('1001')).map((b) => b.contact)).toEqual(['sip:1001@127.0.0.7:5062']);
    expect(await row()).toEqual({
      ipaddr: '127.0.0.7',
      port: 5062,
      regseconds: Math.floor((NOW + 120_000) / 1000),
      fullcontact: 'sip:1001@127.0.0.7:5062',
    });
  });

  it('is refused by the cache once another node took the lease, even while it still believes it leads', async () => {
    const handle: { cache?: Cache } = {};
    const { cache, sweeper, row, messages } = await rig({
      onRead: async () => {
        // The lease ran out under this node and the other node took it: this node's fence is stale.
        await handle.cache?.releaseLease('leader', 'node-a');
        expect(await handle.cache?.claimLease('leader', 'node-b', HOUR_MS)).toBeGreaterThan(0);
      },
    });
    handle.cache = cache;
    expect(await sweeper.sweep()).toEqual([]);
    expect(await cache.getBindings('1001')).toHaveLength(1);
    expect(await row()).toMatchObject({ ipaddr: '127.0.0.7', port: 5060 });
    expect(messages()).toContain('expiry sweep stopped: this node no longer holds the leader lease');
  });
});
