import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type sip from 'sip';
import type { Baresip } from '../support/baresip.js';
import { metricGrowth } from '../support/connection-checks.js';
import { freePort } from '../support/drouter-process.js';
import { moveExampleGateways, startTestServer, type TestServer, testEngine } from '../support/drouter-server.js';
import {
  baresipCallsGateway,
  baresipRegisters,
  INTERNATIONAL_NUMBER,
  missingPhonePrograms,
  PHONE_DOMAIN,
  PHONE_EXPIRES_SECONDS,
  PHONE_STEP_MS,
} from '../support/real-phones.js';
import { escapeRegExp } from '../support/regexp.js';
import { peerRow } from '../support/registering-phone.js';
import { ScriptedGateway } from '../support/scripted-gateway.js';
import { describeUnless } from '../support/skip-reason.js';
import { sippCall, sippMissing } from '../support/sipp.js';
import { makeTestCertificates, type TestCertificates } from '../support/test-certificates.js';

/**
 * A real phone over TLS (issue 22): Debian's baresip 1.0.0 registers as 1001
 * on the proxy's sip.tls.port (`;transport=tls` in its account and its
 * outbound, sip_cafile the test CA, the proxy's certificate naming its
 * 127.0.0.N as an IP subjectAltName) with digest; sipp as Asterisk (a
 * trusted source, over UDP) calls 1001 and baresip answers, down the
 * connection it registered on; baresip calls a number the example data
 * routes to gateway 1 (UDP), answering the 407; it unregisters as it stops.
 *
 * baresip 1.0.0 (libre 1.1.0) has sip_cafile and sip_certificate but no
 * sip_verify_server, and does not check the server's certificate: it
 * registered as well to a proxy whose certificate another CA signed, and to
 * one whose certificate names another address. sip_cafile is set as a phone
 * would be set up; this test cannot show that the phone checked ours
 * (tls-transport.test.ts checks the certificate with Node's TLS client).
 *
 * Skipped without baresip or sipp, unless DROUTER_TEST_PHONES (or
 * DROUTER_TEST_SIPP) is set, as .ci/run sets them: then missing is a
 * failure. Native engine only (drachtio-server holds its own TLS).
 *
 * Proxy on 127.0.0.112, baresip on .113, sipp as Asterisk on .114, the
 * example's gateways 1 and 2 moved to .115 and .116.
 */
const PROXY = '127.0.0.112';
const BARESIP = '127.0.0.113';
const ASTERISK = '127.0.0.114';
const GATEWAY1 = '127.0.0.115';
const GATEWAY2 = '127.0.0.116';

function whySkipped(): string {
  if (testEngine !== 'native')
    return 'native engine only: drachtio-server holds its own TLS (its <contact> and <tls> elements)';
  if (missingPhonePrograms().includes('baresip')) return 'baresip is not installed (apt-get install baresip)';
  return sippMissing();
}

describeUnless(whySkipped())(
  'baresip over TLS registers with digest, is called through the location service, calls a gateway and unregisters',
  () => {
    let pki: TestCertificates;
    let server: TestServer;
    /** Where the proxy takes TLS: its address and sip.tls.port. */
    let tls: { address: string; port: number };
    let gateway1: ScriptedGateway;
    let gateway2: ScriptedGateway;
    let baresip: Baresip | undefined;
    let sipPort: number;

    beforeAll(async () => {
      pki = makeTestCertificates();
      const certificate = pki.authority.server([PROXY]);
      tls = { address: PROXY, port: await freePort() };
      server = await startTestServer(PROXY, {
        sip: {
          transports: ['udp', 'tcp', 'tls'],
          tls: {
            port: tls.port,
            certificateFile: certificate.certificateFile,
            keyFile: certificate.keyFile,
            caFile: pki.authority.certificateFile,
          },
        },
        // The phone answers digest challenges; Asterisk is trusted by its address, as an SBC is.
        auth: { trustedSources: [`${ASTERISK}/32`] },
      });
      gateway1 = await ScriptedGateway.start(GATEWAY1);
      gateway2 = await ScriptedGateway.start(GATEWAY2);
      await moveExampleGateways(server, GATEWAY1, GATEWAY2);
    });
    afterAll(async () => {
      await baresip?.stop(2000);
      gateway1?.close();
      gateway2?.close();
      await server?.close();
      pki?.remove();
    });

    const growth = <T>(name: string, labels: Record<string, string>, action: () => Promise<T>) =>
      metricGrowth(server, name, labels, action);
    /** The established TCP connections with the proxy's TLS port or baresip's at one end. */
    const connectionsOfInterest = () =>
      establishedTcp().filter((each) => [`${PROXY}:${tls.port}`, `${BARESIP}:${sipPort + 1}`].includes(each.local));

    it('baresip registers as 1001 over TLS with digest: the row carries the connection it came on and its TLS contact', async () => {
      const registration = await baresipRegisters(server, {
        address: BARESIP,
        account: { user: '1001', password: 'secret1001', domain: PHONE_DOMAIN, outboundProxy: tls, transport: 'tls' },
        caFile: pki.authority.certificateFile,
        timeoutMs: PHONE_STEP_MS,
      });
      baresip = registration.phone;
      sipPort = baresip.sipPort;
      expect(registration.registered).toBe(1);
      expect(registration.challenged).toBeGreaterThanOrEqual(1);

      // One connection, from baresip to our TLS port. baresip binds its sockets to its address but
      // not the TCP connections it makes: the kernel picks 127.0.0.1 as their source.
      const [connection, ...others] = connectionsOfInterest();
      expect(others).toEqual([]);
      expect(connection?.local).toBe(`${tls.address}:${tls.port}`);
      const row = peerRow(server.storeFile, '1001');
      expect(`${String(row.ipaddr)}:${String(row.port)}`).toBe(connection?.remote);
      const nowSeconds = Math.floor(Date.now() / 1000);
      expect(Number(row.regseconds)).toBeGreaterThan(nowSeconds + PHONE_EXPIRES_SECONDS - 60);
      expect(Number(row.regseconds)).toBeLessThanOrEqual(nowSeconds + PHONE_EXPIRES_SECONDS);
      // Its Contact names its own TLS port, the one after sip_listen's (which no call uses: see the next test).
      expect(String(row.fullcontact)).toMatch(
        new RegExp(`^sip:1001[^@]*@${escapeRegExp(BARESIP)}:${sipPort + 1};transport=tls$`),
      );
    }, 30_000);

    it('sipp as Asterisk calls 1001 over UDP: the INVITE goes down the connection baresip registered on, baresip answers, the BYE reaches it', async () => {
      if (!baresip) throw new Error('baresip did not start (see the first test)');
      const phone = baresip;
      const before = connectionsOfInterest();
      const from = phone.events.length;
      const located = await growth('sipdr_routing_decisions_total', { outcome: 'registered' }, () =>
        sippCall({
          scenario: 'uac-call.xml',
          localIp: ASTERISK,
          target: server.sip,
          service: '1001',
          replace: { HOLD_MS: '1000' },
        }),
      );
      // sipp's exit 0: 200 to the INVITE and to the BYE, both through us.
      expect(located.result.code, located.result.stdout + located.result.stderr).toBe(0);
      expect(located.by).toBe(1);
      const established = await phone.event('CALL_ESTABLISHED', PHONE_STEP_MS, from);
      expect(established).toMatchObject({ direction: 'incoming', peerdisplayname: 'Phone 1001' });
      await phone.event('CALL_CLOSED', PHONE_STEP_MS, from);
      // No connection to baresip's own TLS port: the call went down the one it registered on.
      expect(connectionsOfInterest()).toEqual(before);
    }, 40_000);

    it(`baresip calls ${INTERNATIONAL_NUMBER} over TLS: challenged, then gateway 1 gets its INVITE, ACK and BYE over UDP through us, Record-Routed on both sides`, async () => {
      if (!baresip) throw new Error('baresip did not start (see the first test)');
      const { challenges } = await baresipCallsGateway(baresip, server, gateway1, INTERNATIONAL_NUMBER, PHONE_STEP_MS);
      expect(challenges).toBe(1);

      expect(gateway1.received.map((request) => request.method)).toEqual(['INVITE', 'ACK', 'BYE']);
      expect(gateway2.received).toHaveLength(0);
      const [invite] = gateway1.requests('INVITE');
      expect(invite?.uri).toMatch(new RegExp(`^sip:${INTERNATIONAL_NUMBER}@${escapeRegExp(GATEWAY1)}:5060\\b`));
      expect(invite?.headers.from?.uri).toMatch(/^sip:1001@/);
      for (const request of gateway1.received) {
        // Our UDP Via on top, baresip's TLS Via under it.
        expect(viasOf(request), `${request.method} at gateway 1`).toEqual([
          `UDP ${server.sip.address}:${server.sip.port}`,
          `TLS ${BARESIP}:${sipPort + 1}`,
        ]);
      }
      // RFC 5658: one entry per side, the gateway's (UDP) first, then the phone's (TLS).
      expect(recordRoutesOf(invite)).toEqual([
        `${PROXY}:${server.sip.port};transport=udp`,
        `${PROXY}:${tls.port};transport=tls`,
      ]);
    }, 40_000);

    it('baresip unregisters over TLS as it stops, and the row is cleared', async () => {
      if (!baresip) throw new Error('baresip did not start (see the first test)');
      const phone = baresip;
      const unregistered = await growth('sipdr_registrations_total', { result: 'unregistered' }, () =>
        phone.stop(PHONE_STEP_MS),
      );
      expect(phone.exited).toBe(true);
      expect(unregistered.by).toBe(1);
      expect(peerRow(server.storeFile, '1001')).toMatchObject({
        fullcontact: '',
        ipaddr: '',
        port: 0,
        regseconds: 0,
        useragent: '',
      });
    }, 30_000);
  },
);

/** Every established IPv4 TCP connection of this machine, each end as `address:port` (/proc/net/tcp: state 01). */
function establishedTcp(): { local: string; remote: string }[] {
  // An end is `0100007F:1F90`: the address as a little-endian 32-bit word, the port big-endian, in hex.
  const end = (hex: string) => {
    const [address = '', port = ''] = hex.split(':');
    const bytes = (address.match(/../g) ?? []).map((byte) => Number.parseInt(byte, 16)).reverse();
    return `${bytes.join('.')}:${Number.parseInt(port, 16)}`;
  };
  return readFileSync('/proc/net/tcp', 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((line) => line.trim().split(/\s+/))
    .filter((fields) => fields[3] === '01')
    .map((fields) => ({ local: end(fields[1] ?? ''), remote: end(fields[2] ?? '') }));
}

/** A request's Vias as `TRANSPORT host:port`. */
function viasOf(request: sip.Message): string[] {
  return (request.headers.via ?? []).map((via) => `${via.protocol} ${via.host}:${via.port}`);
}

/** A request's Record-Route entries as `host:port;transport=…` (the dialog token left out). */
function recordRoutesOf(request: sip.Message | undefined): string[] {
  const entries = (request?.headers['record-route'] ?? []) as {
    uri: { host: string; port: number; params: Record<string, string | null> };
  }[];
  return entries.map(({ uri }) => `${uri.host}:${uri.port};transport=${uri.params.transport}`);
}
