import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BrowserPhones, type BrowserPhone, browserMissing } from '../support/browser-phone.js';
import { type Call, finalResponse } from '../support/calling-phone.js';
import { freePort } from '../support/drouter-process.js';
import { moveExampleGateways, startTestServer, type TestServer, testEngine } from '../support/drouter-server.js';
import { header } from '../support/message-text.js';
import { INTERNATIONAL_NUMBER, PHONE_DOMAIN } from '../support/real-phones.js';
import { escapeRegExp } from '../support/regexp.js';
import { peerRow, statusOf } from '../support/registering-phone.js';
import { ScriptedGateway } from '../support/scripted-gateway.js';
import { SipJsNodePhone } from '../support/sipjs-node-phone.js';
import { describeUnless } from '../support/skip-reason.js';
import { makeTestCertificates, type TestCertificates } from '../support/test-certificates.js';
import { UdpPeer } from '../support/udp-peer.js';
import { waitFor } from '../support/wait-for.js';
import { inDialogRequest, webRtcInviteFrom } from '../support/webrtc-caller.js';

/**
 * Browser phones (issue 22): SIP.js 0.21 from npm, as a web phone runs it,
 * in Debian's headless Chromium over WSS with WebRTC media, and in Node
 * over WS (the `ws` package under SIP.js's transport port) for what needs
 * no browser. The proxy in this process with udp, ws and wss, a certificate
 * from the test CA for its address, and allowedOrigins naming the pages'
 * origin. Chromium trusts the test CA through the NSS database of its home
 * folder (test/support/browser-phone.ts), so it checks the chain and the IP
 * subjectAltName as for any site.
 *
 * The browser's part is skipped without chromium or certutil, unless
 * DROUTER_TEST_BROWSER is set (as .ci/run sets it): then missing is a
 * failure. Native engine only (drachtio-server serves WebSocket itself).
 *
 * Proxy on 127.0.0.56, the pages' HTTPS server on .57 (Chromium's own
 * connections come from 127.0.0.1), the example's gateways 1 and 2 moved to
 * .58 and .59, an Asterisk (trusted, UDP) on .75, the Node phone on .76.
 */
const PROXY = '127.0.0.56';
const PAGES = '127.0.0.57';
const GATEWAY1 = '127.0.0.58';
const GATEWAY2 = '127.0.0.59';
const ASTERISK = '127.0.0.75';
const NODE_PHONE = '127.0.0.76';
/** The web page the Node phone stands for. */
const NODE_ORIGIN = 'https://phone.example.com';
/** A browser phone's step (a registration, a call set up, a hang-up) is over well within this. */
const STEP_MS = 5000;

interface Binding {
  contact: string;
  source: string;
}
async function bindingsOf(server: TestServer, user: string): Promise<Binding[]> {
  return ((await (await fetch(`${server.server.adminUrl}/peers/${user}`)).json()) as { bindings: Binding[] }).bindings;
}

describeUnless(testEngine === 'native' ? '' : 'native engine only: drachtio-server serves WebSocket itself')('Browser phones: SIP.js over WebSocket', () => {
  const browserAbsent = browserMissing();
  let certificates: TestCertificates;
  let server: TestServer;
  let browsers: BrowserPhones | undefined;
  let gateway1: ScriptedGateway;
  let gateway2: ScriptedGateway;
  let asterisk: UdpPeer;
  let ports: { ws: number; wss: number };

  beforeAll(async () => {
    certificates = makeTestCertificates();
    const issued = certificates.authority.server([PROXY]);
    if (browserAbsent === '') browsers = await BrowserPhones.start(PAGES, certificates);
    ports = { ws: await freePort(), wss: await freePort() };
    server = await startTestServer(PROXY, {
      sip: {
        transports: ['udp', 'ws', 'wss'],
        websocket: { port: ports.ws, securePort: ports.wss, allowedOrigins: [NODE_ORIGIN, ...(browsers ? [browsers.origin] : [])] },
        tls: { certificateFile: issued.certificateFile, keyFile: issued.keyFile },
      },
      // The phones answer digest challenges; Asterisk is trusted by its address, as an SBC is.
      auth: { trustedSources: [`${ASTERISK}/32`] },
    });
    gateway1 = await ScriptedGateway.start(GATEWAY1);
    gateway2 = await ScriptedGateway.start(GATEWAY2);
    await moveExampleGateways(server, GATEWAY1, GATEWAY2);
    asterisk = await UdpPeer.bind(ASTERISK);
  });
  afterAll(async () => {
    await browsers?.close();
    asterisk?.close();
    gateway1?.close();
    gateway2?.close();
    await server?.close();
    certificates?.remove();
  });

  /** Asterisk's response to its request `cseq` `method` of `call` with a status matching `status`: SIP.js puts CSeq before Call-ID, so each is looked for on its own. */
  function responseAtAsterisk(call: Call, cseq: number, method: string, status: RegExp): Promise<string | undefined> {
    return asterisk.receive(new RegExp(`^SIP/2\\.0 ${status.source} (?=[\\s\\S]*^Call-ID: ${escapeRegExp(call.callId)}\r$)(?=[\\s\\S]*^CSeq: ${cseq} ${method}\r$)`, 'm'), STEP_MS);
  }

  /** Asterisk's call to `number` through the proxy with a WebRTC offer; its 2xx, or the failure naming the final it got. */
  async function asteriskCalls(number: string, answer: () => Promise<void>): Promise<{ call: Call; ok: string }> {
    const call = webRtcInviteFrom(asterisk, `${PROXY}:${server.sip.port}`, number, '1001');
    asterisk.send(call.invite, server.sip);
    await answer();
    const final = await responseAtAsterisk(call, 1, 'INVITE', /[2-6]\d\d/);
    if (statusOf(final) !== 200) throw new Error(`Asterisk's call to ${number} got ${final?.split('\r\n')[0] ?? 'no final response'}`);
    return { call, ok: final ?? '' };
  }

  describeUnless(browserAbsent)('in headless Chromium over WSS', () => {
    let phone: BrowserPhone;
    const wss = () => `wss://${PROXY}:${ports.wss}`;

    it('registers 1002 with digest over WSS; its binding is that connection', async () => {
      phone = await (browsers as BrowserPhones).open();
      await phone.register({ server: wss(), user: '1002', password: 'secret1002', domain: PHONE_DOMAIN });
      const events = await phone.event('registration Registered', STEP_MS);
      expect(events).toContain('REGISTER 200');
      const [binding] = await bindingsOf(server, '1002');
      // SIP.js's Contact names a host nobody can reach (RFC 7118 §5.2): the binding is the connection Chromium opened from 127.0.0.1.
      expect(binding?.contact).toMatch(/@[a-z0-9]+\.invalid;transport=ws/);
      expect(binding?.source).toMatch(/^wss:127\.0\.0\.1:\d+$/);
      expect(peerRow(server.storeFile, '1002')).toMatchObject({ ipaddr: '127.0.0.1', port: Number(binding?.source.split(':')[2]) });
    });

    it('calls a number routed to gateway 1: the INVITE reaches it through us with a Record-Route entry per side, the browser gets the 200 and hangs up (488: a plain RTP answer)', async () => {
      await phone.call(`sip:${INTERNATIONAL_NUMBER}@${PHONE_DOMAIN}`);
      const invite = await waitFor('the INVITE at gateway 1', STEP_MS, () => gateway1.requests('INVITE')[0]);
      const vias = invite.headers.via ?? [];
      expect(vias.map((via) => `${via.protocol} ${via.host}:${via.port}`)).toEqual([`UDP ${PROXY}:${server.sip.port}`, expect.stringMatching(/^WSS [a-z0-9]+\.invalid/)]);
      // RFC 5658: one Record-Route entry per side, the browser's naming our WSS port.
      const entries = (invite.headers['record-route'] ?? []) as { uri: { host: string; port: number; params: Record<string, string | null> } }[];
      const recordRoute = entries.map(({ uri }) => `${uri.host}:${uri.port};transport=${uri.params.transport}`);
      expect(recordRoute).toEqual([`${PROXY}:${server.sip.port};transport=udp`, `${PROXY}:${ports.wss};transport=wss`]);
      await phone.event('INVITE 200', STEP_MS);
      // The gateway's answer is plain RTP/AVP, which WebRTC cannot take: SIP.js acknowledges the 200 and hangs up (BYE).
      const bye = await waitFor('the ACK and the BYE at gateway 1', STEP_MS, () => (gateway1.requests('ACK').length > 0 ? gateway1.requests('BYE')[0] : undefined));
      expect(bye.headers.reason).toMatch(/cause=488/);
      expect(await phone.events()).toContain('session Terminated');
    });

    it('is called by a trusted Asterisk through the location service and answers with WebRTC', async () => {
      const { call, ok } = await asteriskCalls('1002', async () => {
        await phone.event('invited by 1001', STEP_MS);
        await phone.answer();
      });
      // The answer is the browser's: DTLS-SRTP with its ICE candidates, and a Record-Route entry per side (RFC 5658).
      expect(ok).toMatch(/^m=audio \d+ UDP\/TLS\/RTP\/SAVPF /m);
      expect(ok).toMatch(/^a=fingerprint:sha-256 /m);
      expect(header(ok, 'Record-Route').join(', ')).toMatch(new RegExp(`:${ports.wss};transport=wss;[^>]*lr>,\\s*<sip:${escapeRegExp(PROXY)}:${server.sip.port};transport=udp;`));
      // Asterisk acknowledges as it would; the ACK goes down the browser's connection (the Node phone's test checks it arrives).
      asterisk.send(inDialogRequest('ACK', call, ok, asterisk, 1), server.sip);
    });

    it('closing the tab ends its binding (the sippeers row cleared), and a call to it then gets 480', async () => {
      await phone.close();
      await waitFor('the binding to end with the tab', STEP_MS, () => (peerRow(server.storeFile, '1002').ipaddr ? undefined : true));
      expect(await bindingsOf(server, '1002')).toEqual([]);
      const call = webRtcInviteFrom(asterisk, `${PROXY}:${server.sip.port}`, '1002', '1001');
      asterisk.send(call.invite, server.sip);
      expect(statusOf(await finalResponse(asterisk, call, STEP_MS))).toBe(480);
    });
  });

  describe('in Node over WS', () => {
    const register = (user: string) => SipJsNodePhone.register({ server: `ws://${PROXY}:${ports.ws}`, localAddress: NODE_PHONE, origin: NODE_ORIGIN, user, password: `secret${user}`, domain: PHONE_DOMAIN, timeoutMs: STEP_MS });

    it('registers 1003 with digest from its own address, answers a call from Asterisk down its connection, calls a gateway and hangs up, and unregisters as it stops', async () => {
      const phone = await register('1003');
      try {
        expect(await bindingsOf(server, '1003')).toEqual([expect.objectContaining({ source: `ws:${NODE_PHONE}:${phone.localPort}` })]);
        expect(peerRow(server.storeFile, '1003')).toMatchObject({ ipaddr: NODE_PHONE, port: phone.localPort });
        const { ok } = await asteriskCalls('1003', async () => {
          const invitation = await phone.invitation(STEP_MS);
          expect(invitation.remoteIdentity.uri.user).toBe('1001');
          await invitation.accept();
        });
        expect(ok).toMatch(new RegExp(`^c=IN IP4 ${escapeRegExp(NODE_PHONE)}\r$`, 'm'));
        const byesBefore = gateway1.requests('BYE').length;
        const outgoing = await phone.call(`sip:${INTERNATIONAL_NUMBER}@${PHONE_DOMAIN}`, STEP_MS);
        await outgoing.bye();
        await waitFor('the BYE at gateway 1', STEP_MS, () => (gateway1.requests('BYE').length > byesBefore ? true : undefined));
      } finally {
        await phone.stop(STEP_MS);
      }
      expect(await bindingsOf(server, '1003')).toEqual([]);
      expect(peerRow(server.storeFile, '1003').ipaddr).toBeFalsy();
    });

    // The callee's Contact (SIP.js's `*.invalid`) cannot be reached: our Record-Route entry on the WebSocket
    // side names its connection (RFC 7118 §5.2), and the requests within the dialog go down it.
    it("gets the caller's ACK and BYE within the dialog down its connection", async () => {
      const phone = await register('1004');
      try {
        let acknowledged = false;
        const { call, ok } = await asteriskCalls('1004', async () => {
          const invitation = await phone.invitation(STEP_MS);
          invitation.delegate = { onAck: () => void (acknowledged = true) };
          await invitation.accept();
        });
        asterisk.send(inDialogRequest('ACK', call, ok, asterisk, 1), server.sip);
        await waitFor("Asterisk's ACK at the SIP.js phone", 2000, () => (acknowledged ? true : undefined));
        asterisk.send(inDialogRequest('BYE', call, ok, asterisk, 2), server.sip);
        expect(statusOf(await responseAtAsterisk(call, 2, 'BYE', /\d+/))).toBe(200);
      } finally {
        await phone.stop(STEP_MS);
      }
    });
  });
});
