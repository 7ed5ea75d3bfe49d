import { afterAll, beforeAll, expect, it } from 'vitest';
import { finalResponse, inviteFrom } from '../support/calling-phone.js';
import { freePort } from '../support/drouter-process.js';
import { startTestServer, type TestServer, testEngine } from '../support/drouter-server.js';
import { header, responseTo } from '../support/message-text.js';
import { escapeRegExp } from '../support/regexp.js';
import { peerRow, registerOverConnection, statusOf } from '../support/registering-phone.js';
import { describeUnless } from '../support/skip-reason.js';
import { makeTestCertificates, type TestCertificates } from '../support/test-certificates.js';
import { UdpPeer } from '../support/udp-peer.js';
import { waitFor } from '../support/wait-for.js';
import { WsPeer } from '../support/ws-peer.js';

const PROXY = '127.0.0.72';
const BROWSER = '127.0.0.73';
const SBC = '127.0.0.74';
const ALLOWED_ORIGIN = 'https://phone.example.com';
/** sip.tcp.maxConnectionsPerSource, small enough to reach. */
const PER_SOURCE = 3;

/**
 * SIP over WebSocket (RFC 7118, docs/engines.md "WebSocket") on the native
 * engine: a browser phone's side (the `ws` package as SIP.js and JsSIP
 * speak it) registers over WS and WSS, is called down its own connection,
 * and its binding ends with the connection. The handshake wants the sip
 * subprotocol and an allowed Origin. Proxy on 127.0.0.72, the browser on
 * .73, an SBC (trusted) on .74.
 */
describeUnless(testEngine === 'native' ? '' : 'native engine only: drachtio-server serves WebSocket itself')(
  'SIP over WebSocket',
  () => {
    let server: TestServer;
    let certificates: TestCertificates;
    let sbc: UdpPeer;
    let ports: { ws: number; wss: number };

    beforeAll(async () => {
      certificates = makeTestCertificates();
      const issued = certificates.authority.server([PROXY]);
      ports = { ws: await freePort(), wss: await freePort() };
      server = await startTestServer(PROXY, {
        sip: {
          tcp: { maxConnectionsPerSource: PER_SOURCE },
          transports: ['udp', 'ws', 'wss'],
          websocket: { port: ports.ws, securePort: ports.wss, allowedOrigins: [ALLOWED_ORIGIN] },
          tls: { certificateFile: issued.certificateFile, keyFile: issued.keyFile },
        },
        auth: { trustedSources: [`${SBC}/32`] },
      });
      sbc = await UdpPeer.bind(SBC);
    });
    afterAll(async () => {
      sbc?.close();
      await server?.close();
      certificates?.remove();
    });

    const browser = (secure = false) =>
      WsPeer.connect(BROWSER, secure ? `wss://${PROXY}:${ports.wss}` : `ws://${PROXY}:${ports.ws}`, {
        origin: ALLOWED_ORIGIN,
        ...(secure ? { ca: certificates.authority.own.certificate } : {}),
      });

    it('registers a browser phone over WS, calls it down its own connection, and ends its binding when the connection closes', async () => {
      const phone = await browser();
      try {
        expect(statusOf(await registerOverConnection(phone, BROWSER, PROXY, 'ws', '1001', 'secret1001'))).toBe(200);
        expect(peerRow(server.storeFile, '1001')).toMatchObject({ ipaddr: BROWSER, port: phone.localPort });

        const call = inviteFrom(sbc, `${PROXY}:${server.sip.port}`, '1001');
        sbc.send(call.invite, server.sip);
        const invite = await phone.receive(new RegExp(`^INVITE [\\s\\S]*Call-ID: ${escapeRegExp(call.callId)}`));
        expect(header(invite, 'Via')[0]).toMatch(new RegExp(`^SIP/2\\.0/WS ${escapeRegExp(PROXY)}:${ports.ws};`));
        // RFC 5658: one Record-Route entry per side, the WebSocket side's naming our WS port.
        expect(header(invite, 'Record-Route').join(', ')).toMatch(
          new RegExp(
            `<sip:${escapeRegExp(PROXY)}:${ports.ws};transport=ws;[^>]*lr>,\\s*<sip:${escapeRegExp(PROXY)}:${server.sip.port};transport=udp;`,
          ),
        );
        phone.send(responseTo(invite ?? '', 200, 'OK', `sip:1001@${BROWSER}:${phone.localPort};transport=ws`));
        expect(statusOf(await finalResponse(sbc, call))).toBe(200);
      } finally {
        await phone.close();
      }
      // The browser is gone: nothing can reach it, so its binding ends with its connection (RFC 5626 §5.3) and the row is cleared.
      await waitFor('the binding to end with the connection', 3000, () =>
        peerRow(server.storeFile, '1001').ipaddr ? undefined : true,
      );
      const after = inviteFrom(sbc, `${PROXY}:${server.sip.port}`, '1001');
      sbc.send(after.invite, server.sip);
      expect(statusOf(await finalResponse(sbc, after))).toBe(480);
    });

    it('registers over WSS with the certificate of sip.tls, and answers on the same connection', async () => {
      const phone = await browser(true);
      try {
        expect(statusOf(await registerOverConnection(phone, BROWSER, PROXY, 'wss', '1002', 'secret1002'))).toBe(200);
      } finally {
        await phone.close();
      }
    });

    it('refuses a handshake without the sip subprotocol, and one from a web page not in allowedOrigins', async () => {
      const noSubprotocol = await WsPeer.connect(BROWSER, `ws://${PROXY}:${ports.ws}`, {
        protocol: '',
        origin: ALLOWED_ORIGIN,
      });
      expect(await noSubprotocol.closedWith()).toBe(1002);
      await expect(
        WsPeer.connect(BROWSER, `ws://${PROXY}:${ports.ws}`, { origin: 'https://evil.example.net' }),
      ).rejects.toThrow(/HTTP 403/);
      await expect(WsPeer.connect(BROWSER, `ws://${PROXY}:${ports.ws}`)).rejects.toThrow(/HTTP 403/);
    });

    it('closes a connection that sends a message larger than sip.tcp allows, and serves the next', async () => {
      const flood = await browser();
      flood.send(`OPTIONS sip:${PROXY} SIP/2.0\r\nX-Padding: ${'x'.repeat(64 * 1024)}\r\n\r\n`);
      expect(await flood.closedWith()).toBe(1009);
      const next = await browser();
      try {
        expect(statusOf(await registerOverConnection(next, BROWSER, PROXY, 'ws', '1001', 'secret1001'))).toBe(200);
      } finally {
        await next.close();
      }
    });

    it('turns away a connection over sip.tcp.maxConnectionsPerSource before its handshake, and serves again when one closes', async () => {
      // The earlier tests' connections are closed; their server side lets go of its count a moment later.
      await new Promise((resolve) => setTimeout(resolve, 300));
      const held = await Promise.all(Array.from({ length: PER_SOURCE }, () => browser()));
      try {
        await expect(browser()).rejects.toThrow();
        await held.pop()?.close();
        const again = await browser();
        await again.close();
      } finally {
        for (const each of held) await each.close();
      }
    });

    it('answers a CRLFCRLF keep-alive frame with a CRLF (as SIP.js and JsSIP expect), and a lone CRLF with nothing', async () => {
      const phone = await browser();
      try {
        phone.send('\r\n');
        expect(await phone.receive(/^\r\n$/, 300)).toBeUndefined();
        phone.send('\r\n\r\n');
        expect(await phone.receive(/^\r\n$/)).toBe('\r\n');
      } finally {
        await phone.close();
      }
    });
  },
);
