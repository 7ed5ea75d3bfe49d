import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/schema.js';
import { DrouterError } from '../../src/errors.js';
import { type RunningServer, startServer } from '../../src/main.js';
import { DRACHTIO_BINARY, DrachtioServerProcess } from '../support/drachtio-server.js';
import { freePort, runDrouter, waitForOutput } from '../support/drouter-process.js';
import { TRUSTED_TEST_SOURCES } from '../support/drouter-server.js';
import { parseExposition, sampleValue } from '../support/exposition.js';
import { captureLog } from '../support/log-capture.js';
import Database from 'better-sqlite3';
import { inviteFrom, provisionalResponse } from '../support/calling-phone.js';
import { ScriptedGateway } from '../support/scripted-gateway.js';
import { optionsStatus, UdpPeer } from '../support/udp-peer.js';
import { waitFor } from '../support/wait-for.js';
import { describeUnless } from '../support/skip-reason.js';

/**
 * The connection to drachtio-server, against drachtio-server processes of
 * this file's own (DROUTER_TEST_DRACHTIO_BINARY; skipped without it), on
 * 127.0.0.215 for SIP, a phone on 127.0.0.216, gateway 1 moved to 127.0.0.217.
 */
const SIP_ADDRESS = '127.0.0.215';
const PHONE = '127.0.0.216';
const GATEWAY = '127.0.0.217';
const SECRET = 'connection-test-secret';

function drachtioConfig(dir: string, drachtioAdminPort: number, secret: string, httpPort: number) {
  return configSchema.parse({
    sip: { engine: 'drachtio', drachtio: { host: '127.0.0.1', port: drachtioAdminPort, secret } },
    admin: { port: httpPort },
    store: { url: `sqlite:${join(dir, 'drouter.db')}` },
    probe: { enabled: false },
    auth: { trustedSources: [TRUSTED_TEST_SOURCES] },
    log: { level: 'debug' },
  });
}

describe('drouter start with an unreachable drachtio-server', () => {
  it('exits 2 with a message naming the server and the keys to check, and no stack trace', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'drouter-drachtio-'));
    try {
      const adminPort = await freePort();
      const run = runDrouter(['start'], {
        DROUTER_STORE__URL: `sqlite:${join(dir, 'drouter.db')}`,
        DROUTER_ADMIN__PORT: String(await freePort()),
        DROUTER_SIP__ENGINE: 'drachtio',
        DROUTER_SIP__DRACHTIO__PORT: String(adminPort),
      });
      const finished = await run.finished;
      expect(finished.code).toBe(2);
      expect(finished.stderr).toContain(
        `drouter: DROUTER_ERR_DRACHTIO: cannot connect to drachtio-server at 127.0.0.1:${adminPort}: connection refused`,
      );
      expect(finished.stderr).toContain('check sip.drachtio.host and sip.drachtio.port');
      expect(finished.stderr).not.toMatch(/\n\s+at /);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describeUnless(DRACHTIO_BINARY ? '' : 'DROUTER_TEST_DRACHTIO_BINARY names no drachtio-server')(
  'the connection to a drachtio-server of our own',
  () => {
    let drachtio: DrachtioServerProcess;
    let dir: string;
    const servers: RunningServer[] = [];

    beforeAll(async () => {
      drachtio = new DrachtioServerProcess(DRACHTIO_BINARY ?? '', {
        adminPort: await freePort(),
        secret: SECRET,
        sipAddress: SIP_ADDRESS,
        sipPort: 5060,
      });
      await drachtio.start();
    });
    afterAll(async () => {
      await drachtio?.close();
    });
    afterEach(async () => {
      for (const server of servers.splice(0)) await server.stop();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    async function start(secret: string, log = captureLog().log): Promise<RunningServer> {
      dir = mkdtempSync(join(tmpdir(), 'drouter-drachtio-'));
      const server = await startServer(drachtioConfig(dir, drachtio.options.adminPort, secret, await freePort()), log);
      servers.push(server);
      return server;
    }

    async function health(
      server: RunningServer,
    ): Promise<{ status: number; body: { status: string; sip: { ok: boolean; detail: string; listening: string } } }> {
      const response = await fetch(`${server.adminUrl}/health`);
      return {
        status: response.status,
        body: (await response.json()) as { status: string; sip: { ok: boolean; detail: string; listening: string } },
      };
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

    /** An OPTIONS to `to` (drachtio-server's contact): its status, or undefined when none came within 1 s. */
    const optionsAnswered = (phone: UdpPeer, to: { address: string; port: number }) =>
      optionsStatus(phone, to, `sip:${SIP_ADDRESS}`);

    it('refuses to start with a wrong secret, saying which key to fix', async () => {
      const error = await start('not-the-secret').catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(DrouterError);
      expect(error).toMatchObject({ code: 'DROUTER_ERR_DRACHTIO' });
      expect((error as Error).message).toBe(
        `cannot connect to drachtio-server at 127.0.0.1:${drachtio.options.adminPort}: it refused the secret (failed to authenticate to server): sip.drachtio.secret must be the secret of its <admin> element`,
      );
    });

    it('takes its SIP address from the server, shows a lost server on /health, and reconnects when it is back', async () => {
      const captured = captureLog();
      const server = await start(SECRET, captured.log);
      const phone = await UdpPeer.bind(PHONE);
      const gateway = await ScriptedGateway.start(GATEWAY);
      try {
        const db = new Database(join(dir, 'drouter.db'));
        db.exec(`UPDATE dr_gateways SET address = '${GATEWAY}:5060' WHERE gwid = '1'`);
        db.close();
        expect((await server.reload()).ok).toBe(true);
        expect(server.engine.local).toMatchObject({ address: SIP_ADDRESS, port: 5060 });
        const up = await health(server);
        expect(up.status).toBe(200);
        expect(up.body.sip).toMatchObject({ ok: true, listening: `udp+tcp ${SIP_ADDRESS}:5060` });
        expect(up.body.sip.detail).toMatch(
          /^connected to drachtio-server 127\.0\.0\.1:\d+ since \S+ \(0 disconnections since start\)$/,
        );
        expect(await optionsAnswered(phone, server.engine.local)).toBe(200);
        // A call ringing at the gateway when the server goes: it must not stay "in progress" for ever.
        gateway.script = 'ring';
        const call = inviteFrom(phone, `${SIP_ADDRESS}:5060`, '01144201234567');
        phone.send(call.invite, { address: SIP_ADDRESS, port: 5060 });
        expect(await provisionalResponse(phone, call, 180)).toBeDefined();
        expect(server.engine.stats().invitesInProgress).toBe(1);

        await drachtio.kill();
        const down = await until(
          '/health to show the lost server',
          async () => {
            const now = await health(server);
            return now.body.sip.ok ? undefined : now;
          },
          2000,
        );
        expect(down.status).toBe(503);
        expect(down.body.status).toBe('degraded');
        expect(down.body.sip.detail).toMatch(
          /^not connected to drachtio-server 127\.0\.0\.1:\d+ since \S+; reconnecting \(1 disconnection since start\)$/,
        );
        expect(captured.messages()).toContainEqual(
          expect.stringMatching(/^lost the connection to drachtio-server 127\.0\.0\.1:\d+ /),
        );
        expect(server.engine.stats().invitesInProgress).toBe(0);
        // A probe meanwhile waits for the server rather than counting as a failure (which would mark the gateway down).
        let probed: unknown;
        const probe = server.engine
          .request(
            {
              method: 'OPTIONS',
              uri: `sip:${GATEWAY}:5060`,
              destination: { address: GATEWAY, port: 5060, transport: 'udp' },
              from: 'sip:prober@localhost',
            },
            { timeoutMs: 1000 },
          )
          .then((outcome) => (probed = outcome));
        await new Promise((resolve) => setTimeout(resolve, 300));
        expect(probed).toBeUndefined();

        await drachtio.start();
        // Reconnection backs off to at most 2 s between attempts.
        const back = await until(
          'a reconnection',
          async () => {
            const now = await health(server);
            return now.body.sip.ok ? now : undefined;
          },
          5000,
        );
        expect(back.status).toBe(200);
        expect(back.body.sip.detail).toMatch(/\(1 disconnection since start\)$/);
        expect(captured.messages()).toContainEqual(
          expect.stringMatching(/^connected to drachtio-server 127\.0\.0\.1:\d+ again /),
        );
        expect(
          await until(
            'an answer to OPTIONS after the reconnection',
            () => optionsAnswered(phone, server.engine.local),
            3000,
          ),
        ).toBe(200);
        expect(await probe).toMatchObject({ kind: 'response', status: 200 });
      } finally {
        phone.close();
        gateway.close();
      }
    });

    it('drouter start stays up while drachtio-server is killed and started again: /health shows the outage, /metrics counts it, SIP comes back', async () => {
      dir = mkdtempSync(join(tmpdir(), 'drouter-drachtio-'));
      const adminPort = await freePort();
      const admin = `http://127.0.0.1:${adminPort}`;
      const server = `127.0.0.1:${drachtio.options.adminPort}`;
      const run = runDrouter(['start'], {
        DROUTER_STORE__URL: `sqlite:${join(dir, 'drouter.db')}`,
        DROUTER_ADMIN__PORT: String(adminPort),
        DROUTER_SIP__ENGINE: 'drachtio',
        DROUTER_SIP__DRACHTIO__PORT: String(drachtio.options.adminPort),
        DROUTER_SIP__DRACHTIO__SECRET: SECRET,
        DROUTER_PROBE__ENABLED: 'false',
        DROUTER_AUTH__TRUSTED_SOURCES: TRUSTED_TEST_SOURCES,
      });
      const phone = await UdpPeer.bind(PHONE);
      const sipAt = { address: SIP_ADDRESS, port: 5060 };
      const connection = async () => {
        const families = parseExposition(await (await fetch(`${admin}/metrics`)).text());
        return ['connected', 'disconnections_total', 'reconnections_total'].map((name) =>
          sampleValue(families, `sipdr_drachtio_${name}`, { server }),
        );
      };
      const healthStatus = async () => (await fetch(`${admin}/health`)).status;
      try {
        await waitForOutput(run, /drouter started/);
        expect(await healthStatus()).toBe(200);
        expect(await connection()).toEqual([1, 0, 0]);
        expect(await optionsAnswered(phone, sipAt)).toBe(200);

        await drachtio.kill();
        await until(
          '/health to show the outage',
          async () => ((await healthStatus()) === 503 ? true : undefined),
          2000,
        );
        expect(await connection()).toEqual([0, 1, 0]);
        await waitForOutput(run, /"msg":"lost the connection to drachtio-server/);

        await drachtio.start();
        await until('a reconnection', async () => ((await healthStatus()) === 200 ? true : undefined), 5000);
        expect(await connection()).toEqual([1, 1, 1]);
        expect(
          await until('an answer to OPTIONS after the reconnection', () => optionsAnswered(phone, sipAt), 3000),
        ).toBe(200);
        expect(run.child.exitCode).toBeNull();
      } finally {
        phone.close();
        run.child.kill('SIGTERM');
        await run.finished;
      }
    });
  },
);
