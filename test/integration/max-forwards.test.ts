import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Call, finalResponse, inviteFrom } from '../support/calling-phone.js';
import { moveExampleGateways, startTestServer, type TestServer, testEngine } from '../support/drouter-server.js';
import { statusOf } from '../support/registering-phone.js';
import { ScriptedGateway } from '../support/scripted-gateway.js';
import { UdpPeer } from '../support/udp-peer.js';

/**
 * Max-Forwards on the way through (RFC 3261 §16.6 step 3): a value written
 * with leading zeros (RFC 4475 §3.1.1.1's `0068`) is 1*DIGIT like any other,
 * and the gateway gets it one less, written plainly. The proxy on
 * 127.0.0.231, the phone on .232, the example gateways 1 and 2 moved to .233
 * and .234.
 */
const PROXY = '127.0.0.231';
const PHONE = '127.0.0.232';
const GATEWAY_1 = '127.0.0.233';
const GATEWAY_2 = '127.0.0.234';

describe(`Max-Forwards through the proxy (${testEngine} engine, real UDP on loopback)`, () => {
  let server: TestServer;
  let phone: UdpPeer;
  let gateway1: ScriptedGateway;
  let gateway2: ScriptedGateway;

  beforeAll(async () => {
    server = await startTestServer(PROXY, { proxy: { timeoutMs: 800, inviteTimeoutMs: 1500 } });
    phone = await UdpPeer.bind(PHONE);
    gateway1 = await ScriptedGateway.start(GATEWAY_1);
    gateway2 = await ScriptedGateway.start(GATEWAY_2);
    await moveExampleGateways(server, GATEWAY_1, GATEWAY_2);
  });
  afterAll(async () => {
    phone?.close();
    gateway1?.close();
    gateway2?.close();
    await server?.close();
  });
  beforeEach(() => {
    gateway1.received.length = 0;
    gateway2.received.length = 0;
  });

  /** A call to gateway 1's prefix whose INVITE carries `Max-Forwards: value`. */
  function callWith(value: string): Call {
    const call = inviteFrom(phone, `${server.sip.address}:${server.sip.port}`, '01144201234567');
    const invite = call.invite.replace('\r\nMax-Forwards: 70\r\n', `\r\nMax-Forwards: ${value}\r\n`);
    expect(invite).toContain(`\r\nMax-Forwards: ${value}\r\n`);
    return { ...call, invite };
  }

  it.each([
    ['0068', '67'],
    ['00000000000000000000070', '69'],
  ])('an INVITE with Max-Forwards %s is forwarded with %s', async (value, forwarded) => {
    const call = callWith(value);
    phone.send(call.invite, server.sip);
    expect(statusOf(await finalResponse(phone, call))).toBe(200);
    const [request] = gateway1.requests('INVITE');
    expect(request?.headers['call-id']).toBe(call.callId);
    expect(request?.headers['max-forwards']).toBe(forwarded);
  });

  it('an INVITE with Max-Forwards 99999999999999999999 is refused (400) and goes nowhere', async () => {
    const call = callWith('99999999999999999999');
    phone.send(call.invite, server.sip);
    const response = await finalResponse(phone, call);
    expect(statusOf(response)).toBe(400);
    // drachtio-server's parser refuses it before us, with its own reason phrase.
    expect(response).toMatch(
      testEngine === 'drachtio' ? /^SIP\/2\.0 400 Bad Request\r\n/ : /^SIP\/2\.0 400 Bad Max-Forwards\r\n/,
    );
    expect(gateway1.requests('INVITE')).toHaveLength(0);
    expect(gateway2.requests('INVITE')).toHaveLength(0);
  });
});
