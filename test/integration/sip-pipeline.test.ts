import { once } from 'node:events';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer, testEngine } from '../support/drouter-server.js';
import { escapeRegExp } from '../support/regexp.js';
import { sipRequest, UdpPeer } from '../support/udp-peer.js';

const SERVER_ADDRESS = '127.0.0.20';
const PHONE_ADDRESS = '127.0.0.21';

let counter = 0;

function request(
  method: string,
  phone: { address: string; port: number },
  extra: { lines?: string[]; uri?: string; cseqMethod?: string; version?: string } = {},
): string {
  counter++;
  return sipRequest([
    `${method} ${extra.uri ?? `sip:${SERVER_ADDRESS}`} SIP/${extra.version ?? '2.0'}`,
    `Via: SIP/2.0/UDP ${phone.address}:${phone.port};branch=z9hG4bK-test-${counter}`,
    'Max-Forwards: 70',
    `From: <sip:1001@${SERVER_ADDRESS}>;tag=from-${counter}`,
    `To: <sip:${SERVER_ADDRESS}>`,
    `Call-ID: pipeline-${counter}@${phone.address}`,
    `CSeq: 1 ${extra.cseqMethod ?? method}`,
    ...(extra.lines ?? []),
  ]).replace(
    'Max-Forwards: 70\r\n',
    (extra.lines ?? []).some((line) => line.startsWith('Max-Forwards')) ? '' : 'Max-Forwards: 70\r\n',
  );
}

function statusOf(response: string | undefined): number | undefined {
  const match = response ? /^SIP\/2\.0 (\d{3})/.exec(response) : null;
  return match ? Number(match[1]) : undefined;
}

describe(`request pipeline on the ${testEngine} engine (real UDP and TCP on loopback)`, () => {
  let server: TestServer;
  let phone: UdpPeer;

  beforeAll(async () => {
    server = await startTestServer(SERVER_ADDRESS);
    phone = await UdpPeer.bind(PHONE_ADDRESS);
  });
  afterAll(async () => {
    phone?.close();
    await server?.close();
  });

  /** Sends a request and returns its final response (drachtio-server sends 100 Trying to an INVITE before the app sees it). */
  async function exchange(text: string): Promise<string | undefined> {
    const callId = /Call-ID: (\S+)/.exec(text)?.[1] ?? '';
    phone.send(text, server.sip);
    return phone.receive(new RegExp(`^SIP/2\\.0 [2-6]\\d\\d [\\s\\S]*Call-ID: ${escapeRegExp(callId)}`, 'i'));
  }

  it('answers OPTIONS to itself with 200, Allow and Accept, a To tag and our Via back', async () => {
    const response = await exchange(request('OPTIONS', phone.address));
    expect(statusOf(response)).toBe(200);
    expect(response).toMatch(
      /\r\nAllow: OPTIONS, REGISTER, INVITE, BYE, UPDATE, INFO, REFER, NOTIFY, PRACK, MESSAGE\r\n/i,
    );
    expect(response).toMatch(/\r\nAccept: application\/sdp\r\n/i);
    expect(response).toMatch(/\r\nTo:\s+<sip:127\.0\.0\.20>;tag=[0-9A-Za-z]+\r\n/);
    // The native engine always stamps received=; drachtio-server (sofia-sip) adds it only when the Via host is not
    // the source (RFC 3261 §18.2.1), and adds rport= even when the client did not ask.
    const echoedVia =
      testEngine === 'drachtio'
        ? /\r\nVia: SIP\/2\.0\/UDP 127\.0\.0\.21:\d+;branch=z9hG4bK-test-\d+;rport=\d+\r\n/
        : /\r\nVia: SIP\/2\.0\/UDP 127\.0\.0\.21:\d+;branch=z9hG4bK-test-\d+;received=127\.0\.0\.21\r\n/;
    expect(response).toMatch(echoedVia);
  });

  it('answers a retransmission from the transaction, with the same To tag', async () => {
    const text = request('OPTIONS', phone.address);
    const first = await exchange(text);
    const second = await exchange(text);
    expect(statusOf(second)).toBe(200);
    expect(/To: [^\r]*tag=([0-9A-Za-z]+)/.exec(second ?? '')?.[1]).toBe(
      /To: [^\r]*tag=([0-9A-Za-z]+)/.exec(first ?? '')?.[1],
    );
  });

  it.each([
    [
      'a method it does not handle',
      request('SUBSCRIBE', { address: PHONE_ADDRESS, port: 1 }),
      405,
      /\r\nAllow: OPTIONS, REGISTER, INVITE, BYE, [A-Z, ]+\r\n/,
    ],
    [
      'Max-Forwards 0',
      request('INVITE', { address: PHONE_ADDRESS, port: 1 }, { lines: ['Max-Forwards: 0'] }),
      483,
      /Too Many Hops/,
    ],
    // drachtio-server's sofia-sip answers this one itself (its sanity check), with the bare reason phrase.
    [
      'a CSeq method that is not the request method',
      request('INVITE', { address: PHONE_ADDRESS, port: 1 }, { cseqMethod: 'ACK' }),
      400,
      testEngine === 'drachtio' ? /400 Bad Request/ : /CSeq Method Does Not Match/,
    ],
    [
      'SIP/7.0',
      request('OPTIONS', { address: PHONE_ADDRESS, port: 1 }, { version: '7.0' }),
      505,
      /Version Not Supported/,
    ],
    [
      'a Via of our own (a loop)',
      request(
        'OPTIONS',
        { address: PHONE_ADDRESS, port: 1 },
        { lines: ['Via: SIP/2.0/UDP OWN_ADDRESS:PORT;branch=z9hG4bK-loop'] },
      ),
      482,
      /Loop Detected/,
    ],
    [
      'a Proxy-Require it does not support',
      request('OPTIONS', { address: PHONE_ADDRESS, port: 1 }, { lines: ['Proxy-Require: foo, bar'] }),
      420,
      /\r\nUnsupported: foo, bar\r\n/,
    ],
    [
      'a tel: Request-URI',
      request('OPTIONS', { address: PHONE_ADDRESS, port: 1 }, { uri: 'tel:+12025551234' }),
      416,
      /Unsupported URI Scheme/,
    ],
  ])('rejects %s', async (_what, template, status, detail) => {
    const text = template
      .replace(`${PHONE_ADDRESS}:1;`, `${phone.address.address}:${phone.address.port};`)
      .replace('OWN_ADDRESS:PORT', `${server.sip.address}:${server.sip.port}`);
    const response = await exchange(text);
    expect(statusOf(response)).toBe(status);
    expect(response).toMatch(detail);
  });

  it('drops UDP garbage silently and keeps serving', async () => {
    // Provisionals of earlier tests (drachtio-server's 100 Trying to an INVITE) are not answers to the garbage.
    while ((await phone.receive(/./, 0)) !== undefined);
    phone.send('this is not SIP at all\r\n\r\n', server.sip);
    phone.send(Buffer.from([0, 1, 2, 3, 255, 254]), server.sip);
    expect(await phone.receive(/./, 300)).toBeUndefined();
    expect(statusOf(await exchange(request('OPTIONS', phone.address)))).toBe(200);
  });

  it('answers over TCP on the same port', async () => {
    const socket = connect({ host: server.sip.address, port: server.sip.port, localAddress: PHONE_ADDRESS });
    await once(socket, 'connect');
    let received = '';
    socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
    socket.write(
      request('OPTIONS', { address: PHONE_ADDRESS, port: socket.localPort ?? 0 }).replace('SIP/2.0/UDP', 'SIP/2.0/TCP'),
    );
    const deadline = Date.now() + 2000;
    while (!/\r\n\r\n/.test(received) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    socket.destroy();
    expect(statusOf(received)).toBe(200);
    expect(received).toMatch(/Via: SIP\/2\.0\/TCP 127\.0\.0\.21/);
  });
});
