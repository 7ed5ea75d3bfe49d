import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Cache } from '../../src/cache/cache.js';
import { openCache } from '../../src/cache/open-cache.js';
import { locationLookup } from '../../src/registrar/location-service.js';
import { PeerLookup } from '../../src/registrar/peer-service.js';
import { prepareStore } from '../../src/store/knex/open-store.js';
import type { Store } from '../../src/store/store.js';
import type { SipUri } from '../../src/sip/uri.js';
import { captureLog } from '../support/log-capture.js';

function uri(user: string): SipUri {
  return { scheme: 'sip', user, password: undefined, host: '127.0.0.1', port: undefined, params: [], headers: undefined };
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
    const written = await store.writeRegistration('1001', { ipaddr: '192.0.2.10', port: 5062, regseconds: Math.floor(nowMs / 1000) + regsecondsFromNow, fullcontact: 'sip:1001@10.0.0.5:5060;ob', useragent: 'Phone/1.0' });
    expect(written).toBe(true);
    return { store, cache, nowMs };
  }

  it('reaches the phone at its row\'s contact and puts the binding back, once', async () => {
    const { store, cache, nowMs } = await registeredRow(600);
    const { log, lines } = captureLog();
    const locate = locationLookup({ cache, peers: new PeerLookup(store, cache, { rtcachefriends: false, rtautoclearSeconds: 0 }), clock: { now: () => new Date(nowMs) }, ignoreregexpire: false, rebuildFromRows: true, log });
    const expected = { kind: 'registered', targets: [{ uri: 'sip:1001@10.0.0.5:5060;ob', destination: { address: '192.0.2.10', port: 5062, transport: 'udp' }, label: 'peer 1001' }] };
    expect(await locate(uri('1001'))).toEqual(expected);
    const [restored] = await cache.getBindings('1001');
    expect(restored).toMatchObject({ aor: '1001', contact: 'sip:1001@10.0.0.5:5060;ob', source: { address: '192.0.2.10', port: 5062 }, userAgent: 'Phone/1.0' });
    expect(Math.round((restored?.expiresAt ?? 0) / 1000)).toBe(Math.floor(nowMs / 1000) + 600);
    expect(lines.map((line) => line.msg)).toEqual([expect.stringMatching(/^binding of 1001 rebuilt from its sippeers row \(the cache had none\): sip:1001@10\.0\.0\.5:5060;ob until /)]);
    // From now on the cache answers: no second rebuild.
    expect(await locate(uri('1001'))).toEqual(expected);
    expect(lines).toHaveLength(1);
  });

  it('leaves a phone whose row has expired offline, and rebuilds nothing with rtupdate off (the rows are not the registrations then)', async () => {
    const { store, cache, nowMs } = await registeredRow(-5);
    const { log } = captureLog();
    const peers = new PeerLookup(store, cache, { rtcachefriends: false, rtautoclearSeconds: 0 });
    const clock = { now: () => new Date(nowMs) };
    expect(await locationLookup({ cache, peers, clock, ignoreregexpire: false, rebuildFromRows: true, log })(uri('1001'))).toEqual({ kind: 'offline' });
    await store.writeRegistration('1001', { regseconds: Math.floor(nowMs / 1000) + 600 });
    expect(await locationLookup({ cache, peers, clock, ignoreregexpire: false, rebuildFromRows: false, log })(uri('1001'))).toEqual({ kind: 'offline' });
    expect(await cache.getBindings('1001')).toEqual([]);
  });
});
