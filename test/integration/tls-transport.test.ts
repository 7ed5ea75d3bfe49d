import { randomBytes } from 'node:crypto';
import { copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/load.js';
import { ConfigError, DrouterError } from '../../src/errors.js';
import { freePort } from '../support/drouter-process.js';
import { moveExampleGateways, startTestServer, type TestServer, testEngine } from '../support/drouter-server.js';
import { finalResponse, inviteFrom } from '../support/calling-phone.js';
import { closedWithin, optionsOver, optionsOverNewConnection } from '../support/connection-checks.js';
import { captureLog } from '../support/log-capture.js';
import { header, responseTo, withTokenShown } from '../support/message-text.js';
import { escapeRegExp } from '../support/regexp.js';
import { registerOverConnection, statusOf } from '../support/registering-phone.js';
import { ScriptedGateway } from '../support/scripted-gateway.js';
import { describeUnless } from '../support/skip-reason.js';
import { TcpPeer } from '../support/tcp-peer.js';
import { type IssuedCertificate, makeTestCertificates, type TestCertificates } from '../support/test-certificates.js';
import { TlsPeer, type TlsPeerOptions } from '../support/tls-peer.js';
import { UdpPeer } from '../support/udp-peer.js';

/**
 * SIP over TLS on the native engine (issue 22): sip.transports tls, sip.tls. Each server on its own
 * 127.0.0.N: phones and gateways on .17 (phone .18, caller .19, TLS gateway .22, UDP gateway .23);
 * client certificates required on .24 (phones .25); certificates reloaded on .26 (phone .27);
 * strangers and caps on .28 (.29). The certificates are a test CA's and another CA's, made per run.
 */
const ON_DRACHTIO =
  testEngine === 'native'
    ? ''
    : 'native engine only: drachtio-server holds its own TLS (its <contact> and <tls> elements)';

/** The Via and Record-Route entry of the proxy on `transport` at `address:port` (RFC 5658: one per side), token shown as TOKEN. */
const recordRoute = (address: string, port: number, transport: string) =>
  `<sip:${address}:${port};transport=${transport};drt=TOKEN;lr>`;
const recordRoutesOf = (message: string | undefined) =>
  withTokenShown(header(message, 'Record-Route').flatMap((value) => value.split(/,\s*/)));

let pki: TestCertificates;

interface TlsServer {
  server: TestServer;
  /** Where it takes TLS: its address and sip.tls.port. */
  tls: { address: string; port: number };
}

/** The proxy with tls among its transports, on a free sip.tls.port, with `tls` as the rest of sip.tls; `sip` adds to sip, `overrides` to the rest. */
async function startTlsServer(
  address: string,
  tls: Record<string, unknown>,
  more: { sip?: Record<string, unknown>; overrides?: Record<string, unknown>; log?: Logger } = {},
): Promise<TlsServer> {
  const port = await freePort();
  const server = await startTestServer(
    address,
    { sip: { transports: ['udp', 'tcp', 'tls'], tls: { port, ...tls }, ...more.sip }, ...more.overrides },
    more.log,
  );
  return { server, tls: { address, port } };
}

/** sip.tls's files for a server certificate, trusting the test CA. */
const filesOf = (certificate: IssuedCertificate) => ({
  certificateFile: certificate.certificateFile,
  keyFile: certificate.keyFile,
  caFile: pki.authority.certificateFile,
});

/** What a peer turned away at or just after the handshake sees (tlsOutcome). */
const TURNED_AWAY = ['refused at the handshake', 'closed unanswered'];

/** What became of a TLS connection that sent an OPTIONS: the outcomes a refused peer may see, or its answer. */
async function tlsOutcome(from: string, to: TlsServer, options: TlsPeerOptions): Promise<string> {
  const peer = await TlsPeer.connect(from, to.tls, options).catch(() => undefined);
  if (!peer) return 'refused at the handshake';
  try {
    peer.send(optionsOver(peer, from, to.server, { transport: 'TLS' }));
    const answer = await Promise.race([peer.receive(/^SIP\/2\.0 \d{3} /m, 2000), peer.closed().then(() => undefined)]);
    if (answer) return `answered ${statusOf(answer)}`;
    // No answer: closed by now, or still open after the 2 s.
    return (await closedWithin(peer, 0)) === undefined ? 'open, unanswered' : 'closed unanswered';
  } finally {
    peer.close();
  }
}

describeUnless(ON_DRACHTIO)('SIP over TLS (sip.transports tls, sip.tls)', () => {
  beforeAll(() => {
    pki = makeTestCertificates();
  });
  afterAll(() => pki?.remove());

  describe('phones and gateways over TLS', () => {
    const PROXY = '127.0.0.17';
    const PHONE = '127.0.0.18';
    const CALLER = '127.0.0.19';
    const TLS_GATEWAY = '127.0.0.22';
    const GATEWAY_2 = '127.0.0.23';
    let proxy: TlsServer;
    let caller: UdpPeer;
    let gateway1: ScriptedGateway;
    let strangerGateway: ScriptedGateway;
    let gateway2: ScriptedGateway;

    beforeAll(async () => {
      proxy = await startTlsServer(PROXY, filesOf(pki.authority.server([PROXY])), {
        overrides: { proxy: { timeoutMs: 800, inviteTimeoutMs: 1500 } },
      });
      caller = await UdpPeer.bind(CALLER);
      gateway1 = await ScriptedGateway.startTls(TLS_GATEWAY, 5061, pki.authority.server([TLS_GATEWAY]));
      // The same address, a certificate the proxy's CA did not sign.
      strangerGateway = await ScriptedGateway.startTls(TLS_GATEWAY, 5062, pki.otherAuthority.server([TLS_GATEWAY]));
      gateway2 = await ScriptedGateway.start(GATEWAY_2);
    });
    afterAll(async () => {
      caller?.close();
      gateway1?.close();
      strangerGateway?.close();
      gateway2?.close();
      await proxy?.server.close();
    });

    it('registers a phone with digest over TLS (binding source tls), and a call from UDP reaches it down its connection with Via TLS and a Record-Route for each side', async () => {
      const phone = await TlsPeer.connect(PHONE, proxy.tls, { ca: pki.authority.own.certificate });
      try {
        expect(statusOf(await registerOverConnection(phone, PHONE, PROXY, 'tls', '1001', 'secret1001'))).toBe(200);
        const contact = `sip:1001@${PHONE}:${phone.localPort};transport=tls`;
        const peer = (await (await fetch(`${proxy.server.server.adminUrl}/peers/1001`)).json()) as {
          bindings: { contact: string; source: string }[];
        };
        expect(peer.bindings).toEqual([
          expect.objectContaining({ contact, source: `tls:${PHONE}:${phone.localPort}` }),
        ]);

        const call = inviteFrom(caller, `${PROXY}:${proxy.server.sip.port}`, '1001');
        caller.send(call.invite, proxy.server.sip);
        const arrived = await phone.receive(new RegExp(`^INVITE [\\s\\S]*${escapeRegExp(call.callId)}`));
        expect(arrived).toMatch(new RegExp(`^INVITE ${escapeRegExp(contact)} SIP/2\\.0\\r\\n`));
        expect(header(arrived, 'Via')[0]).toMatch(
          new RegExp(`^SIP/2\\.0/TLS ${escapeRegExp(PROXY)}:${proxy.tls.port};branch=z9hG4bK`),
        );
        const bothSides = [recordRoute(PROXY, proxy.tls.port, 'tls'), recordRoute(PROXY, proxy.server.sip.port, 'udp')];
        expect(recordRoutesOf(arrived)).toEqual(bothSides);

        phone.send(responseTo(arrived ?? '', 200, 'OK', contact));
        const ok = await finalResponse(caller, call);
        expect(statusOf(ok)).toBe(200);
        expect(recordRoutesOf(ok)).toEqual(bothSides);
      } finally {
        phone.close();
      }
    });

    it('carries a call to a gateway over TLS (dr_gateways address ;transport=tls) that verifies', async () => {
      await moveExampleGateways(proxy.server, `${TLS_GATEWAY}:5061;transport=tls`, GATEWAY_2);
      const call = inviteFrom(caller, `${PROXY}:${proxy.server.sip.port}`, '01144201234567');
      caller.send(call.invite, proxy.server.sip);
      const ok = await finalResponse(caller, call);
      expect(statusOf(ok)).toBe(200);
      const [forwarded] = gateway1.requests('INVITE');
      expect(forwarded?.uri).toBe(`sip:01144201234567@${TLS_GATEWAY}:5061;transport=tls`);
      expect(forwarded?.headers.via?.[0]).toMatchObject({ protocol: 'TLS', host: PROXY, port: proxy.tls.port });
      expect(recordRoutesOf(ok)).toEqual([
        recordRoute(PROXY, proxy.tls.port, 'tls'),
        recordRoute(PROXY, proxy.server.sip.port, 'udp'),
      ]);
      expect(gateway2.requests('INVITE')).toHaveLength(0);
    });

    it("fails over to gateway 2 (UDP) when gateway 1's certificate does not verify (sip.tls.verifyServers)", async () => {
      await moveExampleGateways(proxy.server, `${TLS_GATEWAY}:5062;transport=tls`, GATEWAY_2);
      const call = inviteFrom(caller, `${PROXY}:${proxy.server.sip.port}`, '01144209999999');
      caller.send(call.invite, proxy.server.sip);
      expect(statusOf(await finalResponse(caller, call))).toBe(200);
      // The proxy tried it and gave up at the handshake: no request reached it.
      expect(strangerGateway.handshakeErrors.length).toBeGreaterThanOrEqual(1);
      expect(strangerGateway.received).toHaveLength(0);
      expect(gateway2.requests('INVITE').map((request) => request.uri)).toEqual([
        `sip:01144209999999@${GATEWAY_2}:5060`,
      ]);
    });
  });

  describe('client certificates required (sip.tls.clientCertificates require)', () => {
    const PROXY = '127.0.0.24';
    const PHONE = '127.0.0.25';
    let proxy: TlsServer;

    beforeAll(async () => {
      proxy = await startTlsServer(PROXY, { ...filesOf(pki.authority.server([PROXY])), clientCertificates: 'require' });
    });
    afterAll(() => proxy?.server.close());

    it('refuses a peer without a client certificate, or with one another CA signed', async () => {
      const ca = pki.authority.own.certificate;
      expect(TURNED_AWAY).toContain(await tlsOutcome(PHONE, proxy, { ca }));
      expect(TURNED_AWAY).toContain(await tlsOutcome(PHONE, proxy, { ca, certificate: pki.otherAuthority.client() }));
    });

    it('registers a phone whose certificate the CA signed', async () => {
      const phone = await TlsPeer.connect(PHONE, proxy.tls, {
        ca: pki.authority.own.certificate,
        certificate: pki.authority.client('1002'),
      });
      try {
        expect(statusOf(await registerOverConnection(phone, PHONE, PROXY, 'tls', '1002', 'secret1002'))).toBe(200);
      } finally {
        phone.close();
      }
    });
  });

  describe("certificates reloaded (SIGHUP's work in-process: reload, reloadCertificates)", () => {
    const PROXY = '127.0.0.26';
    const PHONE = '127.0.0.27';
    let proxy: TlsServer;
    let live: { certificateFile: string; keyFile: string };
    const captured = captureLog();
    const held: TlsPeer[] = [];

    /** Puts `certificate`'s files where the server reads its own. */
    const install = (certificate: IssuedCertificate) => {
      copyFileSync(certificate.certificateFile, live.certificateFile);
      copyFileSync(certificate.keyFile, live.keyFile);
    };
    // What `drouter start` does on SIGHUP (serveUntilSignalled in src/lifecycle/signals.ts), but the log reopened.
    const sighup = () => Promise.all([proxy.server.server.reload(), proxy.server.server.reloadCertificates()]);
    const connect = async () => {
      const peer = await TlsPeer.connect(PHONE, proxy.tls, { ca: pki.authority.own.certificate });
      held.push(peer);
      return peer;
    };

    beforeAll(async () => {
      live = { certificateFile: join(pki.directory, 'live.crt'), keyFile: join(pki.directory, 'live.key') };
      install(pki.authority.server([PROXY]));
      proxy = await startTlsServer(PROXY, { ...live, caFile: pki.authority.certificateFile }, { log: captured.log });
    });
    afterAll(async () => {
      for (const peer of held) peer.close();
      await proxy?.server.close();
    });

    it('keeps an open connection serving, and gives a new handshake the new certificate', async () => {
      const old = await connect();
      const before = old.serverCertificate.serialNumber;
      const renewed = pki.authority.server([PROXY]);
      expect(renewed.serialNumber).not.toBe(before);
      install(renewed);
      await sighup();

      old.send(optionsOver(old, PHONE, proxy.server, { transport: 'TLS' }));
      expect(statusOf(await old.receive(/^SIP\/2\.0 \d{3} /m))).toBe(200);
      expect(old.serverCertificate.serialNumber).toBe(before);
      const fresh = await connect();
      expect(fresh.serverCertificate.serialNumber).toBe(renewed.serialNumber);
      fresh.send(optionsOver(fresh, PHONE, proxy.server, { transport: 'TLS' }));
      expect(statusOf(await fresh.receive(/^SIP\/2\.0 \d{3} /m))).toBe(200);
    });

    it('keeps the certificate it has when a file does not parse, and logs that file at error', async () => {
      const serving = (await connect()).serverCertificate.serialNumber;
      writeFileSync(live.keyFile, 'not a key\n');
      await sighup();
      expect((await connect()).serverCertificate.serialNumber).toBe(serving);
      // pino's level 50 is error.
      expect(
        captured.lines.filter((line) => line.level === 50 && JSON.stringify(line).includes(live.keyFile)),
      ).not.toHaveLength(0);
    });
  });

  describe('bad TLS configuration', () => {
    it('tls in sip.transports without certificateFile and keyFile is a configuration error naming them', () => {
      let error: unknown;
      try {
        resolveConfig('sip:\n  transports: [udp, tcp, tls]\n', 'tls.yaml', {});
      } catch (thrown) {
        error = thrown;
      }
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).violations.map((violation) => violation.key)).toEqual(
        expect.arrayContaining(['sip.tls.certificateFile', 'sip.tls.keyFile']),
      );
    });

    it("a key file that cannot be read, or is not the certificate's, fails the start naming the file", async () => {
      const certificate = pki.authority.server(['127.0.0.28']);
      const startFailure = (keyFile: string) =>
        startTlsServer('127.0.0.28', { ...filesOf(certificate), keyFile }).then(
          async (started) => {
            await started.server.close();
            return undefined;
          },
          (error: unknown) => error,
        );
      const missing = join(pki.directory, 'missing.key');
      const unreadable = await startFailure(missing);
      expect(unreadable).toBeInstanceOf(DrouterError);
      expect(unreadable).toMatchObject({ code: 'DROUTER_ERR_TLS' });
      expect((unreadable as Error).message).toContain(missing);

      const otherKey = pki.authority.server(['127.0.0.28']).keyFile;
      const mismatched = await startFailure(otherKey);
      expect(mismatched).toMatchObject({ code: 'DROUTER_ERR_TLS' });
      expect((mismatched as Error).message).toMatch(
        new RegExp(`${escapeRegExp(otherKey)}|${escapeRegExp(certificate.certificateFile)}`),
      );
    });
  });

  describe('strangers and floods over TLS', () => {
    const PROXY = '127.0.0.28';
    const STRANGER = '127.0.0.27';
    const FLOODER = '127.0.0.29';
    const OTHER = '127.0.0.25';
    let proxy: TlsServer;
    const connect = (from: string) => TlsPeer.connect(from, proxy.tls, { ca: pki.authority.own.certificate });

    beforeAll(async () => {
      proxy = await startTlsServer(PROXY, filesOf(pki.authority.server([PROXY])), {
        sip: { tcp: { maxConnectionsPerSource: 2 } },
      });
    });
    afterAll(() => proxy?.server.close());

    it('closes a connection that sends plain SIP, or garbage after the handshake, and keeps serving', async () => {
      const plain = await TcpPeer.connect(STRANGER, proxy.tls);
      try {
        plain.send(optionsOver(plain, STRANGER, proxy.server));
        expect(await closedWithin(plain, 2000)).toBeDefined();
        expect(await plain.receive(/^SIP\/2\.0/m, 100)).toBeUndefined();
      } finally {
        plain.close();
      }
      const garbage = await connect(STRANGER);
      try {
        // 20 KiB without a CR: no head ever ends, and it passes sip.tcp.maxHeadBytes.
        garbage.send(Buffer.from(randomBytes(20_480).map((byte) => (byte === 13 ? 32 : byte))).toString('latin1'));
        expect(await closedWithin(garbage, 2000)).toBeDefined();
      } finally {
        garbage.close();
      }
      expect(await optionsOverNewConnection(() => connect(STRANGER), STRANGER, proxy.server, 'TLS')).toBe(200);
    });

    it('turns away a third TLS connection from one source (sip.tcp.maxConnectionsPerSource 2), while the two and another source are served', async () => {
      const held = [await connect(FLOODER), await connect(FLOODER)];
      try {
        expect(TURNED_AWAY).toContain(await tlsOutcome(FLOODER, proxy, { ca: pki.authority.own.certificate }));
        expect(await optionsOverNewConnection(() => connect(OTHER), OTHER, proxy.server, 'TLS')).toBe(200);
        for (const peer of held) {
          peer.send(optionsOver(peer, FLOODER, proxy.server, { transport: 'TLS' }));
          expect(statusOf(await peer.receive(/^SIP\/2\.0 \d{3} /m))).toBe(200);
        }
      } finally {
        for (const peer of held) peer.close();
      }
    });
  });
});
