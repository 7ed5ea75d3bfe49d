import { afterAll, beforeAll, expect, it } from 'vitest';
import type sip from 'sip';
import type { Baresip } from '../support/baresip.js';
import { metricGrowth } from '../support/connection-checks.js';
import { freePort } from '../support/drouter-process.js';
import { moveExampleGateways, startTestServer, type TestServer, testEngine } from '../support/drouter-server.js';
import { Linphonec } from '../support/linphonec.js';
import {
  baresipCallsGateway,
  baresipRegisters,
  INTERNATIONAL_NUMBER,
  missingPhonePrograms,
  PHONE_DOMAIN,
  PHONE_EXPIRES_SECONDS,
  PHONE_STEP_MS,
} from '../support/real-phones.js';
import { peerRow } from '../support/registering-phone.js';
import { ScriptedGateway } from '../support/scripted-gateway.js';
import { waitFor } from '../support/wait-for.js';
import { describeUnless } from '../support/skip-reason.js';

/**
 * Real phones against the proxy, no trusted sources (so they must answer the
 * digest challenges): baresip 1.0.0 (ctrl_tcp) as peer 1001 and linphonec
 * 5.1.65 (a pipe) as peer 1002, Debian's packages. Both register; their
 * sippeers rows carry what chan_sip writes; baresip calls a number that the
 * example data routes to gateway 1; linphonec calls baresip through the
 * location service; both unregister and their rows are cleared. docs/registrar.md
 * "Real phones". Skipped without the programs, unless DROUTER_TEST_PHONES
 * is set (as .ci/run sets it): then missing is a failure.
 *
 * Proxy on 127.0.0.190, baresip on .191, linphonec on .192, the example's
 * gateways 1 and 2 moved to .193 and .194.
 */
const PROXY = '127.0.0.190';
const BARESIP = '127.0.0.191';
const LINPHONEC = '127.0.0.192';
const GATEWAY1 = '127.0.0.193';
const GATEWAY2 = '127.0.0.194';

const missing = missingPhonePrograms();
const why =
  missing.length > 0
    ? `${missing.join(' and ')} ${missing.length === 1 ? 'is' : 'are'} not installed (apt-get install baresip linphone-cli)`
    : '';

describeUnless(why)(
  `real phones (baresip, linphonec) register, call a gateway and each other, unregister (${testEngine} engine)`,
  () => {
    let server: TestServer;
    let gateway1: ScriptedGateway;
    let gateway2: ScriptedGateway;
    let baresip: Baresip | undefined;
    let linphonec: Linphonec | undefined;

    beforeAll(async () => {
      server = await startTestServer(PROXY, { auth: { trustedSources: [] } });
      gateway1 = await ScriptedGateway.start(GATEWAY1);
      gateway2 = await ScriptedGateway.start(GATEWAY2);
      await moveExampleGateways(server, GATEWAY1, GATEWAY2);
    });
    afterAll(async () => {
      await baresip?.stop(2000);
      await linphonec?.stop(2000);
      gateway1?.close();
      gateway2?.close();
      await server?.close();
    });

    /** How much `name{labels}` grows while `action` runs. */
    const growth = <T>(name: string, labels: Record<string, string>, action: () => Promise<T>) =>
      metricGrowth(server, name, labels, action);
    const nowSeconds = () => Math.floor(Date.now() / 1000);

    it('baresip registers as 1001 with digest, and the row carries its address, expiry, contact and User-Agent', async () => {
      const registration = await baresipRegisters(server, {
        address: BARESIP,
        account: { user: '1001', password: 'secret1001', domain: PHONE_DOMAIN, outboundProxy: server.sip },
        timeoutMs: PHONE_STEP_MS,
      });
      baresip = registration.phone;
      const { sipPort } = baresip;
      expect(registration.registered).toBe(1);
      expect(registration.challenged).toBeGreaterThanOrEqual(1);

      const row = peerRow(server.storeFile, '1001');
      expect(row).toMatchObject({ ipaddr: BARESIP, port: sipPort });
      expect(Number(row.regseconds)).toBeGreaterThan(nowSeconds() + PHONE_EXPIRES_SECONDS - 60);
      expect(Number(row.regseconds)).toBeLessThanOrEqual(nowSeconds() + PHONE_EXPIRES_SECONDS);
      // baresip's Contact user is the account's with a suffix of its own (1001-0x…).
      expect(String(row.fullcontact)).toMatch(
        new RegExp(`^sip:1001[^@]*@${BARESIP.replaceAll('.', '\\.')}:${sipPort}\\b`),
      );
      // The version baresip prints at start: "baresip v1.0.0 Copyright …"; the User-Agent adds the platform.
      const version = /baresip v[\d.]+/.exec(baresip?.printed() ?? '')?.[0];
      expect(version).toBeDefined();
      expect(String(row.useragent)).toMatch(new RegExp(`^${(version ?? '').replaceAll('.', '\\.')} \\(`));
    }, 30_000);

    it('linphonec registers as 1002 with digest, and the row carries its address, expiry, contact and User-Agent', async () => {
      const sipPort = await freePort();
      const challenged = await growth('sipdr_registrations_total', { result: 'challenged' }, async () => {
        const registered = await growth('sipdr_registrations_total', { result: 'registered' }, async () => {
          linphonec = Linphonec.start({
            address: LINPHONEC,
            sipPort,
            rtpPort: await freePort(),
            account: { user: '1002', password: 'secret1002', domain: PHONE_DOMAIN, proxy: server.sip },
          });
          return linphonec.askUntil('status register', /^registered, identity=.*<sip:1002@/m, PHONE_STEP_MS);
        });
        expect(registered.by).toBe(1);
      });
      expect(challenged.by).toBeGreaterThanOrEqual(1);

      const row = peerRow(server.storeFile, '1002');
      expect(row).toMatchObject({ ipaddr: LINPHONEC, port: sipPort });
      expect(Number(row.regseconds)).toBeGreaterThan(nowSeconds() + PHONE_EXPIRES_SECONDS - 60);
      expect(Number(row.regseconds)).toBeLessThanOrEqual(nowSeconds() + PHONE_EXPIRES_SECONDS);
      expect(String(row.fullcontact)).toMatch(
        new RegExp(`^<?sip:1002@${LINPHONEC.replaceAll('.', '\\.')}:${sipPort}\\b`),
      );
      expect(row.useragent).toBe(`Linphonec/${Linphonec.version()}`);
    }, 30_000);

    it(`baresip calls ${INTERNATIONAL_NUMBER}: challenged, then gateway 1 gets its INVITE, ACK and BYE through us, without our Route`, async () => {
      if (!baresip) throw new Error('baresip did not start (see the first test)');
      const { challenges } = await baresipCallsGateway(baresip, server, gateway1, INTERNATIONAL_NUMBER, PHONE_STEP_MS);
      expect(challenges).toBe(1);

      const [invite] = gateway1.requests('INVITE');
      expect(gateway1.requests('INVITE')).toHaveLength(1);
      expect(gateway1.requests('ACK')).toHaveLength(1);
      expect(gateway1.requests('BYE')).toHaveLength(1);
      expect(gateway2.received).toHaveLength(0);
      expect(invite?.uri).toMatch(new RegExp(`^sip:${INTERNATIONAL_NUMBER}@`));
      // The caller, authenticated: its From, and the User-Agent its registration wrote to the row.
      expect(invite?.headers.from?.uri).toMatch(/^sip:1001@/);
      expect(invite?.headers['user-agent']).toBe(peerRow(server.storeFile, '1001').useragent);
      for (const request of gateway1.received) {
        // Sent by us (our Via on top), with our own Route entries taken off (RFC 3261 §16.4).
        expect(request.headers.via?.[0]?.host, `${request.method} at gateway 1`).toBe(server.sip.address);
        expect(routesOf(request).join(' '), `${request.method} at gateway 1`).not.toContain(
          `${server.sip.address}:${server.sip.port}`,
        );
      }
    }, 40_000);

    it('linphonec calls 1001: the location service sends the call to baresip, which answers; linphonec hangs up', async () => {
      if (!baresip || !linphonec) throw new Error('a phone did not start (see the first tests)');
      const phone = linphonec;
      const from = baresip.events.length;
      const printedFrom = phone.printed.length;
      const located = await growth('sipdr_routing_decisions_total', { outcome: 'registered' }, async () => {
        phone.send(`call sip:1001@${PHONE_DOMAIN}`);
        return baresip?.event('CALL_ESTABLISHED', PHONE_STEP_MS, from);
      });
      expect(located.by).toBe(1);
      expect(located.result?.peeruri).toMatch(/^sip:1002@/);
      await phone.expectOutput(/Call \d+ with \S+ connected/, PHONE_STEP_MS, printedFrom);
      expect(gateway1.requests('INVITE')).toHaveLength(1);

      phone.send('terminate');
      await baresip.event('CALL_CLOSED', PHONE_STEP_MS, from);
      await phone.expectOutput(/Call \d+ with \S+ ended/, PHONE_STEP_MS, printedFrom);
    }, 40_000);

    it('both unregister, and their rows are cleared as chan_sip clears them', async () => {
      if (!baresip || !linphonec) throw new Error('a phone did not start (see the first tests)');
      const cleared = { fullcontact: '', ipaddr: '', port: 0, regseconds: 0, useragent: '' };
      const unregistered = await growth('sipdr_registrations_total', { result: 'unregistered' }, async () => {
        linphonec?.send('unregister');
        await waitFor(
          'the row of 1002 cleared',
          PHONE_STEP_MS,
          () => (peerRow(server.storeFile, '1002').fullcontact === '' ? true : undefined),
          { detail: () => linphonec?.printed ?? '' },
        );
        // SIGTERM: baresip unregisters its account, then exits by itself.
        await baresip?.stop(PHONE_STEP_MS);
      });
      expect(baresip.exited).toBe(true);
      expect(unregistered.by).toBe(2);
      expect(peerRow(server.storeFile, '1001')).toMatchObject(cleared);
      expect(peerRow(server.storeFile, '1002')).toMatchObject(cleared);
    }, 40_000);
  },
);

/** The URIs of a request's Route entries. */
function routesOf(request: sip.Message): string[] {
  const routes = (request.headers.route ?? []) as { uri: string }[];
  return routes.map((route) => route.uri);
}
