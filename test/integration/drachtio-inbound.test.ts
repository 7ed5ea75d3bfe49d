import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { configSchema } from '../../src/config/schema.js';
import { DrouterError } from '../../src/errors.js';
import { type RunningServer, startServer } from '../../src/main.js';
import { finalResponse, inviteFrom } from '../support/calling-phone.js';
import { DRACHTIO_BINARY, DrachtioServerProcess } from '../support/drachtio-server.js';
import { freePort } from '../support/drouter-process.js';
import { TRUSTED_TEST_SOURCES } from '../support/drouter-server.js';
import { parseExposition, sampleValue } from '../support/exposition.js';
import { captureLog } from '../support/log-capture.js';
import { peerRow, RegisteringPhone, statusOf } from '../support/registering-phone.js';
import { ScriptedGateway } from '../support/scripted-gateway.js';
import { optionsStatus, UdpPeer } from '../support/udp-peer.js';
import { waitFor } from '../support/wait-for.js';
import { describeUnless } from '../support/skip-reason.js';

/**
 * Inbound mode against a drachtio-server of this file's own
 * (DROUTER_TEST_DRACHTIO_BINARY; skipped without it) whose
 * <request-handler> is tcp://127.0.0.1:PORT: it connects to us for each new
 * request. Its SIP contact 127.0.0.218, a phone on 127.0.0.219, gateway 1
 * moved to 127.0.0.220.
 */
const SIP_ADDRESS = '127.0.0.218';
const PHONE = '127.0.0.219';
const GATEWAY = '127.0.0.220';
const SECRET = 'inbound-test-secret';
const PROBE_INTERVAL_MS = 300;

describeUnless(DRACHTIO_BINARY ? '' : 'DROUTER_TEST_DRACHTIO_BINARY names no drachtio-server')(
  'inbound mode: drachtio-server connects to us (sip.drachtio.listen)',
  () => {
    let drachtio: DrachtioServerProcess;
    let dir: string;
    let listenPort: number;
    let server: RunningServer;
    let phone: UdpPeer;
    let gateway: ScriptedGateway;
    const sip = { address: SIP_ADDRESS, port: 5060 };

    function configFor(listen: number, adminPort: number) {
      return configSchema.parse({
        sip: {
          engine: 'drachtio',
          address: SIP_ADDRESS,
          port: 5060,
          drachtio: { secret: SECRET, listen: { port: listen } },
        },
        admin: { port: adminPort },
        store: { url: `sqlite:${join(dir, 'drouter.db')}` },
        probe: { enabled: true, intervalMs: PROBE_INTERVAL_MS, timeoutMs: 300 },
        registrar: { algorithms: ['MD5'] },
        auth: { trustedSources: [TRUSTED_TEST_SOURCES] },
        log: { level: 'silent' },
      });
    }

    async function health(): Promise<{ status: number; sip: { ok: boolean; detail: string; listening: string } }> {
      const response = await fetch(`${server.adminUrl}/health`);
      return {
        status: response.status,
        sip: ((await response.json()) as { sip: { ok: boolean; detail: string; listening: string } }).sip,
      };
    }

    async function connection(): Promise<(number | undefined)[]> {
      const families = parseExposition(await (await fetch(`${server.adminUrl}/metrics`)).text());
      return ['connected', 'disconnections_total', 'reconnections_total'].map((name) =>
        sampleValue(families, `sipdr_drachtio_${name}`, { server: `127.0.0.1:${listenPort}` }),
      );
    }

    const until = <T>(
      what: string,
      probe: () => Promise<T | undefined> | T | undefined,
      withinMs: number,
    ): Promise<T> =>
      waitFor(what, withinMs, probe, {
        pollMs: 50,
        rethrow: true,
        detail: () => `drachtio-server said:\n${drachtio.log}`,
      });

    const options = () => optionsStatus(phone, sip, `sip:${SIP_ADDRESS}`);

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'drouter-inbound-'));
      listenPort = await freePort();
      drachtio = new DrachtioServerProcess(DRACHTIO_BINARY ?? '', {
        adminPort: await freePort(),
        secret: SECRET,
        sipAddress: SIP_ADDRESS,
        sipPort: 5060,
        requestHandler: `tcp://127.0.0.1:${listenPort}`,
      });
      await drachtio.start();
      server = await startServer(configFor(listenPort, await freePort()), captureLog().log);
      phone = await UdpPeer.bind(PHONE);
      gateway = await ScriptedGateway.start(GATEWAY);
      const db = new Database(join(dir, 'drouter.db'));
      db.exec(`UPDATE dr_gateways SET address = '${GATEWAY}:5060' WHERE gwid = '1'`);
      db.close();
      expect((await server.reload({ inheritState: false })).ok).toBe(true);
    });
    afterAll(async () => {
      phone?.close();
      gateway?.close();
      await server?.stop();
      await drachtio?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('serves OPTIONS, a REGISTER with digest and a call on the connections drachtio-server opens; probes go out on the one it keeps', async () => {
      // No request yet: no connection either, nothing wrong, and the probes wait for one.
      expect(await health()).toMatchObject({
        status: 200,
        sip: { ok: true, listening: `udp+tcp ${SIP_ADDRESS}:5060` },
      });
      expect((await health()).sip.detail).toBe(
        `listening on 127.0.0.1:${listenPort} for drachtio-server; no request from it yet`,
      );
      await new Promise((resolve) => setTimeout(resolve, 2 * PROBE_INTERVAL_MS));
      expect(gateway.requests('OPTIONS')).toHaveLength(0);
      expect(await connection()).toEqual([1, 0, 0]);

      expect(await options()).toBe(200);
      expect((await health()).sip.detail).toMatch(
        new RegExp(
          `^drachtio-server connected to us on 127\\.0\\.0\\.1:${listenPort} since \\S+ \\(0 disconnections since start\\)$`,
        ),
      );
      await until(
        'a probe to reach the gateway',
        () => (gateway.requests('OPTIONS').length > 0 ? true : undefined),
        3 * PROBE_INTERVAL_MS,
      );

      const registering = new RegisteringPhone(phone, sip);
      expect(statusOf(await registering.register('1001', 'secret1001'))).toBe(200);
      expect(peerRow(join(dir, 'drouter.db'), '1001')).toMatchObject({ ipaddr: PHONE });

      const call = inviteFrom(phone, `${SIP_ADDRESS}:5060`, '01144201234567');
      phone.send(call.invite, sip);
      expect(statusOf(await finalResponse(phone, call))).toBe(200);
      expect(gateway.requests('INVITE')).toHaveLength(1);
      await until(
        'the call to stop counting as in progress',
        () => (server.engine.stats().invitesInProgress === 0 ? true : undefined),
        1000,
      );
    });

    it('shows a drachtio-server that went on /health and /metrics; its next connection brings it back', async () => {
      await drachtio.kill();
      const down = await until(
        '/health to show the lost server',
        async () => {
          const now = await health();
          return now.sip.ok ? undefined : now;
        },
        2000,
      );
      expect(down.status).toBe(503);
      expect(down.sip.detail).toMatch(
        /drachtio-server's connection closed since \S+ and none came since \(1 disconnection since start\)$/,
      );
      expect(await connection()).toEqual([0, 1, 0]);

      await drachtio.start();
      expect(await until('an answer to OPTIONS after its return', options, 3000)).toBe(200);
      expect((await health()).sip.ok).toBe(true);
      expect(await connection()).toEqual([1, 1, 1]);
    });

    it('refuses to start on a listen port it cannot bind, naming the keys', async () => {
      const error = await startServer(configFor(listenPort, await freePort()), captureLog().log).catch(
        (caught: unknown) => caught,
      );
      expect(error).toBeInstanceOf(DrouterError);
      expect((error as Error).message).toBe(
        `cannot listen for drachtio-server on 127.0.0.1:${listenPort}: the port is taken (another drouter or another program listens there): change sip.drachtio.listen.address or .port (and its <request-handler>)`,
      );
    });
  },
);
