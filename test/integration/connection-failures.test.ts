import { afterAll, beforeAll, expect, it } from 'vitest';
import { finalResponse, inviteFrom } from '../support/calling-phone.js';
import { freePort } from '../support/drouter-process.js';
import { moveExampleGateways, startTestServer, type TestServer, testEngine } from '../support/drouter-server.js';
import { statusOf } from '../support/registering-phone.js';
import { ScriptedGateway } from '../support/scripted-gateway.js';
import { describeUnless } from '../support/skip-reason.js';
import { UdpPeer } from '../support/udp-peer.js';

const PROXY = '127.0.0.49';
const CALLER = '127.0.0.78';
const GATEWAY_2 = '127.0.0.79';
/** Long, so that a failover that waited for it would show. */
const TIMEOUT_MS = 5000;

/**
 * A connection that cannot be made is a transport error (RFC 3261
 * §8.1.3.1): the attempt ends at once with a local 503 and the call fails
 * over, instead of waiting proxy.timeoutMs for an answer that cannot come.
 * Proxy on 127.0.0.49, the caller (trusted) on .78, gateway 1 a TCP address
 * nothing listens on, gateway 2 on .79 over UDP.
 */
describeUnless(testEngine === 'native' ? '' : 'native engine only: drachtio-server makes its own connections')(
  'a gateway whose connection cannot be made',
  () => {
    let server: TestServer;
    let gateway2: ScriptedGateway;
    let caller: UdpPeer;

    beforeAll(async () => {
      server = await startTestServer(PROXY, {
        proxy: { timeoutMs: TIMEOUT_MS },
        auth: { trustedSources: [`${CALLER}/32`] },
      });
      await moveExampleGateways(server, `127.0.0.77:${await freePort()};transport=tcp`, GATEWAY_2);
      gateway2 = await ScriptedGateway.start(GATEWAY_2);
      caller = await UdpPeer.bind(CALLER);
    });
    afterAll(async () => {
      caller?.close();
      gateway2?.close();
      await server?.close();
    });

    it('fails over to the next gateway at once when the TCP connection is refused', async () => {
      const started = Date.now();
      const call = inviteFrom(caller, `${PROXY}:${server.sip.port}`, '01144201230700');
      caller.send(call.invite, server.sip);
      expect(statusOf(await finalResponse(caller, call, TIMEOUT_MS + 2000))).toBe(200);
      expect(Date.now() - started).toBeLessThan(TIMEOUT_MS / 2);
      expect(gateway2.requests('INVITE').map((invite) => invite.headers['call-id'])).toContain(call.callId);
    });
  },
);
