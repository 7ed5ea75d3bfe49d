import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ackOf, type Call, finalResponse, inviteFrom, withProxyAuthorization } from '../support/calling-phone.js';
import { runDrouter } from '../support/drouter-process.js';
import { moveExampleGateways, startTestServer, type TestServer, testEngine } from '../support/drouter-server.js';
import { parseExposition, sampleValue } from '../support/exposition.js';
import { captureLog, type CapturedLog } from '../support/log-capture.js';
import { challengesOf, digestAuthorization, RegisteringPhone, statusOf } from '../support/registering-phone.js';
import { ScriptedGateway } from '../support/scripted-gateway.js';
import { UdpPeer } from '../support/udp-peer.js';

/**
 * Per-source limits and bans (docs/security.md "Under attack"): a password guesser on
 * one 127.0.0.N is banned after limits.ban.failures failures and then gets
 * no answer at all, while a phone on another address goes on registering
 * and calling; `drouter bans` (GET /bans) lists the ban and `drouter unban`
 * (POST /bans/:address/lift) lifts it; a source over its INVITE rate is
 * dropped; scanners' User-Agents are dropped unanswered. Proxy on
 * 127.0.0.151, the guesser on .152, a phone on .153, a flooder on .154, a
 * scanner on .155, gateways on .156/.157.
 */
const PROXY = '127.0.0.151';
const GUESSER = '127.0.0.152';
const PHONE = '127.0.0.153';
const FLOODER = '127.0.0.154';
const SCANNER = '127.0.0.155';
const GATEWAY_1 = '127.0.0.156';
const GATEWAY_2 = '127.0.0.157';
const FAILURES = 5;

describe(`bans and rate limits (${testEngine} engine)`, () => {
  let server: TestServer;
  let captured: CapturedLog;
  let gateway1: ScriptedGateway;
  let gateway2: ScriptedGateway;

  beforeAll(async () => {
    captured = captureLog();
    server = await startTestServer(
      PROXY,
      {
        auth: { trustedSources: [] },
        limits: { ban: { failures: FAILURES, seconds: 60 }, invite: { perSecond: 1, burst: 20 } },
      },
      captured.log,
    );
    await moveExampleGateways(server, GATEWAY_1, GATEWAY_2);
    gateway1 = await ScriptedGateway.start(GATEWAY_1);
    gateway2 = await ScriptedGateway.start(GATEWAY_2);
  });
  afterAll(async () => {
    gateway1?.close();
    gateway2?.close();
    await server?.close();
  });

  const admin = (path: string, init?: RequestInit) => fetch(`${server.server.adminUrl}${path}`, init);
  const metric = async (name: string, labels: Record<string, string> = {}) =>
    sampleValue(parseExposition(await (await admin('/metrics')).text()), name, labels) ?? Number.NaN;
  const proxy = () => `${server.sip.address}:${server.sip.port}`;

  /** One wrong guess: REGISTER, its 401, the REGISTER again with a wrong password; the second answer's status (undefined: none came). */
  async function guess(phone: RegisteringPhone): Promise<number | undefined> {
    const first = await phone.send(phone.request('1001'));
    const [challenge] = challengesOf(first);
    if (!challenge) return statusOf(first);
    return statusOf(await phone.send(phone.request('1001', [phone.authorization('1001', 'guess', challenge)])));
  }

  /** A call from `peer` as 1001 with the right password: the final status of its authenticated INVITE. */
  async function authenticatedCall(peer: UdpPeer, number: string): Promise<number | undefined> {
    const call: Call = inviteFrom(peer, proxy(), number);
    peer.send(call.invite, server.sip);
    const response = await finalResponse(peer, call);
    peer.send(ackOf(call.invite, response), server.sip);
    const [challenge] = challengesOf(response);
    if (!challenge) return statusOf(response);
    peer.send(
      withProxyAuthorization(
        call,
        digestAuthorization(
          'Proxy-Authorization',
          'INVITE',
          '1001',
          'secret1001',
          challenge,
          `sip:${number}@${proxy()}`,
        ),
      ),
      server.sip,
    );
    return statusOf(
      await peer.receive(
        new RegExp(
          `^SIP/2\\.0 [2-6]\\d\\d [\\s\\S]*Call-ID: ${call.callId.replaceAll('.', '\\.')}\\r\\nCSeq: 2 INVITE`,
        ),
        4000,
      ),
    );
  }

  it('bans a password guesser after limits.ban.failures failures, while a phone elsewhere registers and calls', async () => {
    const guesser = await UdpPeer.bind(GUESSER);
    const phonePeer = await UdpPeer.bind(PHONE);
    try {
      const attacker = new RegisteringPhone(guesser, server.sip);
      const statuses: (number | undefined)[] = [];
      for (let i = 0; i < FAILURES + 2; i++) statuses.push(await guess(attacker));
      expect(statuses.slice(0, FAILURES)).toEqual(Array<number>(FAILURES).fill(401));
      // Banned: no answer at all, not even to the right password.
      expect(statuses.slice(FAILURES)).toEqual([undefined, undefined]);
      expect(await attacker.send(attacker.request('1001'))).toBeUndefined();

      const phone = new RegisteringPhone(phonePeer, server.sip);
      expect(statusOf(await phone.register('1001', 'secret1001'))).toBe(200);
      expect(await authenticatedCall(phonePeer, '01144201230101')).toBe(200);

      expect(await metric('sipdr_bans_total')).toBe(1);
      expect(await metric('sipdr_requests_dropped_total', { reason: 'banned' })).toBeGreaterThanOrEqual(3);
      const banLines = captured.messages().filter((line) => line.includes(`'${GUESSER}' banned`));
      expect(banLines).toHaveLength(1);
      expect(banLines[0]).toMatch(
        new RegExp(`'${GUESSER.replaceAll('.', '\\.')}' banned for 60 seconds - ${FAILURES} failed authentications`),
      );
    } finally {
      guesser.close();
      phonePeer.close();
    }
  }, 30_000);

  it('lists the ban (GET /bans, drouter bans) and lifts it (drouter unban, POST /bans/:address/lift): the source is answered again', async () => {
    const bans = (await (await admin('/bans')).json()) as {
      address: string;
      strikes: number;
      remainingSeconds: number;
      reason: string;
    }[];
    expect(bans.map((ban) => ban.address)).toEqual([GUESSER]);
    expect(bans[0]?.strikes).toBe(1);
    expect(bans[0]?.remainingSeconds).toBeGreaterThan(50);
    expect(bans[0]?.reason).toMatch(/failed authentications/);

    const drouter = (...args: string[]) => runDrouter([...args, '--url', server.server.adminUrl], {}).finished;
    const listed = await drouter('bans');
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(
      new RegExp(
        `^\\s*address\\s+until\\s+left\\s+ban\\s+reason\\n\\s*${GUESSER.replaceAll('.', '\\.')}\\s+\\S+Z\\s+\\d+ s\\s+1\\s+${FAILURES} failed authentications in 60 s\\n$`,
      ),
    );
    const lifted = await drouter('unban', GUESSER);
    expect([lifted.code, lifted.stdout]).toEqual([0, `ban of ${GUESSER} lifted\n`]);
    expect(await (await admin('/bans')).json()).toEqual([]);
    expect((await drouter('bans')).stdout).toBe('no source is banned\n');
    expect((await drouter('unban', GUESSER)).code).toBe(1);
    const again = await admin(`/bans/${GUESSER}/lift`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
    });
    expect(again.status).toBe(404);

    const guesser = await UdpPeer.bind(GUESSER);
    try {
      expect(statusOf(await new RegisteringPhone(guesser, server.sip).register('1001', 'secret1001'))).toBe(200);
    } finally {
      guesser.close();
    }
  });

  it("drops INVITEs over the source's rate (limits.invite) unanswered, and none reaches a gateway", async () => {
    const flooder = await UdpPeer.bind(FLOODER);
    try {
      const before = await metric('sipdr_requests_dropped_total', { reason: 'rate-limited' });
      const calls = Array.from({ length: 100 }, (_, i) =>
        inviteFrom(flooder, proxy(), `0114420123${String(i).padStart(4, '0')}`),
      );
      for (const call of calls) flooder.send(call.invite, server.sip);
      // Counted by Call-ID: an unacknowledged 407 is retransmitted (timer G).
      const challenged = new Set<string>();
      for (
        let response = await flooder.receive(/^SIP\/2\.0 407 /, 1000);
        response !== undefined;
        response = await flooder.receive(/^SIP\/2\.0 407 /, 1000)
      ) {
        challenged.add(/^Call-ID: (.*)$/im.exec(response)?.[1] ?? '');
      }
      const challenges = challenged.size;
      // The burst of 20, and what a second or two at 1/s earns back while the flood is read.
      expect(challenges).toBeGreaterThanOrEqual(20);
      expect(challenges).toBeLessThanOrEqual(23);
      expect((await metric('sipdr_requests_dropped_total', { reason: 'rate-limited' })) - before).toBe(
        100 - challenges,
      );
      expect(
        gateway1
          .requests('INVITE')
          .filter((request) => calls.some((call) => call.callId === request.headers['call-id'])),
      ).toHaveLength(0);
      expect(captured.messages().filter((line) => line.includes('over the INVITE rate')).length).toBeLessThanOrEqual(1);
    } finally {
      flooder.close();
    }
  }, 20_000);

  it("drops a scanner's requests unanswered, counts them, and bans the scanner", async () => {
    const scanner = await UdpPeer.bind(SCANNER);
    try {
      const before = await metric('sipdr_requests_dropped_total', { reason: 'scanner' });
      const { address, port } = scanner.address;
      for (let i = 0; i < FAILURES + 3; i++) {
        scanner.send(
          [
            `OPTIONS sip:100@${proxy()} SIP/2.0`,
            `Via: SIP/2.0/UDP ${address}:${port};branch=z9hG4bK-scan-${i};rport`,
            'Max-Forwards: 70',
            `From: "sipvicious" <sip:100@1.1.1.1>;tag=scan${i}`,
            `To: "sipvicious" <sip:100@1.1.1.1>`,
            `Call-ID: scan-${i}`,
            'CSeq: 1 OPTIONS',
            'User-Agent: friendly-scanner',
            'Content-Length: 0',
            '',
            '',
          ].join('\r\n'),
          server.sip,
        );
      }
      expect(await scanner.receive(/^SIP\/2\.0/, 1000)).toBeUndefined();
      const dropped = (await metric('sipdr_requests_dropped_total', { reason: 'scanner' })) - before;
      const banned = await metric('sipdr_requests_dropped_total', { reason: 'banned' });
      // FAILURES scanner requests reach the ban; the rest are dropped as banned before they are read.
      expect(dropped).toBe(FAILURES);
      expect(banned).toBeGreaterThanOrEqual(3);
      expect(
        captured.messages().filter((line) => line.includes(SCANNER) && /scanner/i.test(line)).length,
      ).toBeGreaterThanOrEqual(1);
      const bans = (await (await admin('/bans')).json()) as { address: string; reason: string }[];
      expect(bans.find((ban) => ban.address === SCANNER)?.reason).toMatch(/friendly-scanner/);
    } finally {
      scanner.close();
    }
  });
});
