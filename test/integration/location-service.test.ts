import { afterEach, expect, it } from 'vitest';
import { openCache } from '../../src/cache/open-cache.js';
import { locationLookup } from '../../src/registrar/location-service.js';
import { PeerLookup } from '../../src/registrar/peer-service.js';
import { prepareStore } from '../../src/store/knex/open-store.js';
import type { Store } from '../../src/store/store.js';
import type { SipUri } from '../../src/sip/core/uri.js';
import { databaseKinds, type ScratchDatabase } from '../support/databases.js';
import { captureLog } from '../support/log-capture.js';
import { startTcpRelay, type TcpRelay } from '../support/tcp-relay.js';
import { describeUnless, mysqlMissing } from '../support/skip-reason.js';

/**
 * The location service while the peer table cannot be read: a number with
 * no binding is routed by the rules (as Asterisk falls through to its
 * dialplan), so calls to the gateways survive a database outage.
 */
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

describeUnless(mysqlMissing())('the location service with the database lost (MariaDB)', () => {
  let db: ScratchDatabase | undefined;
  let relay: TcpRelay | undefined;
  let store: Store | undefined;

  afterEach(async () => {
    await store?.close();
    await relay?.close();
    await db?.drop();
  });

  it('finds a peer offline while the database answers, and routes the number by the rules once it does not', async () => {
    const mysql = databaseKinds().find((kind) => kind.name === 'mysql');
    if (!mysql) throw new Error('no mysql kind');
    db = await mysql.create('location');
    const target = new URL(db.url);
    relay = await startTcpRelay(target.hostname, Number(target.port || 3306));
    target.host = `127.0.0.1:${relay.port}`;
    store = (await prepareStore(target.toString(), { seedExample: true })).store;
    const cache = await openCache('memory');
    const { log, lines } = captureLog();
    let nowMs = Date.now();
    const clock = { now: () => new Date(nowMs) };
    const locate = locationLookup({
      cache,
      peers: new PeerLookup(store, cache, { rtcachefriends: false, rtautoclearSeconds: 0 }),
      clock,
      ignoreregexpire: false,
      rebuildFromRows: true,
      log,
      relay: undefined,
    });

    expect(await locate(uri('1001'))).toEqual({ kind: 'offline' });
    expect(await locate(uri('5551000'))).toEqual({ kind: 'unknown' });
    await relay.cut();
    expect(await locate(uri('1001'))).toEqual({ kind: 'unknown' });
    expect(lines.map((line) => [line.level, line.msg])).toEqual([
      [
        40,
        expect.stringMatching(
          /^peer 1001 not looked up \(cannot reach the store at mysql:\/\/.*\): routing the call by the rules$/,
        ),
      ],
    ]);
    // The outage goes on: one line per 5 s, with how many calls went by the rules unreported meanwhile.
    expect(await locate(uri('1002'))).toEqual({ kind: 'unknown' });
    expect(await locate(uri('1003'))).toEqual({ kind: 'unknown' });
    expect(lines).toHaveLength(1);
    nowMs += 5000;
    expect(await locate(uri('1004'))).toEqual({ kind: 'unknown' });
    expect(lines.map((line) => line.msg).at(-1)).toMatch(
      /^peer 1004 not looked up \(.*\): routing the call by the rules \(and 2 more since the last report\)$/,
    );
    await cache.close();
  });
});
