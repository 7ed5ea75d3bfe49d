import Database from 'better-sqlite3';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  DRACHTIO_PICKS_OF_503_AND_500,
  moveExampleGateways,
  startTestServer,
  type TestServer,
  testEngine,
} from '../support/drouter-server.js';
import { type Call, cancelOf, finalResponse, inviteFrom, provisionalResponse } from '../support/calling-phone.js';
import { statusOf } from '../support/registering-phone.js';
import { ScriptedGateway } from '../support/scripted-gateway.js';
import { TcpPeer } from '../support/tcp-peer.js';
import { sipRequest, UdpPeer } from '../support/udp-peer.js';
import { header, withTokenShown } from '../support/message-text.js';

/**
 * Calls through the proxy on the example data: gateways 1 and 2 of list #1
 * are real UDP peers on 127.0.0.13:5060 and 127.0.0.14:5060 (moved from the
 * seeded 127.0.0.2 and .3, which an `npm start` beside the tests probes), the
 * phone another on 127.0.0.31, the proxy on 127.0.0.30.
 */
const PROXY = '127.0.0.30';
const PHONE = '127.0.0.31';
const GATEWAY_1 = '127.0.0.13';
const GATEWAY_2 = '127.0.0.14';

/**
 * A call addressed to the proxy itself, port included: drachtio-server puts the gateway's Request-URI in
 * only when the caller's Request-URI names one of its own contacts (sip-proxy-controller.cpp, isLocalSipUri).
 */
const invite = (phone: UdpPeer, server: TestServer, number: string): Call =>
  inviteFrom(phone, `${server.sip.address}:${server.sip.port}`, number);

/**
 * Our Record-Route entries, as the phone sees them: the native engine writes one per transport side
 * (RFC 5658), each with the dialog token (shown as TOKEN: see withTokenShown); drachtio-server writes
 * one, its contact on the gateway's side (transport=udp left out), and no token.
 */
function recordRoutes(server: TestServer, outbound: string, inbound: string): string[] {
  const { address, port } = server.sip;
  if (testEngine === 'drachtio')
    return [`<sip:${address}:${port}${outbound === 'udp' ? '' : `;transport=${outbound}`};lr>`];
  const entry = (transport: string) => `<sip:${address}:${port};transport=${transport};drt=TOKEN;lr>`;
  return outbound === inbound ? [entry(outbound)] : [entry(outbound), entry(inbound)];
}

/** drachtio-server holds the SIP side: where it differs (docs/engines.md, "Where it differs""), the tests assert its behaviour. */
const onDrachtio = testEngine === 'drachtio';

interface Rig {
  server: TestServer;
  phone: UdpPeer;
  gateway1: ScriptedGateway;
  gateway2: ScriptedGateway;
}

/** The proxy on `proxyAddress` with the example data, a phone, and gateways 1 and 2 of list #1. */
async function startRig(proxyAddress: string): Promise<Rig> {
  const server = await startTestServer(proxyAddress, { proxy: { timeoutMs: 800, inviteTimeoutMs: 1500 } });
  await moveExampleGateways(server, GATEWAY_1, GATEWAY_2);
  return {
    server,
    phone: await UdpPeer.bind(PHONE),
    gateway1: await ScriptedGateway.start(GATEWAY_1),
    gateway2: await ScriptedGateway.start(GATEWAY_2),
  };
}

async function stopRig(rig: Rig | undefined): Promise<void> {
  rig?.phone.close();
  rig?.gateway1.close();
  rig?.gateway2.close();
  await rig?.server.close();
}

describe(`calls through the proxy (${testEngine} engine, real UDP on loopback)`, () => {
  let server: TestServer;
  let phone: UdpPeer;
  let gateway1: ScriptedGateway;
  let gateway2: ScriptedGateway;
  let rig: Rig | undefined;

  beforeAll(async () => {
    rig = await startRig(PROXY);
    ({ server, phone, gateway1, gateway2 } = rig);
  });
  afterAll(() => stopRig(rig));
  beforeEach(() => {
    gateway1.received.length = 0;
    gateway2.received.length = 0;
    gateway1.script = 'answer';
    gateway2.script = 'answer';
  });

  const finalFor = (call: Call) => finalResponse(phone, call);

  it('sets up and tears down a call to gateway 1: 100, 180, 200, ACK, re-INVITE and BYE through Record-Route', async () => {
    const call = invite(phone, server, '01144201234567');
    phone.send(call.invite, server.sip);
    expect(statusOf(await provisionalResponse(phone, call, 100))).toBe(100);
    expect(statusOf(await provisionalResponse(phone, call, 180))).toBe(180);
    const ok = await finalFor(call);
    expect(statusOf(ok)).toBe(200);
    const recordRoute = header(ok, 'Record-Route');
    expect(withTokenShown(recordRoute)).toEqual(recordRoutes(server, 'udp', 'udp'));
    expect(header(ok, 'Via')).toHaveLength(1);

    const [forwarded] = gateway1.requests('INVITE');
    expect(forwarded?.uri).toBe(`sip:01144201234567@${GATEWAY_1}:5060`);
    expect(forwarded?.headers['max-forwards']).toBe('69');
    expect(forwarded?.headers.via).toHaveLength(2);
    expect(gateway2.requests('INVITE')).toHaveLength(0);

    const toTag = /tag=([^;>\s]+)/.exec(header(ok, 'To')[0] ?? '')?.[1];
    const dialog = (method: string, cseq: number, branch: string) =>
      sipRequest([
        `${method} sip:asterisk@${GATEWAY_1}:5060 SIP/2.0`,
        `Via: SIP/2.0/UDP ${phone.address.address}:${phone.address.port};branch=${branch}`,
        'Max-Forwards: 70',
        `Route: ${recordRoute[0]}`,
        `From: "Phone 1001" <sip:1001@127.0.0.1>;tag=${call.fromTag}`,
        `To: <sip:01144201234567@${server.sip.address}:${server.sip.port}>;tag=${toTag}`,
        `Call-ID: ${call.callId}`,
        `CSeq: ${cseq} ${method}`,
      ]);
    phone.send(dialog('ACK', 1, 'z9hG4bK-ack-1'), server.sip);
    // A re-INVITE inside the dialog follows the route set too, and is not Record-Routed again.
    phone.send(dialog('INVITE', 2, 'z9hG4bK-reinvite-1'), server.sip);
    const reinviteOk = await phone.receive(new RegExp(`^SIP/2\\.0 200 [\\s\\S]*CSeq: 2 INVITE`, 'i'));
    expect(statusOf(reinviteOk)).toBe(200);
    const reinvite = gateway1.requests('INVITE')[1];
    expect(reinvite?.headers['record-route']).toBeUndefined();
    expect(reinvite?.headers.route ?? []).toEqual([]);
    phone.send(dialog('ACK', 2, 'z9hG4bK-ack-2'), server.sip);
    phone.send(dialog('BYE', 3, 'z9hG4bK-bye-1'), server.sip);
    const byeOk = await phone.receive(new RegExp(`^SIP/2\\.0 200 [\\s\\S]*CSeq: 3 BYE`, 'i'));
    expect(statusOf(byeOk)).toBe(200);
    const deadline = Date.now() + 1000;
    while (gateway1.requests('ACK').length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(gateway1.requests('ACK')).toHaveLength(2);
    expect(gateway1.requests('ACK')[0]?.headers.route ?? []).toEqual([]);
    expect(gateway1.requests('BYE')).toHaveLength(1);
  });

  it('takes its own Route off an initial INVITE before the gateway sees it (a phone with us as outbound proxy, RFC 3261 §16.4)', async () => {
    const call = invite(phone, server, '01144201234599');
    const withOurRoute = call.invite.replace(
      '\r\nMax-Forwards: 70',
      `\r\nRoute: <sip:${server.sip.address}:${server.sip.port};lr>\r\nMax-Forwards: 70`,
    );
    expect(withOurRoute).toContain('Route: <sip:');
    phone.send(withOurRoute, server.sip);
    expect(statusOf(await finalFor(call))).toBe(200);
    const [forwarded] = gateway1.requests('INVITE');
    expect(forwarded?.uri).toBe(`sip:01144201234599@${GATEWAY_1}:5060`);
    expect(forwarded?.headers.route ?? []).toEqual([]);
  });

  it.each([
    ['503', 'unavailable' as const],
    ['500', 'error' as const],
  ])('fails over to gateway 2 on %s from gateway 1', async (_what, script) => {
    gateway1.script = script;
    const call = invite(phone, server, '01144209999999');
    phone.send(call.invite, server.sip);
    expect(statusOf(await finalFor(call))).toBe(200);
    expect(gateway1.requests('INVITE')).toHaveLength(1);
    expect(gateway1.requests('ACK')).toHaveLength(1);
    expect(gateway2.requests('INVITE')).toHaveLength(1);
  });

  it('tries a gateway listed twice twice (routing.repeatGateways as-listed, as OpenSIPS): 503, 503 again, then gateway 2', async () => {
    const db = new Database(server.storeFile);
    db.exec("INSERT INTO dr_rules (groupid, prefix, gwlist) VALUES ('0', '0045', '1,1,2')");
    db.close();
    expect((await server.server.reload()).ok).toBe(true);
    gateway1.script = 'unavailable';
    const call = invite(phone, server, '00451234');
    phone.send(call.invite, server.sip);
    expect(statusOf(await finalFor(call))).toBe(200);
    const tries = gateway1.requests('INVITE');
    expect(tries).toHaveLength(2);
    // Two attempts, two transactions: each its own branch, each 503 acknowledged.
    expect(new Set(tries.map((request) => request.headers.via?.[0]?.params?.branch)).size).toBe(2);
    expect(gateway1.requests('ACK')).toHaveLength(2);
    expect(gateway2.requests('INVITE')).toHaveLength(1);
  });

  // docs/engines.md "Where it differs" 1: drachtio-server moves to the next destination on any final above 200
  // (ProxyCore::processResponse), so tryNext cannot keep a 486 from failing over.
  it('on 486 from gateway 1 goes back to the caller (drachtio-server fails over to gateway 2)', async () => {
    gateway1.script = 'busy';
    const call = invite(phone, server, '01144208888888');
    phone.send(call.invite, server.sip);
    const final = statusOf(await finalFor(call));
    expect(gateway1.requests('INVITE')).toHaveLength(1);
    if (onDrachtio) {
      expect(final).toBe(200);
      expect(gateway2.requests('INVITE')).toHaveLength(1);
    } else {
      expect(final).toBe(486);
      expect(gateway2.requests('INVITE')).toHaveLength(0);
    }
  });

  // docs/engines.md "Where it differs" 2: drachtio-server sends its own pick of the gateways' finals upstream (forwardBestResponse), not our 503.
  it('answers 503 when every gateway fails (drachtio-server: its pick of their finals)', async () => {
    gateway1.script = 'unavailable';
    gateway2.script = 'error';
    const call = invite(phone, server, '01144207777777');
    phone.send(call.invite, server.sip);
    const final = statusOf(await finalFor(call));
    if (onDrachtio) expect(DRACHTIO_PICKS_OF_503_AND_500).toContain(final);
    else expect(final).toBe(503);
    expect(gateway1.requests('INVITE')).toHaveLength(1);
    expect(gateway2.requests('INVITE')).toHaveLength(1);
  });

  it('passes a CANCEL before the answer to the ringing gateway and answers 487', async () => {
    gateway1.script = 'ring';
    const call = invite(phone, server, '01144206666666');
    phone.send(call.invite, server.sip);
    expect(statusOf(await provisionalResponse(phone, call, 180))).toBe(180);
    phone.send(cancelOf(call), server.sip);
    expect(statusOf(await phone.receive(new RegExp(`^SIP/2\\.0 200 [\\s\\S]*CSeq: 1 CANCEL`)))).toBe(200);
    expect(statusOf(await finalFor(call))).toBe(487);
    const deadline = Date.now() + 1000;
    while (gateway1.requests('CANCEL').length === 0 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    expect(gateway1.requests('CANCEL')).toHaveLength(1);
    expect(gateway2.requests('INVITE')).toHaveLength(0);
  });

  it('answers 404 when the caller has no group (no rule applies)', async () => {
    const call = invite(phone, server, '01144205555555');
    const stranger = call.invite.replace(
      /From: "Phone 1001" <sip:1001@127\.0\.0\.1>/,
      'From: <sip:stranger@127.0.0.1>',
    );
    phone.send(stranger, server.sip);
    const response = await finalFor(call);
    expect(statusOf(response)).toBe(404);
    expect(gateway1.requests('INVITE')).toHaveLength(0);
  });

  // docs/engines.md "Where it differs" 7: drachtio-server sends its CANCEL once, statelessly (ClientTransaction::cancelRequest,
  // nta_msg_tsend), and answers the caller's INVITE 487 itself.
  it('retransmits its CANCEL to a gateway until it answers (UDP; drachtio-server sends it once)', async () => {
    gateway1.script = 'ring-drop-first-cancel';
    const call = invite(phone, server, '01144206666667');
    phone.send(call.invite, server.sip);
    expect(statusOf(await provisionalResponse(phone, call, 180))).toBe(180);
    phone.send(cancelOf(call), server.sip);
    expect(statusOf(await finalFor(call))).toBe(487);
    const cancels = onDrachtio ? 1 : 2;
    const deadline = Date.now() + 2000;
    while (gateway1.requests('CANCEL').length < cancels && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    await new Promise((resolve) => setTimeout(resolve, 1200));
    expect(gateway1.requests('CANCEL')).toHaveLength(cancels);
  });

  it('stops failover when the caller cancels while the first gateway is silent', async () => {
    gateway1.script = 'silent';
    const call = invite(phone, server, '01144204444444');
    phone.send(call.invite, server.sip);
    expect(statusOf(await provisionalResponse(phone, call, 100))).toBe(100);
    // While gateway 1 is tried (drachtio-server sends 100 Trying before the app has routed the call, and
    // proxies a request whose CANCEL came in meanwhile all the same: docs/engines.md, "The drachtio engine"").
    await new Promise((resolve) => setTimeout(resolve, 100));
    phone.send(cancelOf(call), server.sip);
    expect(statusOf(await finalFor(call))).toBe(487);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(gateway2.requests('INVITE')).toHaveLength(0);
  });

  it('relays a 200 the gateway retransmits, and the call still works', async () => {
    const call = invite(phone, server, '01144203333333');
    phone.send(call.invite, server.sip);
    const first = await finalFor(call);
    expect(statusOf(first)).toBe(200);
    const forwarded = gateway1.requests('INVITE')[0];
    if (!forwarded) throw new Error('no INVITE reached gateway 1');
    gateway1.resend(forwarded, 200, server.sip);
    expect(statusOf(await finalFor(call))).toBe(200);
  });

  it('carries a TCP phone to a UDP gateway, with a Record-Route for each side', async () => {
    const tcpPhone = await TcpPeer.connect(PHONE, server.sip);
    try {
      const call = invite(phone, server, '01144202222222');
      const text = call.invite.replace(/Via: SIP\/2\.0\/UDP [^;]+/, `Via: SIP/2.0/TCP ${PHONE}:${tcpPhone.localPort}`);
      tcpPhone.send(text);
      const ok = await tcpPhone.receive(/^SIP\/2\.0 200 /m);
      expect(statusOf(ok)).toBe(200);
      const entries = header(ok, 'Record-Route').flatMap((value) => value.split(/,\s*/));
      expect(withTokenShown(entries)).toEqual(recordRoutes(server, 'udp', 'tcp'));
      expect(gateway1.requests('INVITE')[0]?.headers.via?.[0]?.protocol).toBe('UDP');
    } finally {
      tcpPhone.close();
    }
  });
});

describe('a gateway that does not answer', () => {
  let rig: Rig | undefined;

  beforeAll(async () => {
    rig = await startRig('127.0.0.33');
  });
  afterAll(() => stopRig(rig));

  it('times out, fails over to gateway 2, and is marked down so the next call skips it', async () => {
    if (!rig) throw new Error('no rig');
    const { server, phone, gateway1, gateway2 } = rig;
    gateway1.script = 'silent';
    const first = invite(phone, server, '01144201111111');
    phone.send(first.invite, server.sip);
    expect(statusOf(await finalResponse(phone, first))).toBe(200);
    expect(gateway1.requests('INVITE').length).toBeGreaterThanOrEqual(1);
    expect(gateway2.requests('INVITE')).toHaveLength(1);

    const tried = gateway1.requests('INVITE').length;
    const second = invite(phone, server, '01144201111112');
    phone.send(second.invite, server.sip);
    expect(statusOf(await finalResponse(phone, second))).toBe(200);
    expect(gateway1.requests('INVITE')).toHaveLength(tried);
    expect(gateway2.requests('INVITE')).toHaveLength(2);
  });
});

describe('the sip package traps, handled', () => {
  it("keeps no state for ACKs (the package's proxy kept a context per ACK): stray ACKs leave nothing behind", async () => {
    const rig = await startRig('127.0.0.44');
    try {
      const call = invite(rig.phone, rig.server, '01144200000002');
      rig.phone.send(call.invite, rig.server.sip);
      expect(statusOf(await finalResponse(rig.phone, call))).toBe(200);
      const engine = rig.server.server.engine;
      // drachtio-server relays the 200 before it tells us the proxy is done.
      const settled = Date.now() + 500;
      while (engine.stats().invitesInProgress > 0 && Date.now() < settled)
        await new Promise((resolve) => setTimeout(resolve, 10));
      expect(engine.stats().invitesInProgress).toBe(0);
      const before = engine.stats().clientTransactions;
      for (let i = 0; i < 200; i++) {
        const ack = call.invite
          .replace(/^INVITE (\S+) SIP\/2\.0/, 'ACK $1 SIP/2.0')
          .replace(/branch=[^;\r]+/, `branch=z9hG4bK-stray-${i}`)
          .replace('CSeq: 1 INVITE', 'CSeq: 1 ACK');
        rig.phone.send(ack, rig.server.sip);
      }
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(engine.stats()).toEqual({ clientTransactions: before, invitesInProgress: 0 });
      expect(rig.gateway1.requests('ACK').length).toBeLessThanOrEqual(1);
    } finally {
      await stopRig(rig);
    }
  });

  // docs/engines.md "Where it differs" 6: drachtio-server forwards in-dialog requests itself (statelessly): our engine holds no transaction for the BYE.
  it("forgets a BYE's client transaction after timer K (5 s over UDP), an INVITE's only after 32 s (drachtio-server: none of ours)", async () => {
    // A server of its own: other tests' transactions would expire meanwhile and move the count.
    const rig = await startRig('127.0.0.39');
    try {
      const engine = rig.server.server.engine;
      const call = invite(rig.phone, rig.server, '01144201230000');
      rig.phone.send(call.invite, rig.server.sip);
      const ok = await finalResponse(rig.phone, call);
      expect(statusOf(ok)).toBe(200);
      const before = engine.stats().clientTransactions;
      const toTag = /tag=([^;>\s]+)/.exec(header(ok, 'To')[0] ?? '')?.[1];
      rig.phone.send(
        sipRequest([
          `BYE sip:asterisk@${GATEWAY_1}:5060 SIP/2.0`,
          `Via: SIP/2.0/UDP ${rig.phone.address.address}:${rig.phone.address.port};branch=z9hG4bK-bye-k`,
          'Max-Forwards: 70',
          `Route: ${header(ok, 'Record-Route')[0]}`,
          `From: "Phone 1001" <sip:1001@127.0.0.1>;tag=${call.fromTag}`,
          `To: <sip:01144201230000@127.0.0.39>;tag=${toTag}`,
          `Call-ID: ${call.callId}`,
          'CSeq: 2 BYE',
        ]),
        rig.server.sip,
      );
      expect(statusOf(await rig.phone.receive(/^SIP\/2\.0 200 [\s\S]*CSeq: 2 BYE/i))).toBe(200);
      expect(rig.gateway1.requests('BYE')).toHaveLength(1);
      expect(engine.stats().clientTransactions).toBe(onDrachtio ? before : before + 1);
      await new Promise((resolve) => setTimeout(resolve, 5300));
      expect(engine.stats().clientTransactions).toBe(before);
    } finally {
      await stopRig(rig);
    }
  }, 10_000);

  it("reaches a gateway on the proxy's own address at another port (sip.create() would take it for its own flow)", async () => {
    const rig = await startRig(GATEWAY_1);
    try {
      const call = invite(rig.phone, rig.server, '01144200000001');
      rig.phone.send(call.invite, rig.server.sip);
      expect(statusOf(await finalResponse(rig.phone, call))).toBe(200);
      expect(rig.gateway1.requests('INVITE')).toHaveLength(1);
    } finally {
      await stopRig(rig);
    }
  });

  // docs/engines.md "Where it differs" 11: drachtio-server owns the SIP sockets: stopping us leaves its connections to the phones as they are.
  it('closes established TCP connections on stop (the package leaves them open for 120 s; drachtio-server keeps its own)', async () => {
    const server = await startTestServer('127.0.0.34');
    const peer = await TcpPeer.connect('127.0.0.35', server.sip);
    peer.send(
      sipRequest([
        'OPTIONS sip:127.0.0.34 SIP/2.0',
        `Via: SIP/2.0/TCP 127.0.0.35:${peer.localPort};branch=z9hG4bK-tcp-close`,
        'Max-Forwards: 70',
        'From: <sip:probe@127.0.0.35>;tag=t1',
        'To: <sip:127.0.0.34>',
        'Call-ID: tcp-close@127.0.0.35',
        'CSeq: 1 OPTIONS',
      ]),
    );
    expect(statusOf(await peer.receive(/^SIP\/2\.0 200 /m))).toBe(200);
    const closedAt = peer.closed().then(() => Date.now());
    const stoppedAt = Date.now();
    await server.close();
    const closed = await Promise.race([
      closedAt,
      new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 1500)),
    ]);
    try {
      if (onDrachtio) expect(closed).toBeUndefined();
      else expect((closed ?? Infinity) - stoppedAt).toBeLessThan(1000);
    } finally {
      peer.close();
    }
  });
});

describe('a gateway over TCP', () => {
  it('carries a UDP phone to it, with a Record-Route for each side', async () => {
    const server = await startTestServer('127.0.0.38');
    const phone = await UdpPeer.bind(PHONE);
    const gateway = await ScriptedGateway.startTcp('127.0.0.4');
    try {
      const db = new Database(server.storeFile);
      db.exec(
        "INSERT INTO dr_gateways (gwid, address) VALUES ('tcpgw', '127.0.0.4:5060;transport=tcp'); INSERT INTO dr_rules (groupid, prefix, gwlist) VALUES ('0', '0044', 'tcpgw')",
      );
      db.close();
      expect((await server.server.reload()).ok).toBe(true);

      const call = invite(phone, server, '00442071234567');
      phone.send(call.invite, server.sip);
      const ok = await finalResponse(phone, call);
      expect(statusOf(ok)).toBe(200);
      const [forwarded] = gateway.requests('INVITE');
      expect(forwarded?.uri).toBe('sip:00442071234567@127.0.0.4:5060;transport=tcp');
      expect(forwarded?.headers.via?.[0]?.protocol).toBe('TCP');
      const entries = header(ok, 'Record-Route').flatMap((value) => value.split(/,\s*/));
      expect(withTokenShown(entries)).toEqual(recordRoutes(server, 'tcp', 'udp'));
    } finally {
      phone.close();
      gateway.close();
      await server.close();
    }
  });
});
