import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorMessage } from '../../src/errors.js';
import { BrowserPhones, type BrowserPhone, browserMissing } from '../support/browser-phone.js';
import { freePort } from '../support/drouter-process.js';
import { moveExampleGateways, startTestServer, type TestServer, testEngine } from '../support/drouter-server.js';
import { header } from '../support/message-text.js';
import { INTERNATIONAL_NUMBER, PHONE_DOMAIN } from '../support/real-phones.js';
import { escapeRegExp } from '../support/regexp.js';
import { peerRow } from '../support/registering-phone.js';
import { SipJsNodePhone } from '../support/sipjs-node-phone.js';
import { type SippGateway, sippCall, sippMissing, startSippGateway } from '../support/sipp.js';
import { describeUnless } from '../support/skip-reason.js';
import { makeTestCertificates, type TestCertificates } from '../support/test-certificates.js';
import { waitFor } from '../support/wait-for.js';

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
 * The gateways and the Asterisk that calls the phones are sipp (UDP): the
 * gateways answer with plain RTP, the Asterisk offers WebRTC media
 * (test/sipp/uac-call-webrtc.xml) and ends its calls with a BYE.
 *
 * The browser's part is skipped without chromium or certutil, unless
 * DROUTER_TEST_BROWSER is set (as .ci/run sets it): then missing is a
 * failure; likewise sipp and DROUTER_TEST_SIPP. Native engine only
 * (drachtio-server serves WebSocket itself).
 *
 * Proxy on 127.0.0.56, the pages' HTTPS server on .57 (Chromium's own
 * connections come from 127.0.0.1), the example's gateways 1 and 2 moved to
 * .58 and .59, the Asterisk (trusted) on .75, the Node phone on .76.
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

describeUnless(testEngine === 'native' ? sippMissing() : 'native engine only: drachtio-server serves WebSocket itself')(
  'Browser phones: SIP.js over WebSocket',
  () => {
    const browserAbsent = browserMissing();
    let certificates: TestCertificates;
    let server: TestServer;
    let browsers: BrowserPhones | undefined;
    let gateway1: SippGateway;
    let gateway2: SippGateway;
    let ports: { ws: number; wss: number };

    beforeAll(async () => {
      certificates = makeTestCertificates();
      const issued = certificates.authority.server([PROXY]);
      if (browserAbsent === '') browsers = await BrowserPhones.start(PAGES, certificates);
      ports = { ws: await freePort(), wss: await freePort() };
      server = await startTestServer(PROXY, {
        sip: {
          transports: ['udp', 'ws', 'wss'],
          websocket: {
            port: ports.ws,
            securePort: ports.wss,
            allowedOrigins: [NODE_ORIGIN, ...(browsers ? [browsers.origin] : [])],
          },
          tls: { certificateFile: issued.certificateFile, keyFile: issued.keyFile },
        },
        // The phones answer digest challenges; Asterisk is trusted by its address, as an SBC is.
        auth: { trustedSources: [`${ASTERISK}/32`] },
      });
      gateway1 = await startSippGateway(GATEWAY1, 'uas-answer.xml', 300);
      gateway2 = await startSippGateway(GATEWAY2, 'uas-answer.xml', 300);
      await moveExampleGateways(server, GATEWAY1, GATEWAY2);
    });
    afterAll(async () => {
      await browsers?.close();
      await gateway1?.stop();
      await gateway2?.stop();
      await server?.close();
      certificates?.remove();
    });

    /**
     * The Asterisk's call from 1001 to `number` through the proxy with a WebRTC
     * offer, `answer` answering it at the phone; its ACK, then its BYE 300 ms
     * later, along the 200's Record-Route. The 200 it got; the failure says
     * what sipp printed.
     */
    async function asteriskCalls(number: string, answer: () => Promise<void>): Promise<string> {
      const [run, unanswered] = await Promise.all([
        sippCall({
          scenario: 'uac-call-webrtc.xml',
          localIp: ASTERISK,
          target: server.sip,
          service: number,
          replace: { HOLD_MS: '300' },
          timeoutSeconds: 10,
        }),
        answer().then(
          () => undefined,
          (error: unknown) => error,
        ),
      ]);
      const sippSaw = `sipp received ${JSON.stringify(run.received.map((message) => message.split('\r\n')[0]))}; it printed ${run.stdout.slice(-600)}${run.stderr}`;
      if (unanswered)
        throw new Error(`the Asterisk's call to ${number} was not answered (${errorMessage(unanswered)}); ${sippSaw}`);
      expect(run.code, `the Asterisk's call to ${number} (its ACK, its BYE's 200): ${sippSaw}`).toBe(0);
      return (
        run.received.find((message) => message.startsWith('SIP/2.0 200 ') && /^CSeq: 1 INVITE\r$/m.test(message)) ?? ''
      );
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
        expect(peerRow(server.storeFile, '1002')).toMatchObject({
          ipaddr: '127.0.0.1',
          port: Number(binding?.source.split(':')[2]),
        });
      });

      it('calls a number routed to gateway 1: the INVITE reaches it through us with a Record-Route entry per side, the browser gets the 200 and hangs up (488: a plain RTP answer)', async () => {
        await phone.call(`sip:${INTERNATIONAL_NUMBER}@${PHONE_DOMAIN}`);
        const invite = await waitFor('the INVITE at gateway 1', STEP_MS, () => gateway1.requests('INVITE')[0]);
        expect(header(invite, 'Via')).toEqual([
          expect.stringMatching(`^SIP/2\\.0/UDP ${escapeRegExp(`${PROXY}:${server.sip.port}`)};`),
          expect.stringMatching(/^SIP\/2\.0\/WSS [a-z0-9]+\.invalid/),
        ]);
        // RFC 5658: one Record-Route entry per side, the browser's naming our WSS port.
        const recordRoute = header(invite, 'Record-Route')
          .join(', ')
          .split(/,\s*(?=<)/)
          .map((entry) => /^<sip:([^;>]+);transport=(\w+)/.exec(entry)?.slice(1).join(';transport='));
        expect(recordRoute).toEqual([
          `${PROXY}:${server.sip.port};transport=udp`,
          `${PROXY}:${ports.wss};transport=wss`,
        ]);
        await phone.event('INVITE 200', STEP_MS);
        // The gateway's answer is plain RTP/AVP, which WebRTC cannot take: SIP.js acknowledges the 200 and hangs up (BYE).
        const bye = await waitFor('the ACK and the BYE at gateway 1', STEP_MS, () =>
          gateway1.requests('ACK').length > 0 ? gateway1.requests('BYE')[0] : undefined,
        );
        expect(header(bye, 'Reason').join()).toMatch(/cause=488/);
        expect(await phone.events()).toContain('session Terminated');
      });

      it('is called by a trusted Asterisk through the location service, answers with WebRTC, and gets its ACK and BYE', async () => {
        const ok = await asteriskCalls('1002', async () => {
          await phone.event('invited by 1001', STEP_MS);
          await phone.answer();
        });
        // The answer is the browser's: DTLS-SRTP with its ICE candidates, and a Record-Route entry per side (RFC 5658).
        expect(ok).toMatch(/^m=audio \d+ UDP\/TLS\/RTP\/SAVPF /m);
        expect(ok).toMatch(/^a=fingerprint:sha-256 /m);
        expect(header(ok, 'Record-Route').join(', ')).toMatch(
          new RegExp(
            `:${ports.wss};transport=wss;[^>]*lr>,\\s*<sip:${escapeRegExp(PROXY)}:${server.sip.port};transport=udp;`,
          ),
        );
        // asteriskCalls also saw the ACK and the BYE go down the browser's connection: the BYE got the browser's 200.
      });

      it('closing the tab ends its binding (the sippeers row cleared), and a call to it then gets 480', async () => {
        await phone.close();
        await waitFor('the binding to end with the tab', STEP_MS, () =>
          peerRow(server.storeFile, '1002').ipaddr ? undefined : true,
        );
        expect(await bindingsOf(server, '1002')).toEqual([]);
        const run = await sippCall({
          scenario: 'uac-rejected.xml',
          localIp: ASTERISK,
          target: server.sip,
          service: '1002',
          replace: { STATUS: '480', CALLER: '1001' },
          timeoutSeconds: 10,
        });
        expect(run.code, `a call to the closed tab should get 480: ${run.stdout.slice(-600)}`).toBe(0);
      });
    });

    describe('in Node over WS', () => {
      const register = (user: string) =>
        SipJsNodePhone.register({
          server: `ws://${PROXY}:${ports.ws}`,
          localAddress: NODE_PHONE,
          origin: NODE_ORIGIN,
          user,
          password: `secret${user}`,
          domain: PHONE_DOMAIN,
          timeoutMs: STEP_MS,
        });

      it('registers 1003 with digest from its own address, answers a call from Asterisk down its connection, calls a gateway and hangs up, and unregisters as it stops', async () => {
        const phone = await register('1003');
        try {
          expect(await bindingsOf(server, '1003')).toEqual([
            expect.objectContaining({ source: `ws:${NODE_PHONE}:${phone.localPort}` }),
          ]);
          expect(peerRow(server.storeFile, '1003')).toMatchObject({ ipaddr: NODE_PHONE, port: phone.localPort });
          const ok = await asteriskCalls('1003', async () => {
            const invitation = await phone.invitation(STEP_MS);
            expect(invitation.remoteIdentity.uri.user).toBe('1001');
            await invitation.accept();
          });
          expect(ok).toMatch(new RegExp(`^c=IN IP4 ${escapeRegExp(NODE_PHONE)}\r$`, 'm'));
          const byesBefore = gateway1.requests('BYE').length;
          const outgoing = await phone.call(`sip:${INTERNATIONAL_NUMBER}@${PHONE_DOMAIN}`, STEP_MS);
          await outgoing.bye();
          await waitFor('the BYE at gateway 1', STEP_MS, () =>
            gateway1.requests('BYE').length > byesBefore ? true : undefined,
          );
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
          // asteriskCalls fails unless the BYE got the phone's 200.
          await asteriskCalls('1004', async () => {
            const invitation = await phone.invitation(STEP_MS);
            invitation.delegate = { onAck: () => void (acknowledged = true) };
            await invitation.accept();
          });
          expect(acknowledged).toBe(true);
        } finally {
          await phone.stop(STEP_MS);
        }
      });
    });
  },
);
