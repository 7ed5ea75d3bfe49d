import { afterAll, beforeAll, expect, it } from 'vitest';
import { finalResponse, inviteFrom } from '../support/calling-phone.js';
import { freePort } from '../support/drouter-process.js';
import { moveExampleGateways, startTestServer, type TestServer, testEngine } from '../support/drouter-server.js';
import { header, responseTo } from '../support/message-text.js';
import { escapeRegExp } from '../support/regexp.js';
import { peerRow, RegisteringPhone, registerOverConnection, statusOf } from '../support/registering-phone.js';
import { describeUnless } from '../support/skip-reason.js';
import { TcpPeer } from '../support/tcp-peer.js';
import { makeTestCertificates, type TestCertificates } from '../support/test-certificates.js';
import { TlsPeer } from '../support/tls-peer.js';
import { optionsStatus, UdpPeer } from '../support/udp-peer.js';
import { WsPeer } from '../support/ws-peer.js';

const LOOPBACK = '::1';
const HOST = '[::1]';

/**
 * IPv6 on every transport of the native engine (issue 22): the proxy on
 * ::1 with UDP, TCP, TLS and WebSocket; phones, a caller and a gateway on
 * ::1 too, each on a port of its own. Our Vias and Record-Routes bracket the
 * address (RFC 3261 §25.1), and the registrations keep it.
 */
describeUnless(
  testEngine === 'native' ? '' : "native engine only: the drachtio suites run on drachtio-server's own contacts",
)('IPv6', () => {
  let server: TestServer;
  let certificates: TestCertificates;
  /** A bare peer as the gateway: the `sip` package's parser, which the scripted gateway uses, reads no IPv6 URI. */
  let gateway: UdpPeer;
  let caller: UdpPeer;
  let ports: { tls: number; ws: number };

  beforeAll(async () => {
    certificates = makeTestCertificates();
    const issued = certificates.authority.server([LOOPBACK]);
    ports = { tls: await freePort(), ws: await freePort() };
    server = await startTestServer(LOOPBACK, {
      sip: {
        transports: ['udp', 'tcp', 'tls', 'ws'],
        tls: {
          port: ports.tls,
          certificateFile: issued.certificateFile,
          keyFile: issued.keyFile,
          caFile: certificates.authority.certificateFile,
        },
        websocket: { port: ports.ws },
      },
      auth: { trustedSources: [`${LOOPBACK}/128`] },
    });
    gateway = await UdpPeer.bind(LOOPBACK);
    await moveExampleGateways(server, `${HOST}:${gateway.address.port}`, `${HOST}:${await freePort()}`);
    caller = await UdpPeer.bind(LOOPBACK);
  });
  afterAll(async () => {
    caller?.close();
    gateway?.close();
    await server?.close();
    certificates?.remove();
  });

  const proxy = () => `${HOST}:${server.sip.port}`;

  it("answers OPTIONS and a REGISTER over UDP, and keeps the phone's IPv6 address in its row", async () => {
    expect(await optionsStatus(caller, server.sip, `sip:${proxy()}`)).toBe(200);
    const phone = await UdpPeer.bind(LOOPBACK);
    try {
      expect(statusOf(await new RegisteringPhone(phone, server.sip).register('1001', 'secret1001'))).toBe(200);
      expect(peerRow(server.storeFile, '1001')).toMatchObject({ ipaddr: LOOPBACK, port: phone.address.port });
    } finally {
      phone.close();
    }
  });

  it('routes a call to a gateway on IPv6, with our Via and Record-Route in brackets', async () => {
    const call = inviteFrom(caller, proxy(), '01144201234567');
    caller.send(call.invite, server.sip);
    const invite = await gateway.receive(new RegExp(`^INVITE [\\s\\S]*Call-ID: ${escapeRegExp(call.callId)}`));
    expect(header(invite, 'Via')[0]).toMatch(new RegExp(`^SIP/2\\.0/UDP \\[::1\\]:${server.sip.port};`));
    expect(header(invite, 'Record-Route')[0]).toMatch(new RegExp(`^<sip:\\[::1\\]:${server.sip.port};transport=udp;`));
    gateway.send(responseTo(invite ?? '', 200, 'OK', `sip:gw@${HOST}:${gateway.address.port}`), server.sip);
    expect(statusOf(await finalResponse(caller, call))).toBe(200);
  });

  it('calls a phone registered over TCP down its connection, with both sides in the Record-Route', async () => {
    const phone = await TcpPeer.connect(LOOPBACK, server.sip);
    try {
      expect(statusOf(await registerOverConnection(phone, HOST, HOST, 'tcp', '1002', 'secret1002'))).toBe(200);
      const call = inviteFrom(caller, proxy(), '1002');
      caller.send(call.invite, server.sip);
      const invite = await phone.receive(new RegExp(`^INVITE [\\s\\S]*Call-ID: ${escapeRegExp(call.callId)}`));
      expect(header(invite, 'Via')[0]).toMatch(new RegExp(`^SIP/2\\.0/TCP \\[::1\\]:${server.sip.port};`));
      expect(header(invite, 'Record-Route').join(', ')).toMatch(
        /<sip:\[::1\]:\d+;transport=tcp;[^>]*lr>,\s*<sip:\[::1\]:\d+;transport=udp;/,
      );
      phone.send(responseTo(invite ?? '', 200, 'OK', `sip:1002@${HOST}:${phone.localPort};transport=tcp`));
      expect(statusOf(await finalResponse(caller, call))).toBe(200);
    } finally {
      phone.close();
    }
  });

  it("registers over TLS, checked against the certificate's IPv6 address, and over WebSocket", async () => {
    const tls = await TlsPeer.connect(
      LOOPBACK,
      { address: LOOPBACK, port: ports.tls },
      { ca: certificates.authority.own.certificate },
    );
    try {
      expect(statusOf(await registerOverConnection(tls, HOST, HOST, 'tls', '1003', 'secret1003'))).toBe(200);
    } finally {
      tls.close();
    }
    const ws = await WsPeer.connect(LOOPBACK, `ws://${HOST}:${ports.ws}`);
    try {
      expect(statusOf(await registerOverConnection(ws, HOST, HOST, 'ws', '1004', 'secret1004'))).toBe(200);
      expect(peerRow(server.storeFile, '1004')).toMatchObject({ ipaddr: LOOPBACK, port: ws.localPort });
    } finally {
      await ws.close();
    }
  });
});
