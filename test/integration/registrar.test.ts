import { createHash } from 'node:crypto';
import Database from 'better-sqlite3';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/drouter-server.js';
import { sipRequest, UdpPeer } from '../support/udp-peer.js';

const PROXY = '127.0.0.50';
const PHONE = '127.0.0.51';
const ASTERISK = '127.0.0.52';

const hash = (algorithm: 'md5' | 'sha256', text: string) => createHash(algorithm).update(text).digest('hex');

function status(message: string | undefined): number | undefined {
  const match = message ? /^SIP\/2\.0 (\d{3})/.exec(message) : null;
  return match ? Number(match[1]) : undefined;
}

function challengesOf(message: string | undefined): { algorithm: string; nonce: string; realm: string }[] {
  return [...(message ?? '').matchAll(/^WWW-Authenticate:\s*Digest (.*)$/gim)].map((m) => ({
    algorithm: /algorithm=([\w-]+)/.exec(m[1] ?? '')?.[1] ?? '',
    nonce: /nonce="([^"]+)"/.exec(m[1] ?? '')?.[1] ?? '',
    realm: /realm="([^"]+)"/.exec(m[1] ?? '')?.[1] ?? '',
  }));
}

/** The memory cache always; Redis too when DROUTER_TEST_REDIS_URL is set (set and down = failure). */
const CACHES = ['memory', ...(process.env.DROUTER_TEST_REDIS_URL ? [process.env.DROUTER_TEST_REDIS_URL] : [])];

/** Bindings and nonce counts of earlier runs would change what a fresh run sees. */
async function clearRegistrarKeys(url: string): Promise<void> {
  if (url === 'memory') return;
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  try {
    for (const pattern of ['sipdr:bindings*', 'sipdr:nonce:*', 'sipdr:peer:*']) {
      const keys = await redis.keys(pattern);
      if (keys.length > 0) await redis.del(...keys);
    }
  } finally {
    redis.disconnect();
  }
}

describe.each(CACHES)('registrar on the native engine (SQLite, cache %s)', (cacheUrl) => {
  let server: TestServer;
  let phone: UdpPeer;
  let asterisk: UdpPeer;
  let cseq = 0;
  const callId = `reg-${Date.now()}@${PHONE}`;

  beforeAll(async () => {
    await clearRegistrarKeys(cacheUrl);
    server = await startTestServer(PROXY, { cache: { url: cacheUrl }, registrar: { minExpiresSeconds: 0, sweepIntervalMs: 200 } });
    phone = await UdpPeer.bind(PHONE);
    asterisk = await UdpPeer.bind(ASTERISK);
  });
  afterAll(async () => {
    phone?.close();
    asterisk?.close();
    await server?.close();
  });

  function register(user: string, extra: string[] = []): string {
    cseq++;
    const { address, port } = phone.address;
    return sipRequest([
      `REGISTER sip:${PROXY} SIP/2.0`,
      `Via: SIP/2.0/UDP ${address}:${port};branch=z9hG4bK-reg-${cseq};rport`,
      'Max-Forwards: 70',
      `From: <sip:${user}@${PROXY}>;tag=reg-${cseq}`,
      `To: <sip:${user}@${PROXY}>`,
      `Call-ID: ${callId}`,
      `CSeq: ${cseq} REGISTER`,
      `Contact: <sip:${user}@${address}:${port}>`,
      'User-Agent: Zoiper rv2.10',
      ...extra,
    ]);
  }

  async function send(text: string): Promise<string | undefined> {
    phone.send(text, server.sip);
    const seq = /CSeq: (\d+)/.exec(text)?.[1];
    return phone.receive(new RegExp(`CSeq: ${seq} REGISTER`), 2000);
  }

  function authorization(user: string, password: string, challenge: { algorithm: string; nonce: string; realm: string }): string {
    const algorithm = challenge.algorithm === 'SHA-256' ? 'sha256' : 'md5';
    const uri = `sip:${PROXY}`;
    const ha1 = hash(algorithm, `${user}:${challenge.realm}:${password}`);
    const ha2 = hash(algorithm, `REGISTER:${uri}`);
    const response = hash(algorithm, `${ha1}:${challenge.nonce}:00000001:abcdef:auth:${ha2}`);
    return `Authorization: Digest username="${user}", realm="${challenge.realm}", nonce="${challenge.nonce}", uri="${uri}", response="${response}", algorithm=${challenge.algorithm}, qop=auth, nc=00000001, cnonce="abcdef"`;
  }

  function peerRow(name: string): Record<string, unknown> {
    const db = new Database(server.storeFile, { readonly: true });
    try {
      return db.prepare('SELECT ipaddr, port, regseconds, fullcontact, useragent, defaultuser, regserver, lastms FROM sippeers WHERE name = ?').get(name) as Record<string, unknown>;
    } finally {
      db.close();
    }
  }

  it('challenges with SHA-256 then MD5, qop auth, realm asterisk', async () => {
    const response = await send(register('1001'));
    expect(status(response)).toBe(401);
    expect(challengesOf(response).map((c) => [c.algorithm, c.realm])).toEqual([
      ['SHA-256', 'asterisk'],
      ['MD5', 'asterisk'],
    ]);
    expect(response).toMatch(/qop="auth"/);
  });

  for (const algorithm of ['MD5', 'SHA-256']) {
    it(`registers with ${algorithm} digest and writes the Asterisk columns`, async () => {
      const challenge = challengesOf(await send(register('1001'))).find((c) => c.algorithm === algorithm);
      if (!challenge) throw new Error(`no ${algorithm} challenge`);
      const before = Date.now();
      const ok = await send(register('1001', [authorization('1001', 'secret1001', challenge), 'Expires: 300']));
      expect(status(ok)).toBe(200);
      expect(ok).toMatch(new RegExp(`Contact:\\s*<sip:1001@${PHONE}:${phone.address.port}>;expires=(300|299)`));
      const row = peerRow('1001');
      expect(row).toMatchObject({ ipaddr: PHONE, port: phone.address.port, fullcontact: `sip:1001@${PHONE}:${phone.address.port}`, useragent: 'Zoiper rv2.10', defaultuser: '1001' });
      expect(Number(row.regseconds)).toBeGreaterThanOrEqual(Math.floor(before / 1000) + 299);
      expect(Number(row.regseconds)).toBeLessThanOrEqual(Math.floor(Date.now() / 1000) + 301);
    });
  }

  it('gives a wrong password and an unknown user the same 401, and logs nothing into the row', async () => {
    const rowBefore = peerRow('1002');
    const challenge = challengesOf(await send(register('1002')))[1];
    if (!challenge) throw new Error('no challenge');
    const wrong = await send(register('1002', [authorization('1002', 'not-the-secret', challenge)]));
    const unknown = await send(register('nobody', [authorization('nobody', 'whatever', challenge)]));
    expect(status(wrong)).toBe(401);
    expect(status(unknown)).toBe(401);
    expect(challengesOf(wrong).map((c) => c.algorithm)).toEqual(challengesOf(unknown).map((c) => c.algorithm));
    expect(peerRow('1002')).toEqual(rowBefore);
  });

  it('answers 403 when the digest user is not the To user', async () => {
    const challenge = challengesOf(await send(register('1003')))[1];
    if (!challenge) throw new Error('no challenge');
    const text = register('1003', [authorization('1004', 'secret1004', challenge)]);
    expect(status(await send(text))).toBe(403);
  });

  it('routes an INVITE from Asterisk to the registered phone, and answers 480 for a peer that is not registered', async () => {
    const inviteFrom = (user: string, n: number) =>
      sipRequest([
        `INVITE sip:${user}@${PROXY} SIP/2.0`,
        `Via: SIP/2.0/UDP ${ASTERISK}:${asterisk.address.port};branch=z9hG4bK-ast-${n}`,
        'Max-Forwards: 70',
        `From: <sip:asterisk@${ASTERISK}>;tag=ast-${n}`,
        `To: <sip:${user}@${PROXY}>`,
        `Call-ID: ast-${n}-${Date.now()}@${ASTERISK}`,
        'CSeq: 1 INVITE',
        `Contact: <sip:asterisk@${ASTERISK}:${asterisk.address.port}>`,
      ]);
    asterisk.send(inviteFrom('1001', 1), server.sip);
    const atPhone = await phone.receive(/^INVITE sip:1001@/, 2000);
    expect(atPhone).toMatch(new RegExp(`^INVITE sip:1001@${PHONE}:${phone.address.port} SIP/2\\.0`));
    asterisk.send(inviteFrom('1004', 2), server.sip);
    expect(status(await asterisk.receive(/^SIP\/2\.0 4\d\d [\s\S]*CSeq: 1 INVITE/, 2000))).toBe(480);
  });

  it('unregisters with Expires: 0 and clears exactly the columns chan_sip clears', async () => {
    const challenge = challengesOf(await send(register('1001')))[1];
    if (!challenge) throw new Error('no challenge');
    const ok = await send(register('1001', [authorization('1001', 'secret1001', challenge), 'Expires: 0']));
    expect(status(ok)).toBe(200);
    expect(ok).not.toMatch(/^Contact:/im);
    expect(peerRow('1001')).toEqual({ ipaddr: '', port: 0, regseconds: 0, fullcontact: '', useragent: '', defaultuser: '1001', regserver: '', lastms: 0 });
  });

  it('lets a short registration expire on its own and clears the row, with no request arriving', async () => {
    const challenge = challengesOf(await send(register('1002')))[1];
    if (!challenge) throw new Error('no challenge');
    expect(status(await send(register('1002', [authorization('1002', 'secret1002', challenge), 'Expires: 1'])))).toBe(200);
    expect(peerRow('1002')).toMatchObject({ ipaddr: PHONE, fullcontact: `sip:1002@${PHONE}:${phone.address.port}` });
    const deadline = Date.now() + 4000;
    while (peerRow('1002').fullcontact !== '' && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(peerRow('1002')).toMatchObject({ ipaddr: '', port: 0, regseconds: 0, fullcontact: '', useragent: '', defaultuser: '1002' });
  });
});
