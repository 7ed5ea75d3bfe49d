import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cacheKeys } from '../../src/cache/keys.js';
import { ackOf, finalResponse, inviteFrom, withProxyAuthorization } from '../support/calling-phone.js';
import { freePort } from '../support/drouter-process.js';
import { moveExampleGateways, startTestServer, type TestServer, testEngine } from '../support/drouter-server.js';
import { captureLog, type CapturedLog } from '../support/log-capture.js';
import { challengesOf, digestAuthorization, RegisteringPhone, statusOf } from '../support/registering-phone.js';
import { deleteKeys } from '../support/redis-keys.js';
import { ScriptedGateway } from '../support/scripted-gateway.js';
import { PrivateRedis } from '../support/private-redis.js';
import { escapeRegExp } from '../support/regexp.js';
import { optionsStatus, UdpPeer } from '../support/udp-peer.js';
import { waitFor } from '../support/wait-for.js';
import { describeUnless, redisMissing } from '../support/skip-reason.js';

const REDIS_TEST_URL = process.env.DROUTER_TEST_REDIS_URL;

/**
 * Redis stopped under calls (docs/security.md "Under attack", cache outage): calls to
 * gateways go on, a registered phone is reached at its sippeers row's
 * contact, a caller still authenticates (nonce counts in the process
 * meanwhile), REGISTERs get 503 with Retry-After, the outage is logged once
 * per interval, and all comes back with Redis. Proxy on 127.0.0.170, an SBC
 * (trusted) on .171, a phone on .172, gateways on .173/.174.
 */
describe(`a cache outage (${testEngine} engine)`, () => {
  let redis: PrivateRedis;
  let server: TestServer;
  let captured: CapturedLog;
  let sbc: UdpPeer;
  let phonePeer: UdpPeer;
  let gateway1: ScriptedGateway;
  let gateway2: ScriptedGateway;

  beforeAll(async () => {
    redis = new PrivateRedis(await freePort());
    await redis.start();
    captured = captureLog();
    server = await startTestServer(
      '127.0.0.170',
      { cache: { url: redis.url }, auth: { trustedSources: ['127.0.0.171/32'] } },
      captured.log,
    );
    await moveExampleGateways(server, '127.0.0.173', '127.0.0.174');
    gateway1 = await ScriptedGateway.start('127.0.0.173');
    gateway2 = await ScriptedGateway.start('127.0.0.174');
    sbc = await UdpPeer.bind('127.0.0.171');
    phonePeer = await UdpPeer.bind('127.0.0.172');
  }, 30_000);
  afterAll(async () => {
    sbc?.close();
    phonePeer?.close();
    gateway1?.close();
    gateway2?.close();
    await server?.close();
    await redis?.stop();
  });

  const proxy = () => `${server.sip.address}:${server.sip.port}`;

  async function sbcCall(number: string): Promise<number | undefined> {
    const call = inviteFrom(sbc, proxy(), number);
    sbc.send(call.invite, server.sip);
    return statusOf(await finalResponse(sbc, call));
  }

  it('keeps calls going while Redis is down, answers REGISTER 503 with Retry-After, and recovers', async () => {
    const phone = new RegisteringPhone(phonePeer, server.sip);
    expect(statusOf(await phone.register('1001', 'secret1001'))).toBe(200);
    const before = await Promise.all(
      Array.from({ length: 5 }, (_, i) => sbcCall(`011442012303${String(i).padStart(2, '0')}`)),
    );
    expect(before).toEqual(Array<number>(5).fill(200));

    await redis.stop();
    const during: (number | undefined)[] = [];
    for (let round = 0; round < 4; round++)
      during.push(...(await Promise.all(Array.from({ length: 5 }, (_, i) => sbcCall(`011442012304${round}${i}`)))));
    expect(during).toEqual(Array<number>(20).fill(200));

    // A stranger's call still authenticates: its nonce count is kept in the process meanwhile.
    const call = inviteFrom(phonePeer, proxy(), '01144201230599');
    phonePeer.send(call.invite, server.sip);
    const challengeResponse = await finalResponse(phonePeer, call);
    phonePeer.send(ackOf(call.invite, challengeResponse), server.sip);
    const [challenge] = challengesOf(challengeResponse);
    expect(challenge).toBeDefined();
    if (!challenge) return;
    phonePeer.send(
      withProxyAuthorization(
        call,
        digestAuthorization(
          'Proxy-Authorization',
          'INVITE',
          '1001',
          'secret1001',
          challenge,
          `sip:01144201230599@${proxy()}`,
        ),
      ),
      server.sip,
    );
    expect(
      statusOf(
        await phonePeer.receive(
          new RegExp(
            `^SIP/2\\.0 [2-6]\\d\\d [\\s\\S]*Call-ID: ${call.callId.replaceAll('.', '\\.')}\\r\\nCSeq: 2 INVITE`,
          ),
          4000,
        ),
      ),
    ).toBe(200);

    // The registered phone is reached at the contact its row holds.
    const toPhone = inviteFrom(sbc, proxy(), '1001');
    sbc.send(toPhone.invite, server.sip);
    expect(
      await phonePeer.receive(new RegExp(`^INVITE sip:1001@127\\.0\\.0\\.172:${phonePeer.address.port}`), 4000),
    ).toBeDefined();

    const register = await phone.register('1001', 'secret1001');
    expect(statusOf(register)).toBe(503);
    expect(register).toMatch(/^Retry-After: 5\r$/m);
    const outageLines = captured.lines.filter(
      (line) => Number(line.level) >= 40 && /did not answer/.test(String(line.msg)),
    );
    expect(outageLines.length).toBeGreaterThanOrEqual(1);
    expect(outageLines.length).toBeLessThanOrEqual(4);
    expect(
      captured.lines.filter((line) => Number(line.level) >= 50 && /did not answer/.test(String(line.msg))),
    ).toEqual([]);

    await redis.start();
    await waitFor('a REGISTER answered 200 once Redis is back', 15_000, async () =>
      statusOf(await phone.register('1001', 'secret1001')) === 200 ? true : undefined,
    );
    expect(await sbcCall('01144201230600')).toBe(200);
  }, 60_000);

  it("reaches a registered phone after Redis restarted empty, at its sippeers row's contact, and puts the binding back", async () => {
    // The test above left 1001 registered: its last REGISTER answered 200 and rtupdate wrote the row.
    await redis.stop();
    await redis.start();
    const direct = new Redis(redis.port, '127.0.0.1');
    try {
      expect(await direct.get('sipdr:bindings:1001')).toBeNull();
      // Until the proxy's connection is back a call goes to the row's contact without putting anything back: call until the binding is there.
      const bound = await waitFor('the binding of 1001 back in Redis', 15_000, async () => {
        const toPhone = inviteFrom(sbc, proxy(), '1001');
        sbc.send(toPhone.invite, server.sip);
        const invite = await phonePeer.receive(
          new RegExp(
            `^INVITE sip:1001@127\\.0\\.0\\.172:${phonePeer.address.port}[\\s\\S]*Call-ID: ${escapeRegExp(toPhone.callId)}`,
          ),
          4000,
        );
        if (!invite) throw new Error(`the INVITE of ${toPhone.callId} did not reach the phone`);
        return (await direct.get('sipdr:bindings:1001')) ?? undefined;
      });
      expect(JSON.parse(bound)).toMatchObject([
        {
          aor: '1001',
          contact: expect.stringContaining('@127.0.0.172:') as unknown,
          source: { address: '127.0.0.172', port: phonePeer.address.port },
        },
      ]);
      // Put back by the call's lookup, or by the leader's refill if its look (every 10 s) came first.
      expect(
        captured.lines.some((line) =>
          /^binding of 1001 rebuilt from its sippeers row|^the cache holds the sippeers rows' registrations: [1-9]/.test(
            String(line.msg),
          ),
        ),
      ).toBe(true);
    } finally {
      direct.disconnect();
    }
  }, 60_000);
});

/**
 * A ban made on one node reaches the other through Redis (docs/security.md "Under
 * attack"), and a lift on either lifts it on both: two servers in this
 * process share the test Redis under a key prefix of their own. Nodes on
 * 127.0.0.175 and .176, the guesser on .177.
 */
describeUnless(
  redisMissing() ||
    (testEngine === 'native'
      ? ''
      : "native engine only: two servers in one process would share the run's one drachtio-server"),
)('bans shared by the nodes of a pair (native engine, DROUTER_TEST_REDIS_URL)', () => {
  const keyPrefix = `sipdr-test-bans-${process.pid}:`;
  let nodeA: TestServer;
  let nodeB: TestServer;
  let guesser: UdpPeer;

  beforeAll(async () => {
    const shared = {
      cache: { url: REDIS_TEST_URL, keyPrefix },
      auth: { trustedSources: [] },
      limits: { ban: { failures: 3 } },
    };
    nodeA = await startTestServer('127.0.0.175', shared);
    nodeB = await startTestServer('127.0.0.176', shared);
    guesser = await UdpPeer.bind('127.0.0.177');
  });
  afterAll(async () => {
    guesser?.close();
    await nodeA?.close();
    await nodeB?.close();
    if (REDIS_TEST_URL) await deleteKeys(REDIS_TEST_URL, cacheKeys(keyPrefix).all);
  });

  it('drops the banned source on the other node within a couple of seconds, and lets it in on both after a lift', async () => {
    expect(await optionsStatus(guesser, nodeB.sip, `sip:${nodeB.sip.address}`)).toBe(200);
    const attacker = new RegisteringPhone(guesser, nodeA.sip);
    for (let i = 0; i < 3; i++) {
      const [challenge] = challengesOf(await attacker.send(attacker.request('1001')));
      if (!challenge) throw new Error('no challenge from node A');
      expect(
        statusOf(await attacker.send(attacker.request('1001', [attacker.authorization('1001', 'guess', challenge)]))),
      ).toBe(401);
    }
    expect(await attacker.send(attacker.request('1001'))).toBeUndefined();
    await waitFor('node B to drop the source banned on node A', 3000, async () =>
      (await optionsStatus(guesser, nodeB.sip, `sip:${nodeB.sip.address}`, 300)) === undefined ? true : undefined,
    );

    const lift = await fetch(`${nodeB.server.adminUrl}/bans/127.0.0.177/lift`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
    });
    expect(lift.status).toBe(200);
    await waitFor('node A to answer the source again after the lift on node B', 3000, async () =>
      (await optionsStatus(guesser, nodeA.sip, `sip:${nodeA.sip.address}`, 300)) === 200 ? true : undefined,
    );
  }, 30_000);
});
