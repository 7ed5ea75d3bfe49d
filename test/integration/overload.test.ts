import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cancelOf, finalResponse, inviteFrom, provisionalResponse } from '../support/calling-phone.js';
import { moveExampleGateways, startTestServer, type TestServer, testEngine } from '../support/drouter-server.js';
import { parseExposition, sampleValue } from '../support/exposition.js';
import { captureLog, type CapturedLog } from '../support/log-capture.js';
import { RegisteringPhone, statusOf } from '../support/registering-phone.js';
import { ScriptedGateway } from '../support/scripted-gateway.js';
import { UdpPeer } from '../support/udp-peer.js';
import { waitFor } from '../support/wait-for.js';
import { describeUnless } from '../support/skip-reason.js';

/**
 * Load shedding (docs/security.md "Under attack"), at a small scale so that it is
 * deterministic: the cap of INVITEs in progress set to 1, and the event
 * loop held busy by the test (the server runs in this process). Past the
 * limits a new INVITE or REGISTER gets 503 with Retry-After before any work;
 * a request inside a dialog goes on; a gateway's silence while we ran late
 * is not held against it. Proxy on 127.0.0.160 and .165, a phone on .161,
 * gateways on .162/.163 and .166/.167.
 */
const PHONE = '127.0.0.161';

interface Setup {
  server: TestServer;
  gateway1: ScriptedGateway;
  gateway2: ScriptedGateway;
  phone: UdpPeer;
}

/** A proxy on `address` with the example gateways moved to scripted ones on `gateways`, and the phone. */
async function proxyWithGateways(
  address: string,
  gateways: readonly [string, string],
  overrides: Record<string, unknown>,
  log?: CapturedLog['log'],
): Promise<Setup> {
  const server = await startTestServer(address, overrides, log);
  await moveExampleGateways(server, gateways[0], gateways[1]);
  return {
    server,
    gateway1: await ScriptedGateway.start(gateways[0]),
    gateway2: await ScriptedGateway.start(gateways[1]),
    phone: await UdpPeer.bind(PHONE),
  };
}

/** Closes what a beforeAll got to open. */
async function closeAll(setup: Partial<Setup>): Promise<void> {
  setup.phone?.close();
  setup.gateway1?.close();
  setup.gateway2?.close();
  await setup.server?.close();
}

/** Holds the event loop in `chunks` pieces of `ms`, each in its own turn, so that the lag sampler sees every one; `during` runs in the first. */
async function busyLoop(chunks: number, ms: number, during: () => void = () => undefined): Promise<void> {
  for (let chunk = 0; chunk < chunks; chunk++) {
    await new Promise<void>((resolve) =>
      setImmediate(() => {
        if (chunk === chunks - 1) during();
        const until = performance.now() + ms;
        while (performance.now() < until) {
          // busy: this is the overload
        }
        resolve();
      }),
    );
    // A turn of timers between the chunks: the sampler runs there.
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
}

describe(`load shedding: a cap of INVITEs in progress (${testEngine} engine)`, () => {
  let server: TestServer;
  let captured: CapturedLog;
  let phone: UdpPeer;
  let gateway1: ScriptedGateway;
  let gateway2: ScriptedGateway;

  beforeAll(async () => {
    captured = captureLog();
    ({ server, gateway1, gateway2, phone } = await proxyWithGateways(
      '127.0.0.160',
      ['127.0.0.162', '127.0.0.163'],
      { overload: { maxInvitesInProgress: 1, retryAfterSeconds: 7 } },
      captured.log,
    ));
  });
  afterAll(() => closeAll({ server, gateway1, gateway2, phone }));

  const proxy = () => `${server.sip.address}:${server.sip.port}`;

  it('answers a new INVITE and a REGISTER 503 with Retry-After while the cap is reached, and serves them again after', async () => {
    gateway1.script = 'ring';
    const ringing = inviteFrom(phone, proxy(), '01144201230201');
    phone.send(ringing.invite, server.sip);
    expect(statusOf(await provisionalResponse(phone, ringing, 180))).toBe(180);

    const second = inviteFrom(phone, proxy(), '01144201230202');
    phone.send(second.invite, server.sip);
    const refused = await finalResponse(phone, second);
    expect(statusOf(refused)).toBe(503);
    expect(refused).toMatch(/^Retry-After: 7\r$/m);
    const register = await new RegisteringPhone(phone, server.sip).send(
      new RegisteringPhone(phone, server.sip).request('1001'),
    );
    expect(statusOf(register)).toBe(503);
    expect(gateway1.requests('INVITE').filter((request) => request.headers['call-id'] === second.callId)).toHaveLength(
      0,
    );

    phone.send(cancelOf(ringing), server.sip);
    expect(statusOf(await finalResponse(phone, ringing))).toBe(487);
    // On drachtio the 487 is drachtio-server's: our attempt ends a moment later.
    await waitFor('no INVITE in progress', 3000, async () => {
      const health = (await (await fetch(`${server.server.adminUrl}/health`)).json()) as {
        sip: { invitesInProgress: number };
      };
      return health.sip.invitesInProgress === 0 ? true : undefined;
    });
    gateway1.script = 'answer';
    const third = inviteFrom(phone, proxy(), '01144201230203');
    phone.send(third.invite, server.sip);
    expect(statusOf(await finalResponse(phone, third))).toBe(200);

    const families = parseExposition(await (await fetch(`${server.server.adminUrl}/metrics`)).text());
    expect(sampleValue(families, 'sipdr_requests_shed_total', { method: 'INVITE' })).toBe(1);
    expect(sampleValue(families, 'sipdr_requests_shed_total', { method: 'REGISTER' })).toBe(1);
    expect(captured.messages().filter((line) => line.startsWith('overloaded')).length).toBeGreaterThanOrEqual(1);
  });

  it('sends Retry-After with every 503 it makes: no gateway up', async () => {
    for (const gwid of ['1', '2'])
      await fetch(`${server.server.adminUrl}/gateways/${gwid}/disable`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
      });
    try {
      const call = inviteFrom(phone, proxy(), '01144201230204');
      phone.send(call.invite, server.sip);
      const response = await finalResponse(phone, call);
      expect(statusOf(response)).toBe(503);
      expect(response).toMatch(/^Retry-After: 7\r$/m);
    } finally {
      for (const gwid of ['1', '2'])
        await fetch(`${server.server.adminUrl}/gateways/${gwid}/enable`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
        });
    }
  });
});

describeUnless(
  testEngine === 'native'
    ? ''
    : "native engine only: the test holds this process's event loop late, and on drachtio the transactions and their timers are drachtio-server's",
)('load shedding: the event loop running late (native engine)', () => {
  let server: TestServer;
  let phone: UdpPeer;
  let gateway1: ScriptedGateway;
  let gateway2: ScriptedGateway;

  beforeAll(async () => {
    // The lateness rule alone (maxLoopUtilization 1): the held loop is also busy, and the busy share eases off over a second or two.
    ({ server, gateway1, gateway2, phone } = await proxyWithGateways('127.0.0.165', ['127.0.0.166', '127.0.0.167'], {
      overload: { maxLagMs: 50, maxLoopUtilization: 1 },
      proxy: { timeoutMs: 300 },
      probe: { enabled: false },
    }));
  });
  afterAll(() => closeAll({ server, gateway1, gateway2, phone }));

  const proxy = () => `${server.sip.address}:${server.sip.port}`;
  const gatewayState = async (gwid: string) =>
    ((await (await fetch(`${server.server.adminUrl}/gateways/${gwid}`)).json()) as { state: string }).state;

  it('sheds a new INVITE that arrives while the loop runs late, and serves the next once it is on time', async () => {
    const late = inviteFrom(phone, proxy(), '01144201230211');
    await busyLoop(3, 150, () => phone.send(late.invite, server.sip));
    const shed = await finalResponse(phone, late);
    expect(statusOf(shed)).toBe(503);
    expect(shed).toMatch(/^Retry-After: 5\r$/m);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const onTime = inviteFrom(phone, proxy(), '01144201230212');
    phone.send(onTime.invite, server.sip);
    expect(statusOf(await finalResponse(phone, onTime))).toBe(200);
  });

  it('does not mark a gateway down for a silence measured while we ran late, and does once we are on time', async () => {
    gateway1.script = 'silent';
    gateway2.script = 'answer';
    try {
      const call = inviteFrom(phone, proxy(), '01144201230213');
      phone.send(call.invite, server.sip);
      await new Promise((resolve) => setTimeout(resolve, 20));
      // The attempt to gateway 1 times out (300 ms) while the loop is late: the call fails over, gateway 1 stays up.
      await busyLoop(4, 120);
      expect(statusOf(await finalResponse(phone, call))).toBe(200);
      expect(await gatewayState('1')).toBe('active');

      // On time again (past proxy.timeoutMs and the margin): the same silence marks it down.
      await new Promise((resolve) => setTimeout(resolve, 1500));
      const again = inviteFrom(phone, proxy(), '01144201230214');
      phone.send(again.invite, server.sip);
      expect(statusOf(await finalResponse(phone, again))).toBe(200);
      await waitFor('gateway 1 marked down by its silence', 2000, async () =>
        (await gatewayState('1')) === 'probing-disabled' ? true : undefined,
      );
    } finally {
      gateway1.script = 'answer';
    }
  });
});
