import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, type RunningDrouter, runDrouter, waitForOutput } from '../support/drouter-process.js';
import { drachtioUnderTest, engineEnv, testEngine } from '../support/drouter-server.js';
import { parseExposition, sampleValue } from '../support/exposition.js';
import { peerRow } from '../support/registering-phone.js';
import { type SippGateway, sippCall, sippMissing, startSippGateway } from '../support/sipp.js';
import { waitFor } from '../support/wait-for.js';
import { describeUnless } from '../support/skip-reason.js';

/**
 * The product as an operator runs it: `drouter start` on the example data,
 * on the engine under test (on drachtio, against DROUTER_TEST_DRACHTIO_SERVER's
 * drachtio-server, whose contact is then the proxy's address), with probing
 * on. sipp is the phone (1001, digest) on 127.0.0.121 and the two Asterisk
 * gateways of list #1, moved to 127.0.0.122 (answers 503) and 127.0.0.123
 * (answers the call). The native engine listens on 127.0.0.120:5060.
 */
const NATIVE_SIP = '127.0.0.120';
const PHONE = '127.0.0.121';
const GATEWAY_1 = '127.0.0.122';
const GATEWAY_2 = '127.0.0.123';
const PROBE_INTERVAL_MS = 500;
const PROBE_TIMEOUT_MS = 300;

describeUnless(sippMissing())(`drouter start on the example data (${testEngine} engine), sipp phone and gateways`, () => {
  let dir: string;
  let storeFile: string;
  let run: RunningDrouter | undefined;
  let admin: string;
  let sip: { address: string; port: number };
  let gateway1: SippGateway | undefined;
  let gateway2: SippGateway | undefined;

  async function metrics(): Promise<ReturnType<typeof parseExposition>> {
    return parseExposition(await (await fetch(`${admin}/metrics`)).text());
  }

  async function waitForGatewayUp(gwid: string, value: 0 | 1, withinMs: number): Promise<void> {
    await waitFor(`sipdr_gateway_up{gateway="${gwid}"} to become ${value}`, withinMs, async () => (sampleValue(await metrics(), 'sipdr_gateway_up', { gateway: gwid }) === value ? true : undefined), {
      pollMs: 20,
      rethrow: true,
    });
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'drouter-example-'));
    storeFile = join(dir, 'drouter.db');
    const adminPort = await freePort();
    const env = {
      DROUTER_STORE__URL: `sqlite:${storeFile}`,
      DROUTER_ADMIN__PORT: String(adminPort),
      DROUTER_SIP__ADDRESS: NATIVE_SIP,
      DROUTER_SIP__PORT: '5060',
      DROUTER_PROBE__INTERVAL_MS: String(PROBE_INTERVAL_MS),
      DROUTER_PROBE__TIMEOUT_MS: String(PROBE_TIMEOUT_MS),
      // sipp's [authentication] answers MD5 challenges.
      DROUTER_REGISTRAR__ALGORITHMS: 'MD5',
      ...engineEnv(),
    };
    expect((await runDrouter(['seed'], env).finished).code).toBe(0);
    const db = new Database(storeFile);
    db.exec(`UPDATE dr_gateways SET address = '${GATEWAY_1}:5060' WHERE gwid = '1'; UPDATE dr_gateways SET address = '${GATEWAY_2}:5060' WHERE gwid = '2'`);
    db.close();
    gateway1 = await startSippGateway(GATEWAY_1, 'uas-503.xml', 120);
    gateway2 = await startSippGateway(GATEWAY_2, 'uas-answer.xml', 120);
    run = runDrouter(['start'], env);
    await waitForOutput(run, /drouter started/);
    admin = `http://127.0.0.1:${adminPort}`;
    const health = (await (await fetch(`${admin}/health`)).json()) as { sip: { engine: string; listening: string } };
    expect(health.sip.engine).toBe(testEngine);
    const listening = /(\S+):(\d+)$/.exec(health.sip.listening);
    sip = { address: listening?.[1] ?? '', port: Number(listening?.[2]) };
  });

  afterAll(async () => {
    run?.child.kill('SIGTERM');
    await run?.finished;
    await gateway1?.stop();
    await gateway2?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a sipp phone registers with digest; its call goes to gateway 1, which answers 503, and over to gateway 2', async () => {
    const phone = sippCall({
      scenario: 'phone-register.xml',
      localIp: PHONE,
      target: sip,
      service: '1001',
      replace: { USER: '1001', PASSWORD: 'secret1001', PROXY: `${sip.address}:${sip.port}`, HOLD_MS: '3000' },
    });
    const deadline = Date.now() + 5000;
    while (!peerRow(storeFile, '1001').fullcontact && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(peerRow(storeFile, '1001')).toMatchObject({ ipaddr: PHONE, useragent: 'sipp phone' });

    // The phone calls while registered (another sipp on its address: the scenario above holds its socket),
    // answering the proxy's 407 with the peer's credentials: the embedded default trusts no phone.
    const call = await sippCall({ scenario: 'uac-call-auth.xml', localIp: PHONE, target: sip, service: '01144201234567', replace: { HOLD_MS: '100', CALLER: '1001', PASSWORD: 'secret1001' } });
    expect(call.code, call.stderr + call.stdout).toBe(0);
    const families = await metrics();
    expect(sampleValue(families, 'sipdr_failovers_total', { gateway: '1' })).toBe(1);
    expect(sampleValue(families, 'sipdr_failovers_total', { gateway: '2' })).toBeUndefined();
    expect(sampleValue(families, 'sipdr_routing_decisions_total', { outcome: 'routed' })).toBe(1);
    expect(sampleValue(families, 'sipdr_registrations_total', { result: 'registered' })).toBe(1);
    expect(sampleValue(families, 'sipdr_registrations_total', { result: 'challenged' })).toBe(1);

    const registration = await phone;
    expect(registration.code, registration.stderr + registration.stdout).toBe(0);
    expect(peerRow(storeFile, '1001')).toMatchObject({ ipaddr: '', fullcontact: '' });
    if (testEngine === 'drachtio') {
      const { host, port } = drachtioUnderTest();
      expect(sampleValue(await metrics(), 'sipdr_drachtio_connected', { server: `${host}:${port}` })).toBe(1);
    }
  });

  it('a gateway that dies is probed down, and up again when it is back; /metrics shows both', async () => {
    await waitForGatewayUp('1', 1, 3 * PROBE_INTERVAL_MS);
    await gateway1?.stop();
    await waitForGatewayUp('1', 0, PROBE_INTERVAL_MS + PROBE_TIMEOUT_MS + 500);
    let families = await metrics();
    // Nothing listens there any more: the native engine's probe times out; drachtio-server (sofia) takes the
    // ICMP port unreachable for a failed send and answers the probe 503 itself at once.
    const reason = testEngine === 'drachtio' ? 'send-failed' : 'timeout';
    expect(sampleValue(families, 'sipdr_probe_failures_total', { gateway: '1', reason })).toBeGreaterThanOrEqual(1);
    expect(sampleValue(families, 'sipdr_gateway_state', { gateway: '1', state: 'probing-disabled' })).toBe(1);
    expect(sampleValue(families, 'sipdr_gateway_up', { gateway: '2' })).toBe(1);

    gateway1 = await startSippGateway(GATEWAY_1, 'uas-503.xml', 120);
    await waitForGatewayUp('1', 1, PROBE_INTERVAL_MS + PROBE_TIMEOUT_MS + 500);
    families = await metrics();
    expect(sampleValue(families, 'sipdr_gateway_state_changes_total', { gateway: '1', state: 'probing-disabled' })).toBe(1);
    expect(sampleValue(families, 'sipdr_gateway_state_changes_total', { gateway: '1', state: 'active' })).toBe(1);
  });
});
