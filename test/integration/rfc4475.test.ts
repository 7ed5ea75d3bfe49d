import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer, testEngine } from '../support/drouter-server.js';
import { escapeRegExp } from '../support/regexp.js';
import { challengesOf, registerAuthorization } from '../support/registering-phone.js';
import { TcpPeer } from '../support/tcp-peer.js';
import { optionsStatus, sipRequest, UdpPeer } from '../support/udp-peer.js';

/**
 * The 50 RFC 4475 torture messages, byte for byte over UDP to the running
 * server (no caller in them is in dr_groups, so nothing is forwarded).
 * Every one: the server stays up and answers the next request. For the
 * messages whose handling is in place, the exact handling of INDEX.md.
 */
const DATA = join(import.meta.dirname, '..', 'data', 'rfc4475');
const SERVER = '127.0.0.40';
const SENDER = '127.0.0.41';

/** INDEX.md's expectation, for the messages it is checked for: a status, or null for a silent drop. */
const EXPECTED: Readonly<Record<string, number | null>> = {
  'badinv01.dat': 400,
  'clerr.dat': 400,
  'ncl.dat': 400,
  'scalar02.dat': 400,
  'quotbal.dat': 400,
  'ltgtruri.dat': 400,
  'lwsruri.dat': 400,
  'lwsstart.dat': 400,
  'trws.dat': 400,
  'escruri.dat': 400,
  'badaspec.dat': 400,
  'baddn.dat': 400,
  'insuf.dat': 400,
  'regbadct.dat': 400,
  'regaut01.dat': 401,
  'multi01.dat': 400,
  'mcl01.dat': 400,
  'badvers.dat': 505,
  'mismatch01.dat': 400,
  'mismatch02.dat': 400,
  'bext01.dat': 420,
  'unkscm.dat': 416,
  'novelsc.dat': 416,
  'zeromf.dat': 200,
  // Max-Forwards 0068 is 1*DIGIT: it passes the checks; its To tag makes it an in-dialog request of no dialog of ours.
  'wsinv.dat': 403,
  'bcast.dat': null,
  'bigcode.dat': null,
  'scalarlg.dat': null,
  'unreason.dat': null,
  'noreason.dat': null,
};

/**
 * On drachtio, sofia-sip inside drachtio-server parses every message first and
 * answers or drops what it refuses; only the rest reaches us. The messages
 * whose handling differs from EXPECTED, per transport (the raw checks of
 * raw-request-check.ts are the native engine's: on drachtio these messages
 * meet sofia's parser instead). docs/engines.md, "The drachtio engine"", difference 12.
 */
const VIA_ELSEWHERE = null; // the top Via names another transport than the one it came on: sofia drops it (nta.c agent_check_request_via)
const SOFIA_DROPS = null; // sofia cannot parse the Via or the request line and has no Via to answer to
const ON_DRACHTIO: Readonly<Record<'udp' | 'tcp', Readonly<Record<string, number | null>>>> = {
  udp: {
    'badinv01.dat': SOFIA_DROPS,
    'lwsruri.dat': SOFIA_DROPS,
    // drachtio-server sends 100 Trying, then drachtio-srf's parser refuses the request line (two spaces) and drops it: no final.
    'lwsstart.dat': null,
    // sofia takes these, they reach us and are answered as any other (routed: 404; OPTIONS: 200).
    'escruri.dat': 404,
    'badaspec.dat': 200,
    // Its To tag makes it a request inside a dialog, which drachtio-server matches itself: none, so 481.
    'wsinv.dat': 481,
    // sofia's 505 goes to the Via's sent-by (c.example.com), not to the source.
    'badvers.dat': null,
    'scalar02.dat': VIA_ELSEWHERE,
    'trws.dat': VIA_ELSEWHERE,
    'regaut01.dat': VIA_ELSEWHERE,
    'bext01.dat': VIA_ELSEWHERE,
    'unkscm.dat': VIA_ELSEWHERE,
    'novelsc.dat': VIA_ELSEWHERE,
  },
  tcp: {
    'badinv01.dat': SOFIA_DROPS,
    'lwsruri.dat': SOFIA_DROPS,
    // It reaches us; sofia's parser allows the trailing space the raw checks refuse.
    'trws.dat': 200,
    'badaspec.dat': VIA_ELSEWHERE,
    'bext01.dat': VIA_ELSEWHERE,
    'escruri.dat': VIA_ELSEWHERE,
    'lwsstart.dat': VIA_ELSEWHERE,
    'zeromf.dat': VIA_ELSEWHERE,
    'wsinv.dat': VIA_ELSEWHERE,
  },
};

/** The final response (or drop) a message gets on the engine under test, over `transport`. */
function expectedFor(file: string, transport: 'udp' | 'tcp'): number | null | undefined {
  const onDrachtio = ON_DRACHTIO[transport];
  if (testEngine === 'drachtio' && file in onDrachtio) return onDrachtio[file];
  return EXPECTED[file];
}

/**
 * drachtio-server v0.9.4 dies (SIGSEGV) on a REGISTER whose first Contact has no
 * URI scheme (controller.cpp:1580, strcmp on a NULL url_scheme), and on an
 * INVITE whose Contact has no host when the app answers it (sip-dialog.cpp:102,
 * a NULL url_host compared); both still in its newest source. On drachtio the
 * mangled run leaves out every REGISTER and INVITE whose Contact has no scheme.
 */
function crashesDrachtioServer(message: Buffer): boolean {
  const text = message.toString('latin1');
  if (!/^(?:REGISTER|INVITE) /.test(text)) return false;
  return [...text.matchAll(/^(?:contact|m)[ \t]*:[ \t]*([^\r\n]*)/gim)].some(([, value = '']) =>
    value.split(',').some((part) => !/^\s*(?:\*|[a-z][a-z0-9+.-]*:)/i.test(/<([^>]*)>?/.exec(part)?.[1] ?? part)),
  );
}

/** A final response (drachtio-server sends 100 Trying to an INVITE before we see it). */
const FINAL = /^SIP\/2\.0 [2-6]\d\d /;

function statusOf(response: string | undefined): number | null {
  const match = response ? /^SIP\/2\.0 (\d{3})/.exec(response) : null;
  return match ? Number(match[1]) : null;
}

describe('RFC 4475 torture messages against the running server (UDP)', () => {
  let server: TestServer;
  let sender: UdpPeer;
  const files = readdirSync(DATA)
    .filter((file) => file.endsWith('.dat'))
    .sort();

  beforeAll(async () => {
    server = await startTestServer(SERVER, { proxy: { timeoutMs: 300 } });
    sender = await UdpPeer.bind(SENDER);
  });
  afterAll(async () => {
    sender?.close();
    await server?.close();
  });

  async function stillServing(): Promise<boolean> {
    return (await optionsStatus(sender, server.sip, `sip:${SERVER}`, 2000)) === 200;
  }

  it('has all 50 messages', () => {
    expect(files).toHaveLength(50);
  });

  it.each(
    readdirSync(DATA)
      .filter((file) => file.endsWith('.dat'))
      .sort(),
  )('%s: the server survives and keeps serving', async (file) => {
    const bytes = readFileSync(join(DATA, file));
    const text = bytes.toString('latin1');
    // A response is matched on the message's Call-ID, or on its CSeq when it has none (insuf.dat).
    const key = /^(?:Call-ID|i):\s*(\S+)/im.exec(text)?.[1] ?? /^CSeq:\s*(.+?)\s*$/im.exec(text)?.[1] ?? '';
    sender.send(bytes, server.sip);
    const response = key
      ? await sender.receive(new RegExp(`${FINAL.source}[\\s\\S]*${escapeRegExp(key)}`, 'i'), 700)
      : undefined;
    if (file in EXPECTED) expect(statusOf(response)).toBe(expectedFor(file, 'udp'));
    expect(await stillServing()).toBe(true);
  });
});

/**
 * The three REGISTER messages INDEX.md says to "register, keep params":
 * answered with digest for peers made for them, their contacts given back
 * in the 200 as written (a contact-param outside the URI, a URI param
 * inside it, an escaped header in it).
 */
describe('RFC 4475 REGISTER messages completed with digest', () => {
  let server: TestServer;
  let sender: UdpPeer;

  beforeAll(async () => {
    server = await startTestServer('127.0.0.44', { registrar: { algorithms: ['MD5'] } });
    sender = await UdpPeer.bind('127.0.0.45');
    const db = new Database(server.storeFile);
    db.exec(
      "INSERT INTO sippeers (name, type, host, secret) VALUES ('watson', 'friend', 'dynamic', 'elementary'), ('user', 'friend', 'dynamic', 'elementary')",
    );
    db.close();
  });
  afterAll(async () => {
    sender?.close();
    await server?.close();
  });

  it.each([
    ['cparam01.dat', 'watson', '<sip:+19725552222@gw1.example.net>;unknownparam;expires=120'],
    ['cparam02.dat', 'watson', '<sip:+19725552222@gw1.example.net;unknownparam>;expires=120'],
    ['regescrt.dat', 'user', '<sip:user@example.com?Route=%3Csip:sip.example.com%3E>;expires=120'],
  ])('%s registers %s and keeps the contact: %s', async (file, user, contact) => {
    // Its own branch: the first suite sent these very bytes, and a server that keeps transactions by
    // branch and sent-by (RFC 3261 §17.2.3; sofia does, for 32 s) would take this for a retransmission.
    const text = readFileSync(join(DATA, file))
      .toString('latin1')
      .replace(/branch=(\S+)/, 'branch=$1-digest');
    const callId = /^Call-ID:\s*(\S+)/im.exec(text)?.[1] ?? '';
    sender.send(text, server.sip);
    const challenged = await sender.receive(new RegExp(escapeRegExp(callId)), 1000);
    expect(statusOf(challenged)).toBe(401);
    const [challenge] = challengesOf(challenged);
    if (!challenge) throw new Error('no challenge');
    const uri = /^REGISTER (\S+) SIP\/2\.0/.exec(text)?.[1] ?? '';
    // The same request again with credentials: a new transaction (branch, CSeq + 1).
    const withCredentials = text
      .replace(/branch=(\S+)/, 'branch=$1-auth')
      .replace(
        /^CSeq: (\d+) REGISTER/m,
        (_, seq: string) =>
          `CSeq: ${Number(seq) + 1} REGISTER\r\n${registerAuthorization(user, 'elementary', challenge, uri)}`,
      );
    sender.send(withCredentials, server.sip);
    const registered = await sender.receive(
      new RegExp(`^SIP/2\\.0 [2-6]\\d\\d [\\s\\S]*${escapeRegExp(callId)}`),
      1000,
    );
    expect(statusOf(registered)).toBe(200);
    expect(/^Contact: (.*)\r$/m.exec(registered ?? '')?.[1]).toBe(contact);
  });
});

/** Over TCP a Content-Length beyond what was sent only means "wait for more" (clerr); dblreq's extra bytes are the next message. */
const NOT_OVER_TCP = new Set(['clerr.dat', 'dblreq.dat']);

describe('RFC 4475 torture requests over TCP', () => {
  let server: TestServer;
  const requestFiles = readdirSync(DATA)
    .filter((file) => file.endsWith('.dat') && !NOT_OVER_TCP.has(file))
    .filter((file) => !readFileSync(join(DATA, file)).toString('latin1').startsWith('SIP/'))
    .sort();

  beforeAll(async () => {
    server = await startTestServer('127.0.0.42');
  });
  afterAll(async () => {
    await server?.close();
  });

  it.each(requestFiles.filter((file) => file in EXPECTED))('%s gets the same handling as over UDP', async (file) => {
    const peer = await TcpPeer.connect('127.0.0.43', server.sip);
    try {
      peer.send(readFileSync(join(DATA, file)).toString('latin1'));
      const response = await peer.receive(new RegExp(FINAL.source, 'm'), 1500);
      expect(statusOf(response)).toBe(expectedFor(file, 'tcp'));
    } finally {
      peer.close();
    }
  });
});

/** A small seeded generator, so a failing run can be replayed. */
function mulberry(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = Math.imul(state ^ (state >>> 15), state | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('mangled torture messages (bounded, seeded)', () => {
  let server: TestServer;
  let sender: UdpPeer;

  beforeAll(async () => {
    server = await startTestServer('127.0.0.45', { proxy: { timeoutMs: 300 } });
    sender = await UdpPeer.bind('127.0.0.46');
  });
  afterAll(async () => {
    sender?.close();
    await server?.close();
  });

  it('survives 3000 messages with random bytes flipped, cut or duplicated, and keeps serving', async () => {
    const random = mulberry(4475);
    const messages = readdirSync(DATA)
      .filter((file) => file.endsWith('.dat'))
      .map((file) => readFileSync(join(DATA, file)));
    let left = 0;
    for (let i = 0; i < 3000; i++) {
      const original = messages[Math.floor(random() * messages.length)] ?? Buffer.alloc(0);
      const mangled = Buffer.from(original);
      for (let flips = Math.floor(random() * 8); flips > 0; flips--)
        mangled[Math.floor(random() * mangled.length)] = Math.floor(random() * 256);
      const cut = random() < 0.3 ? mangled.subarray(0, Math.floor(random() * mangled.length)) : mangled;
      const message = random() < 0.1 ? Buffer.concat([cut, cut]) : cut;
      if (testEngine === 'drachtio' && crashesDrachtioServer(message)) left++;
      else sender.send(message, server.sip);
      if (i % 200 === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const { address, port } = sender.address;
    const options = sipRequest([
      `OPTIONS sip:127.0.0.45 SIP/2.0`,
      `Via: SIP/2.0/UDP ${address}:${port};branch=z9hG4bK-after-mangling`,
      'Max-Forwards: 70',
      `From: <sip:probe@127.0.0.46>;tag=m1`,
      'To: <sip:127.0.0.45>',
      'Call-ID: after-mangling@127.0.0.46',
      'CSeq: 1 OPTIONS',
    ]);
    // Retransmitted as a UAC does over UDP (RFC 3261 §17.1.2.2, timer E): the burst can fill the
    // server's socket buffer, and a datagram dropped there is not a server that stopped serving.
    // drachtio-server, logging each of the 3000, takes some 7 s to get through them.
    let answer: string | undefined;
    for (const waitMs of [500, 1000, 2000, 4000, 4000, 4000]) {
      sender.send(options, server.sip);
      answer = await sender.receive(/Call-ID: after-mangling@/, waitMs);
      if (answer) break;
    }
    expect(statusOf(answer)).toBe(200);
    // 78 of the 3000 (seed 4475) are left out on drachtio.
    expect(left).toBe(testEngine === 'drachtio' ? 78 : 0);
  });
});
