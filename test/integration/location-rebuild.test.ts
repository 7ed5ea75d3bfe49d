import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BindingRefill } from '../../src/registrar/binding-refill-service.js';
import type { Cache } from '../../src/cache/cache.js';
import { openCache } from '../../src/cache/open-cache.js';
import { locationLookup } from '../../src/registrar/location-service.js';
import { PeerLookup } from '../../src/registrar/peer-service.js';
import { prepareStore } from '../../src/store/knex/open-store.js';
import type { Store } from '../../src/store/store.js';
import type { SipUri } from '../../src/sip/core/uri.js';
import { databaseKinds, type ScratchDatabase } from '../support/databases.js';
import { captureLog } from '../support/log-capture.js';

function uri(user: string): SipUri {
  return {
    scheme: 'sip',
    user,
    password: undefined,
    host: '127.0.0.1',
    port: undefined,
    params: [],
    headers: undefined,
  };
}

/**
 * A cache that lost its bindings (Redis restarted empty) while the sippeers
 * rows still say the phones are registered (issue 21): the location service
 * reaches the phone at its row's contact and puts the binding back. On
 * SQLite with the in-process cache: the cache holds nothing, the row does.
 */
describe('the location service with bindings lost from the cache', () => {
  let store: Store | undefined;
  let cache: Cache | undefined;

  afterEach(async () => {
    await store?.close();
    await cache?.close();
  });

  async function registeredRow(regsecondsFromNow: number): Promise<{ store: Store; cache: Cache; nowMs: number }> {
    const file = join(mkdtempSync(join(tmpdir(), 'drouter-rebuild-')), 'drouter.db');
    store = (await prepareStore(`sqlite:${file}`, { seedExample: true })).store;
    cache = await openCache('memory');
    const nowMs = Date.now();
    const written = await store.writeRegistration('1001', {
      ipaddr: '192.0.2.10',
      port: 5062,
      regseconds: Math.floor(nowMs / 1000) + regsecondsFromNow,
      fullcontact: 'sip:1001@10.0.0.5:5060;ob',
      useragent: 'Phone/1.0',
    });
    expect(written).toBe(true);
    return { store, cache, nowMs };
  }

  it("reaches the phone at its row's contact and puts the binding back, once", async () => {
    const { store, cache, nowMs } = await registeredRow(600);
    const { log, lines } = captureLog();
    const locate = locationLookup({
      cache,
      peers: new PeerLookup(store, cache, { rtcachefriends: false, rtautoclearSeconds: 0 }),
      clock: { now: () => new Date(nowMs) },
      ignoreregexpire: false,
      rebuildFromRows: true,
      log,
      relay: undefined,
    });
    const expected = {
      kind: 'registered',
      targets: [
        {
          uri: 'sip:1001@10.0.0.5:5060;ob',
          destination: { address: '192.0.2.10', port: 5062, transport: 'udp' },
          label: 'peer 1001',
        },
      ],
    };
    expect(await locate(uri('1001'))).toEqual(expected);
    const [restored] = await cache.getBindings('1001');
    expect(restored).toMatchObject({
      aor: '1001',
      contact: 'sip:1001@10.0.0.5:5060;ob',
      source: { address: '192.0.2.10', port: 5062 },
      userAgent: 'Phone/1.0',
    });
    expect(Math.round((restored?.expiresAt ?? 0) / 1000)).toBe(Math.floor(nowMs / 1000) + 600);
    expect(lines.map((line) => line.msg)).toEqual([
      expect.stringMatching(
        /^binding of 1001 rebuilt from its sippeers row \(the cache had none\): sip:1001@10\.0\.0\.5:5060;ob until /,
      ),
    ]);
    // From now on the cache answers: no second rebuild.
    expect(await locate(uri('1001'))).toEqual(expected);
    expect(lines).toHaveLength(1);
  });

  it('leaves a phone whose row has expired offline, and rebuilds nothing with rtupdate off (the rows are not the registrations then)', async () => {
    const { store, cache, nowMs } = await registeredRow(-5);
    const { log } = captureLog();
    const peers = new PeerLookup(store, cache, { rtcachefriends: false, rtautoclearSeconds: 0 });
    const clock = { now: () => new Date(nowMs) };
    expect(
      await locationLookup({
        cache,
        peers,
        clock,
        ignoreregexpire: false,
        rebuildFromRows: true,
        log,
        relay: undefined,
      })(uri('1001')),
    ).toEqual({ kind: 'offline' });
    await store.writeRegistration('1001', { regseconds: Math.floor(nowMs / 1000) + 600 });
    expect(
      await locationLookup({
        cache,
        peers,
        clock,
        ignoreregexpire: false,
        rebuildFromRows: false,
        log,
        relay: undefined,
      })(uri('1001')),
    ).toEqual({ kind: 'offline' });
    expect(await cache.getBindings('1001')).toEqual([]);
  });
});

/**
 * The leader's refill of a cache that restarted empty: every registered
 * row's binding put back, in pages, a binding already there left alone, then
 * the `rows-loaded` switch; a cache without the switch is refilled again.
 * On each database kind (SQLite; MariaDB with DROUTER_TEST_MYSQL_URL).
 */
describe.each(databaseKinds())('the leader refilling an emptied cache from the sippeers rows ($name)', (kind) => {
  let db: ScratchDatabase | undefined;
  let store: Store | undefined;
  const caches: Cache[] = [];

  afterEach(async () => {
    for (const cache of caches.splice(0)) await cache.close();
    await store?.close();
    await db?.drop();
  });

  it("puts back each registered row's binding in pages, leaves a newer one alone, skips the expired, and sets the switch", async () => {
    db = await kind.create('refill');
    store = (await prepareStore(db.url, { seedExample: true })).store;
    const nowMs = Date.now();
    const nowSeconds = Math.floor(nowMs / 1000);
    for (const [name, regseconds] of [
      ['1001', nowSeconds + 600],
      ['1002', nowSeconds + 600],
      ['1003', nowSeconds - 5],
      ['r1', nowSeconds + 900],
      ['r2', nowSeconds + 900],
      ['r3', nowSeconds + 900],
    ] as const) {
      if (name.startsWith('r'))
        await db.exec("INSERT INTO sippeers (name, type, host, secret) VALUES (?, 'friend', 'dynamic', 'x')", [name]);
      expect(
        await store.writeRegistration(name, {
          ipaddr: '192.0.2.30',
          port: 5070,
          regseconds,
          fullcontact: `sip:${name}@10.0.0.9:5060`,
          useragent: 'Phone/2.0',
        }),
      ).toBe(true);
    }
    const cache = await openCache('memory');
    caches.push(cache);
    const token = (await cache.claimLease('leader', 'this-node', 60_000)) ?? 0;
    expect(token).toBeGreaterThan(0);
    const newer = {
      aor: '1002',
      contact: 'sip:1002@10.0.0.99:5060',
      expiresAt: nowMs + 3_600_000,
      callId: 'c',
      cseq: 7,
      q: 1,
      source: { address: '192.0.2.99', port: 5060, transport: 'udp' as const },
      userAgent: undefined,
      contactParams: '',
    };
    expect(await cache.swapBindings('1002', [], [newer], 3_600_000)).toBe('swapped');
    const { log, lines } = captureLog();
    let counted = 0;
    const refill = new BindingRefill({
      cache,
      store,
      clock: { now: () => new Date(nowMs) },
      log,
      intervalMs: 60_000,
      pageSize: 2,
      fence: () => ({ lease: 'leader', holder: 'this-node', token }),
      refilled: (count) => (counted += count),
    });

    expect(await refill.refillWhenLost()).toBe(4);
    expect(counted).toBe(4);
    for (const name of ['1001', 'r1', 'r2', 'r3'])
      expect((await cache.getBindings(name)).map((b) => b.contact)).toEqual([`sip:${name}@10.0.0.9:5060`]);
    expect((await cache.getBindings('1002')).map((b) => b.contact)).toEqual(['sip:1002@10.0.0.99:5060']);
    expect(await cache.getBindings('1003')).toEqual([]);
    expect(await cache.getSwitch('rows-loaded')).toBe(true);
    const messages = lines.map((line) => String(line.msg));
    expect(messages.filter((message) => message.startsWith('refilling the cache from the sippeers rows: '))).toEqual([
      'refilling the cache from the sippeers rows: 2 registered rows read, 1 bindings put back so far',
      'refilling the cache from the sippeers rows: 4 registered rows read, 3 bindings put back so far',
    ]);
    expect(messages.at(-1)).toMatch(
      /^the cache holds the sippeers rows' registrations: 4 bindings put back of 5 registered rows, in \d+ ms$/,
    );
    // The switch is there: nothing to do.
    expect(await refill.refillWhenLost()).toBe(0);

    // A cache that restarted empty (no switch) is refilled; a node that is not the leader writes nothing.
    const emptied = await openCache('memory');
    caches.push(emptied);
    const standby = new BindingRefill({
      cache: emptied,
      store,
      clock: { now: () => new Date(nowMs) },
      log,
      intervalMs: 60_000,
      pageSize: 2,
      fence: () => undefined,
      refilled: () => undefined,
    });
    expect(await standby.refillWhenLost()).toBe(0);
    expect(await emptied.getBindings('1001')).toEqual([]);
    const emptiedToken = (await emptied.claimLease('leader', 'this-node', 60_000)) ?? 0;
    expect(emptiedToken).toBeGreaterThan(0);
    const leader = new BindingRefill({
      cache: emptied,
      store,
      clock: { now: () => new Date(nowMs) },
      log,
      intervalMs: 60_000,
      pageSize: 500,
      fence: () => ({ lease: 'leader', holder: 'this-node', token: emptiedToken }),
      refilled: () => undefined,
    });
    expect(await leader.refillWhenLost()).toBe(5);
  });
});
