import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DialogSigner } from '../../src/proxy/core/dialog-token.js';
import { type Call, finalResponse, inviteFrom } from '../support/calling-phone.js';
import { freePort } from '../support/drouter-process.js';
import { moveExampleGateways, startTestServer, type TestServer, testEngine } from '../support/drouter-server.js';
import { captureLog, type CapturedLog } from '../support/log-capture.js';
import { statusOf } from '../support/registering-phone.js';
import { ScriptedGateway } from '../support/scripted-gateway.js';
import { sipRequest, UdpPeer } from '../support/udp-peer.js';

/**
 * Signed dialogs (docs/security.md, "Who may call""): our Record-Route carries a token
 * over the dialog's Call-ID and the caller's tag; a request inside a dialog
 * is relayed only when its top Route is ours and carries its dialog's
 * token. A stranger's forged in-dialog request (the To tag and our Route
 * are all it takes to look like one) must not reach its Request-URI.
 * Proxy on 127.0.0.80, phone on 127.0.0.81, the victim a forged request
 * names on 127.0.0.77, gateways 1 and 2 of the example data moved to
 * 127.0.0.104/105 (127.0.0.106 for the restart).
 */
const PROXY = '127.0.0.80';
const PHONE = '127.0.0.81';
const VICTIM = '127.0.0.77';
const GATEWAY_1 = '127.0.0.104';
const GATEWAY_2 = '127.0.0.105';
const RESTART_GATEWAY = '127.0.0.106';
/** drachtio-server relays whatever carries its own Route, statelessly, without asking us (docs/engines.md "Where it differs" 6). */
const onDrachtio = testEngine === 'drachtio';

function header(message: string | undefined, name: string): string | undefined {
  return new RegExp(`^${name}:\\s*(.*?)\\r?$`, 'mi').exec(message ?? '')?.[1];
}

describe(`signed dialogs (${testEngine} engine)`, () => {
  let server: TestServer;
  let captured: CapturedLog;
  let phone: UdpPeer;
  let victim: UdpPeer;
  let gateway1: ScriptedGateway;
  let gateway2: ScriptedGateway;

  beforeAll(async () => {
    captured = captureLog();
    server = await startTestServer(PROXY, {}, captured.log);
    await moveExampleGateways(server, GATEWAY_1, GATEWAY_2);
    phone = await UdpPeer.bind(PHONE);
    victim = await UdpPeer.bind(VICTIM);
    gateway1 = await ScriptedGateway.start(GATEWAY_1);
    gateway2 = await ScriptedGateway.start(GATEWAY_2);
  });
  afterAll(async () => {
    phone?.close();
    victim?.close();
    gateway1?.close();
    gateway2?.close();
    await server?.close();
  });

  /** A request inside a made-up dialog: a To tag, `route` on top, the victim in the Request-URI. */
  function forged(method: string, route: string, branch: string, callId = `forged-${branch}@${PHONE}`): string {
    return sipRequest([
      `${method} sip:victim@${VICTIM}:${victim.address.port} SIP/2.0`,
      `Via: SIP/2.0/UDP ${PHONE}:${phone.address.port};branch=z9hG4bK-${branch}`,
      'Max-Forwards: 70',
      `Route: ${route}`,
      `From: <sip:1001@${PROXY}>;tag=attacker`,
      `To: <sip:victim@${VICTIM}>;tag=victim`,
      `Call-ID: ${callId}`,
      `CSeq: 1 ${method}`,
    ]);
  }

  const ourRoute = (params = '') => `<sip:${server.sip.address}:${server.sip.port}${params};lr>`;

  async function call(number: string): Promise<{ call: Call; recordRoute: string; toTag: string }> {
    const made = inviteFrom(phone, `${server.sip.address}:${server.sip.port}`, number);
    phone.send(made.invite, server.sip);
    const ok = await finalResponse(phone, made);
    expect(statusOf(ok)).toBe(200);
    return {
      call: made,
      recordRoute: header(ok, 'Record-Route') ?? '',
      toTag: /tag=([^;>\s]+)/.exec(header(ok, 'To') ?? '')?.[1] ?? '',
    };
  }

  /** A token of the forged request's own dialog, but made with a secret this server does not have. */
  const OLD_SECRET_CALL_ID = `forged-old-secret@${PHONE}`;

  it.each([
    ['no token', () => ourRoute()],
    [
      'the token of another dialog',
      () => ourRoute(`;drt=${new DialogSigner('any').token('another-call@somewhere', 'attacker')}`),
    ],
    [
      'a token made with another secret (from before a secret change)',
      () => ourRoute(`;drt=${new DialogSigner('the-old-secret').token(OLD_SECRET_CALL_ID, 'attacker')}`),
    ],
  ])(
    'refuses a forged in-dialog INVITE with %s: 403, a security line, and nothing reaches the Request-URI',
    async (what, route) => {
      const branch = `forged-${Math.floor(Math.random() * 1e9)}`;
      phone.send(
        forged('INVITE', route(), branch, what.includes('secret') ? OLD_SECRET_CALL_ID : undefined),
        server.sip,
      );
      const reached = await victim.receive(/^INVITE /, 700);
      if (onDrachtio) {
        expect(reached).toMatch(/^INVITE sip:victim@/);
        return;
      }
      expect(statusOf(await phone.receive(new RegExp(`branch=z9hG4bK-${branch}`)))).toBe(403);
      expect(reached).toBeUndefined();
      expect(captured.messages().at(-1)).toMatch(
        new RegExp(
          `^In-dialog INVITE from '${PHONE.replaceAll('.', '\\.')}:\\d+' refused - its Route carries no valid dialog token`,
        ),
      );
    },
  );

  it('drops a forged ACK: no answer, nothing reaches the Request-URI', async () => {
    phone.send(forged('ACK', ourRoute(), 'forged-ack'), server.sip);
    const reached = await victim.receive(/^ACK /, 700);
    if (onDrachtio) expect(reached).toMatch(/^ACK sip:victim@/);
    else expect(reached).toBeUndefined();
  });

  it("relays the ACK and BYE of a call set up through it, and a request from the callee's side (the token is over the caller's tag, its To tag there)", async () => {
    const { call: made, recordRoute, toTag } = await call('01144201234000');
    if (!onDrachtio) expect(recordRoute).toMatch(/;drt=[A-Za-z0-9_-]{22};lr>$/);
    const inDialog = (method: string, cseq: number, branch: string) =>
      sipRequest([
        `${method} sip:asterisk@${GATEWAY_1}:5060 SIP/2.0`,
        `Via: SIP/2.0/UDP ${PHONE}:${phone.address.port};branch=z9hG4bK-${branch}`,
        'Max-Forwards: 70',
        `Route: ${recordRoute}`,
        `From: "Phone 1001" <sip:1001@127.0.0.1>;tag=${made.fromTag}`,
        `To: <sip:01144201234000@${server.sip.address}:${server.sip.port}>;tag=${toTag}`,
        `Call-ID: ${made.callId}`,
        `CSeq: ${cseq} ${method}`,
      ]);
    const before = gateway1.requests('ACK').length;
    phone.send(inDialog('ACK', 1, 'signed-ack'), server.sip);
    // The callee's side: From and To swapped, to the phone's contact, through the same Record-Route.
    const callee = await UdpPeer.bind(GATEWAY_1);
    try {
      callee.send(
        sipRequest([
          `INFO sip:1001@${PHONE}:${phone.address.port} SIP/2.0`,
          `Via: SIP/2.0/UDP ${GATEWAY_1}:${callee.address.port};branch=z9hG4bK-callee-info`,
          'Max-Forwards: 70',
          `Route: ${recordRoute}`,
          `From: <sip:01144201234000@${server.sip.address}:${server.sip.port}>;tag=${toTag}`,
          `To: "Phone 1001" <sip:1001@127.0.0.1>;tag=${made.fromTag}`,
          `Call-ID: ${made.callId}`,
          'CSeq: 1 INFO',
        ]),
        server.sip,
      );
      expect(await phone.receive(/^INFO sip:1001@/, 2000)).toMatch(
        new RegExp(`Call-ID: ${made.callId.replaceAll('.', '\\.')}`),
      );
    } finally {
      callee.close();
    }
    phone.send(inDialog('BYE', 2, 'signed-bye'), server.sip);
    expect(statusOf(await phone.receive(/^SIP\/2\.0 \d+ [\s\S]*CSeq: 2 BYE/))).toBe(200);
    expect(gateway1.requests('ACK').length).toBe(before + 1);
    expect(gateway1.requests('BYE').at(-1)?.headers['call-id']).toBe(made.callId);
  });
});

describe(`a signed dialog across a restart (${testEngine} engine)`, () => {
  // On drachtio the BYE goes through drachtio-server, which needs nothing of us for it.
  it('takes the BYE of a call set up before the restart: the secret is kept in the store (drouter_shared)', async () => {
    const first = await startTestServer('127.0.0.82', {}, undefined, await freePort());
    await moveExampleGateways(first, RESTART_GATEWAY, RESTART_GATEWAY);
    const { port } = first.sip;
    const phone = await UdpPeer.bind('127.0.0.83');
    const gateway = await ScriptedGateway.start(RESTART_GATEWAY);
    let second: TestServer | undefined;
    try {
      const made = inviteFrom(phone, `${first.sip.address}:${port}`, '01144201234001');
      phone.send(made.invite, first.sip);
      const ok = await finalResponse(phone, made);
      expect(statusOf(ok)).toBe(200);
      const recordRoute = header(ok, 'Record-Route') ?? '';
      const toTag = /tag=([^;>\s]+)/.exec(header(ok, 'To') ?? '')?.[1] ?? '';
      await first.server.stop();
      second = await startTestServer('127.0.0.82', { store: { url: `sqlite:${first.storeFile}` } }, undefined, port);
      phone.send(
        sipRequest([
          `BYE sip:asterisk@${RESTART_GATEWAY}:5060 SIP/2.0`,
          `Via: SIP/2.0/UDP 127.0.0.83:${phone.address.port};branch=z9hG4bK-after-restart`,
          'Max-Forwards: 70',
          `Route: ${recordRoute}`,
          `From: "Phone 1001" <sip:1001@127.0.0.1>;tag=${made.fromTag}`,
          `To: <sip:01144201234001@${first.sip.address}:${port}>;tag=${toTag}`,
          `Call-ID: ${made.callId}`,
          'CSeq: 2 BYE',
        ]),
        second.sip,
      );
      expect(statusOf(await phone.receive(/CSeq: 2 BYE/))).toBe(200);
      expect(gateway.requests('BYE')).toHaveLength(1);
    } finally {
      phone.close();
      gateway.close();
      await second?.close();
      await first.close().catch(() => undefined);
    }
  });
});
