import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, type RunningDrouter, runDrouter, waitForOutput } from '../support/drouter-process.js';
import { REPO_ROOT } from '../support/repo-root.js';
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

describeUnless(sippMissing())(
  `drouter start on the example data (${testEngine} engine), sipp phone and gateways`,
  () => {
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
      await waitFor(
        `sipdr_gateway_up{gateway="${gwid}"} to become ${value}`,
        withinMs,
        async () => (sampleValue(await metrics(), 'sipdr_gateway_up', { gateway: gwid }) === value ? true : undefined),
        {
          pollMs: 20,
          rethrow: true,
        },
      );
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
      db.exec(
        `UPDATE dr_gateways SET address = '${GATEWAY_1}:5060' WHERE gwid = '1'; UPDATE dr_gateways SET address = '${GATEWAY_2}:5060' WHERE gwid = '2'`,
      );
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
      while (!peerRow(storeFile, '1001').fullcontact && Date.now() < deadline)
        await new Promise((resolve) => setTimeout(resolve, 50));
      expect(peerRow(storeFile, '1001')).toMatchObject({ ipaddr: PHONE, useragent: 'sipp phone' });

      // The phone calls while registered (another sipp on its address: the scenario above holds its socket),
      // answering the proxy's 407 with the peer's credentials: the embedded default trusts no phone.
      const call = await sippCall({
        scenario: 'uac-call-auth.xml',
        localIp: PHONE,
        target: sip,
        service: '01144201234567',
        replace: { HOLD_MS: '100', CALLER: '1001', PASSWORD: 'secret1001' },
      });
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
      // The round trip of its last probe, as people read it: 0.84 ms, 8.5 ms, 12 ms, never 8.482229000001098 ms.
      const listed = await runDrouter(['gateways', '--url', admin], {}).finished;
      const rtt =
        new RegExp(`^\\s*1\\s+${GATEWAY_1.replaceAll('.', '\\.')}:5060\\s+active\\s+\\S+\\s+(\\S+) ms\\s`, 'm').exec(
          listed.stdout,
        )?.[1] ?? listed.stdout;
      expect(rtt).toMatch(/^(0\.0*[1-9]\d?|[1-9](\.\d)?|[1-9]\d+)$/);
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
      expect(
        sampleValue(families, 'sipdr_gateway_state_changes_total', { gateway: '1', state: 'probing-disabled' }),
      ).toBe(1);
      expect(sampleValue(families, 'sipdr_gateway_state_changes_total', { gateway: '1', state: 'active' })).toBe(1);
    });
  },
);

/**
 * What a newcomer sees on a fresh machine, where nothing answers at the
 * example gateways' addresses: a first start that prints no warning and
 * says nothing of a leader lease, and docs/schema.md's sample route,
 * printed as it stands there. The node listens on 127.0.0.195 and
 * 127.0.0.198; its gateways are moved to 127.0.0.196 and 127.0.0.197,
 * where nothing listens (a test elsewhere may hold 127.0.0.2 or .3).
 */
describe('a fresh start on the example data, nothing answering at the gateways', () => {
  let dir: string;
  let run: RunningDrouter | undefined;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'drouter-fresh-'));
  });
  afterAll(async () => {
    run?.child.kill('SIGTERM');
    await run?.finished;
    rmSync(dir, { recursive: true, force: true });
  });

  /** The lines at pino's warn level (40) or above. */
  const warnings = (stdout: string) =>
    stdout.split('\n').filter((line) => line.startsWith('{') && (JSON.parse(line) as { level: number }).level >= 40);

  it('the first start (schema created, example data loaded, probing off) logs no warning and no leader-lease line', async () => {
    const env = {
      DROUTER_STORE__URL: `sqlite:${join(dir, 'first.db')}`,
      DROUTER_ADMIN__PORT: String(await freePort()),
      DROUTER_SIP__ADDRESS: '127.0.0.195',
      DROUTER_PROBE__ENABLED: 'false',
      DROUTER_HA__LEASE__RENEW_INTERVAL_MS: '200',
    };
    const first = runDrouter(['start'], env);
    run = first;
    const started = await waitForOutput(first, /drouter started/);
    expect(started).toContain(
      '(schema created, example data loaded): 2 gateways, 0 carriers, 3 rules, 4 callers in dr_groups, 4 peers; SIP',
    );
    // Several renewals of the lease go by, and the stop hands it back.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    first.child.kill('SIGTERM');
    const finished = await first.finished;
    run = undefined;
    expect(finished.code).toBe(0);
    expect(warnings(finished.stdout)).toEqual([]);
    expect(finished.stdout).not.toMatch(/leader|standing by/);
  });

  it("prints docs/schema.md's sample route once probing has taken the gateways down; a second start is quiet; a default route added is warned about", async () => {
    const store = join(dir, 'probed.db');
    const adminPort = await freePort();
    const env = {
      DROUTER_STORE__URL: `sqlite:${store}`,
      DROUTER_ADMIN__PORT: String(adminPort),
      DROUTER_SIP__ADDRESS: '127.0.0.198',
      DROUTER_PROBE__TIMEOUT_MS: '300',
    };
    expect((await runDrouter(['seed'], env).finished).code).toBe(0);
    const db = new Database(store);
    db.exec(
      "UPDATE dr_gateways SET address = '127.0.0.196:5060' WHERE gwid = '1'; UPDATE dr_gateways SET address = '127.0.0.197:5060' WHERE gwid = '2'",
    );
    db.close();
    run = runDrouter(['start'], env);
    await waitForOutput(run, /drouter started/);
    const admin = `http://127.0.0.1:${adminPort}`;
    await waitFor('both gateways disabled by probing', 3000, async () => {
      const gateways = (await (await fetch(`${admin}/gateways`)).json()) as { state: string }[];
      return gateways.every((gateway) => gateway.state === 'probing-disabled') ? true : undefined;
    });

    const routed = await runDrouter(['route', '01144201234567', '--from', '1001@127.0.0.1'], env).finished;
    expect(routed.code).toBe(0);
    const at = /^at {7}(\S+)$/m.exec(routed.stdout)?.[1] ?? '';
    expect(new Date(at).toISOString()).toBe(at);
    // The table's columns are as wide as the addresses, which differ here: compared with runs of blanks as one.
    const sample = documentedSample()
      .replace('http://127.0.0.1:8080', admin)
      .replaceAll('127.0.0.2:5060', '127.0.0.196:5060')
      .replaceAll('127.0.0.3:5060', '127.0.0.197:5060')
      .replace(/^at {7}\S+$/m, `at       ${at}`);
    const blanksAsOne = (text: string) => text.trim().replace(/[ ]+/g, ' ');
    expect(blanksAsOne(routed.stdout)).toBe(blanksAsOne(sample));

    // The state the first probes found is kept (probe.persistState): a second start, and its first probes, warn of nothing.
    const first = run;
    first.child.kill('SIGTERM');
    expect((await first.finished).code).toBe(0);
    expect(warnings(first.stdout()).map((line) => (JSON.parse(line) as { msg: string }).msg)).toEqual([
      'gateway 1: active → probing-disabled (no answer to the probe within 300 ms)',
      'gateway 2: active → probing-disabled (no answer to the probe within 300 ms)',
    ]);
    run = runDrouter(['start'], env);
    await waitForOutput(run, /drouter started/);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(warnings(run.stdout())).toEqual([]);

    const added = new Database(store);
    added.exec("INSERT INTO dr_rules (groupid, prefix, gwlist, description) VALUES ('0', '', '#1', 'Default Route')");
    added.close();
    const reloaded = await runDrouter(['reload'], env).finished;
    expect(reloaded.stdout).toMatch(
      /^warning {2}dr_rules row ruleid=4: column prefix = "": is empty: this rule catches every number of group 0 /m,
    );
    expect(reloaded.stdout).toMatch(/^reloaded: 0 errors, 0 rows skipped, 1 warning; /m);
  });
});

/** The output of the sample route in docs/schema.md "Example data", without its command line. */
function documentedSample(): string {
  const text = readFileSync(join(REPO_ROOT, 'docs', 'schema.md'), 'utf8');
  const block = /```sh\n\$ node dist\/cli\.js route 01144201234567 --from 1001@127\.0\.0\.1\n([\s\S]*?)```/.exec(text);
  if (!block?.[1])
    throw new Error('docs/schema.md has no sample of `node dist/cli.js route 01144201234567 --from 1001@127.0.0.1`');
  return block[1];
}
