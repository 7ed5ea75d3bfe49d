import { afterAll, beforeAll, expect, it } from 'vitest';
import { finalResponse, inviteFrom } from '../support/calling-phone.js';
import { DRACHTIO_BINARY, DrachtioServerProcess } from '../support/drachtio-server.js';
import { freePort } from '../support/drouter-process.js';
import { moveExampleGateways, startTestServer, type TestServer, testEngine } from '../support/drouter-server.js';
import { header, responseTo } from '../support/message-text.js';
import { escapeRegExp } from '../support/regexp.js';
import { peerRow, RegisteringPhone, registerOverConnection, statusOf } from '../support/registering-phone.js';
import { ScriptedGateway } from '../support/scripted-gateway.js';
import { describeUnless } from '../support/skip-reason.js';
import { makeTestCertificates, type TestCertificates } from '../support/test-certificates.js';
import { TlsPeer } from '../support/tls-peer.js';
import { sipRequest, UdpPeer } from '../support/udp-peer.js';
import { WsPeer } from '../support/ws-peer.js';

/**
 * drachtio-server's own TLS and WSS contacts (issue 22, docs/engines.md "TLS" and "WebSocket"), on the
 * drachtio engine: a drachtio-server of this file's own on 127.0.0.246 with UDP on 5060, TLS on 5061 and
 * WSS on a free port, its <tls> a certificate of a test CA made per run; our app connected to it. A phone
 * on .247 registers over TLS and over WSS; a trusted caller on .248 calls both phones over UDP and each
 * INVITE comes down the phone's own connection; a gateway on .189 that takes calls over TLS only is
 * reached through drachtio-server's TLS; a phone on [::1] registers over drachtio-server's IPv6 contact and
 * is called there.
 */
const SIP_ADDRESS = '127.0.0.246';
const PHONE = '127.0.0.247';
const CALLER = '127.0.0.248';
/** A gateway that takes calls over TLS only, its certificate from the test CA. */
const TLS_GATEWAY = '127.0.0.189';
const TLS_PORT = 5061;

const skipped =
  testEngine !== 'drachtio'
    ? "drachtio engine only (DROUTER_TEST_ENGINE=drachtio): the native engine's TLS and WSS are tls-transport and websocket-transport"
    : DRACHTIO_BINARY
      ? ''
      : 'DROUTER_TEST_DRACHTIO_BINARY names no drachtio-server';

describeUnless(skipped)("drachtio-server's own TLS and WSS contacts", () => {
  let certificates: TestCertificates;
  let drachtio: DrachtioServerProcess;
  let server: TestServer;
  let caller: UdpPeer;
  let wssPort: number;
  let wsPort: number;
  let ipv6Port: number;
  let gateway: ScriptedGateway;

  beforeAll(async () => {
    certificates = makeTestCertificates();
    const issued = certificates.authority.server([SIP_ADDRESS]);
    wssPort = await freePort();
    wsPort = await freePort();
    ipv6Port = await freePort();
    const secret = 'tls-wss-test-secret';
    drachtio = new DrachtioServerProcess(DRACHTIO_BINARY ?? '', {
      adminPort: await freePort(),
      secret,
      sipAddress: SIP_ADDRESS,
      sipPort: 5060,
      // sofia binds tls and wss only for a sips: contact (nta.c tports_sips).
      moreContacts: [
        `sips:${SIP_ADDRESS}:${TLS_PORT};transport=tls`,
        `sips:${SIP_ADDRESS}:${wssPort};transport=wss`,
        `sip:${SIP_ADDRESS}:${wsPort};transport=ws`,
        `sip:[::1]:${ipv6Port};transport=udp`,
      ],
      tls: {
        keyFile: issued.keyFile,
        certFile: issued.certificateFile,
        chainFile: certificates.authority.certificateFile,
      },
    });
    await drachtio.start();
    server = await startTestServer(SIP_ADDRESS, {
      sip: { engine: 'drachtio', drachtio: { host: '127.0.0.1', port: drachtio.options.adminPort, secret } },
      auth: { trustedSources: [`${CALLER}/32`] },
    });
    caller = await UdpPeer.bind(CALLER);
    gateway = await ScriptedGateway.startTls(TLS_GATEWAY, TLS_PORT, certificates.authority.server([TLS_GATEWAY]));
    await moveExampleGateways(server, `${TLS_GATEWAY}:${TLS_PORT};transport=tls`, `${TLS_GATEWAY}:5060`);
  });
  afterAll(async () => {
    caller?.close();
    gateway?.close();
    await server?.close();
    await drachtio?.close();
    certificates?.remove();
  });

  it("takes the TLS and WSS contacts as ours (/health, the engine's ports)", async () => {
    expect(server.server.engine.local).toMatchObject({
      address: SIP_ADDRESS,
      port: 5060,
      tlsPort: TLS_PORT,
      wsPort,
      wssPort,
    });
    const health = (await (await fetch(`${server.server.adminUrl}/health`)).json()) as { sip: { listening: string } };
    expect(health.sip.listening).toMatch(new RegExp(`^udp\\+tcp ${escapeRegExp(SIP_ADDRESS)}:5060, `));
    for (const [transport, port] of [
      ['tls', TLS_PORT],
      ['ws', wsPort],
      ['wss', wssPort],
    ] as const)
      expect(health.sip.listening).toContain(`${transport} ${SIP_ADDRESS}:${port}`);
  });

  it('registers a phone over TLS (binding source tls), and a call from UDP reaches it down its own connection', async () => {
    const phone = await TlsPeer.connect(
      PHONE,
      { address: SIP_ADDRESS, port: TLS_PORT },
      { ca: certificates.authority.own.certificate },
    );
    try {
      expect(statusOf(await registerOverConnection(phone, PHONE, SIP_ADDRESS, 'tls', '1001', 'secret1001'))).toBe(200);
      const contact = `sip:1001@${PHONE}:${phone.localPort};transport=tls`;
      const peer = (await (await fetch(`${server.server.adminUrl}/peers/1001`)).json()) as {
        bindings: { contact: string; source: string }[];
      };
      expect(peer.bindings).toEqual([expect.objectContaining({ contact, source: `tls:${PHONE}:${phone.localPort}` })]);

      const call = inviteFrom(caller, `${SIP_ADDRESS}:5060`, '1001');
      caller.send(call.invite, server.sip);
      const invite = await phone.receive(new RegExp(`^INVITE [\\s\\S]*${escapeRegExp(call.callId)}`));
      expect(invite).toMatch(new RegExp(`^INVITE ${escapeRegExp(contact)} SIP/2\\.0\\r\\n`));
      // drachtio-server's own Via on its TLS contact (5061, TLS's default port, left out): it went out on the TLS side.
      expect(header(invite, 'Via')[0]).toMatch(
        new RegExp(`^SIP/2\\.0/TLS ${escapeRegExp(SIP_ADDRESS)}(:${TLS_PORT})?;`),
      );
      phone.send(responseTo(invite ?? '', 200, 'OK', contact));
      expect(statusOf(await finalResponse(caller, call))).toBe(200);
    } finally {
      phone.close();
    }
  });

  it("registers a browser phone over WSS with drachtio-server's certificate (binding source wss), and a call from UDP reaches it down its connection", async () => {
    const phone = await WsPeer.connect(PHONE, `wss://${SIP_ADDRESS}:${wssPort}`, {
      ca: certificates.authority.own.certificate,
    });
    try {
      expect(statusOf(await registerOverConnection(phone, PHONE, SIP_ADDRESS, 'wss', '1002', 'secret1002'))).toBe(200);
      expect(peerRow(server.storeFile, '1002')).toMatchObject({ ipaddr: PHONE, port: phone.localPort });
      const peer = (await (await fetch(`${server.server.adminUrl}/peers/1002`)).json()) as {
        bindings: { source: string }[];
      };
      expect(peer.bindings).toEqual([expect.objectContaining({ source: `wss:${PHONE}:${phone.localPort}` })]);

      const call = inviteFrom(caller, `${SIP_ADDRESS}:5060`, '1002');
      caller.send(call.invite, server.sip);
      const invite = await phone.receive(new RegExp(`^INVITE [\\s\\S]*${escapeRegExp(call.callId)}`));
      expect(header(invite, 'Via')[0]).toMatch(new RegExp(`^SIP/2\\.0/WSS ${escapeRegExp(SIP_ADDRESS)}`));
      phone.send(responseTo(invite ?? '', 200, 'OK', `sip:1002@${PHONE}:${phone.localPort};transport=wss`));
      const ok = await finalResponse(caller, call);
      expect(statusOf(ok)).toBe(200);
      // The caller's BYE follows the route set (the 200's Record-Route reversed) and reaches the browser down its connection.
      const routes = header(ok, 'Record-Route')
        .flatMap((value) => value.split(/,\s*/))
        .reverse();
      caller.send(
        sipRequest([
          `BYE sip:1002@${PHONE}:${phone.localPort};transport=wss SIP/2.0`,
          `Via: SIP/2.0/UDP ${CALLER}:${caller.address.port};branch=z9hG4bK-bye-wss;rport`,
          'Max-Forwards: 70',
          `From: "Phone 1001" <sip:1001@127.0.0.1>;tag=${call.fromTag}`,
          `To: <sip:1002@${SIP_ADDRESS}:5060>;tag=phone-200`,
          `Call-ID: ${call.callId}`,
          'CSeq: 2 BYE',
          ...routes.map((route) => `Route: ${route}`),
        ]),
        server.sip,
      );
      expect(await phone.receive(new RegExp(`^BYE [\\s\\S]*${escapeRegExp(call.callId)}`))).toBeDefined();
    } finally {
      await phone.close();
    }
  });

  it('routes a call to a gateway over TLS through drachtio-server, answered', async () => {
    const call = inviteFrom(caller, `${SIP_ADDRESS}:5060`, '01144201230800');
    caller.send(call.invite, server.sip);
    expect(statusOf(await finalResponse(caller, call))).toBe(200);
    expect(gateway.requests('INVITE').map((invite) => invite.headers['call-id'])).toContain(call.callId);
  });

  it('registers a phone over plain WS (binding source ws)', async () => {
    const phone = await WsPeer.connect(PHONE, `ws://${SIP_ADDRESS}:${wsPort}`);
    try {
      expect(statusOf(await registerOverConnection(phone, PHONE, SIP_ADDRESS, 'ws', '1003', 'secret1003'))).toBe(200);
      const peer = (await (await fetch(`${server.server.adminUrl}/peers/1003`)).json()) as {
        bindings: { source: string }[];
      };
      expect(peer.bindings).toEqual([expect.objectContaining({ source: `ws:${PHONE}:${phone.localPort}` })]);
    } finally {
      await phone.close();
    }
  });

  it("registers a phone over IPv6 on drachtio-server's [::1] contact, and a call from an IPv4 caller reaches it there", async () => {
    const phone = await UdpPeer.bind('::1');
    try {
      expect(
        statusOf(await new RegisteringPhone(phone, { address: '::1', port: ipv6Port }).register('1004', 'secret1004')),
      ).toBe(200);
      expect(peerRow(server.storeFile, '1004')).toMatchObject({ ipaddr: '::1', port: phone.address.port });
      const call = inviteFrom(caller, `${SIP_ADDRESS}:5060`, '1004');
      caller.send(call.invite, server.sip);
      const invite = await phone.receive(new RegExp(`^INVITE [\\s\\S]*${escapeRegExp(call.callId)}`));
      expect(header(invite, 'Via')[0]).toMatch(/^SIP\/2\.0\/UDP \[::1\]/);
      phone.send(responseTo(invite ?? '', 200, 'OK', `sip:1004@[::1]:${phone.address.port}`), {
        address: '::1',
        port: ipv6Port,
      });
      expect(statusOf(await finalResponse(caller, call))).toBe(200);
    } finally {
      phone.close();
    }
  });
});
