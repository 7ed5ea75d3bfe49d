import Database from 'better-sqlite3';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/drouter-server.js';
import { challengesOf, peerRow, RegisteringPhone, statusOf } from '../support/registering-phone.js';
import { sipRequest, UdpPeer } from '../support/udp-peer.js';

const PHONE = '127.0.0.51';
const ASTERISK = '127.0.0.52';

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

function setSecret(storeFile: string, name: string, secret: string): void {
  const db = new Database(storeFile);
  try {
    db.prepare('UPDATE sippeers SET secret = ? WHERE name = ?').run(secret, name);
  } finally {
    db.close();
  }
}

let inviteNumber = 0;

/** An INVITE from the stand-in Asterisk to a peer, through the proxy. */
function inviteFromAsterisk(asterisk: UdpPeer, proxy: string, user: string): string {
  inviteNumber++;
  return sipRequest([
    `INVITE sip:${user}@${proxy} SIP/2.0`,
    `Via: SIP/2.0/UDP ${ASTERISK}:${asterisk.address.port};branch=z9hG4bK-ast-${inviteNumber}`,
    'Max-Forwards: 70',
    `From: <sip:asterisk@${ASTERISK}>;tag=ast-${inviteNumber}`,
    `To: <sip:${user}@${proxy}>`,
    `Call-ID: ast-${inviteNumber}-${Date.now()}@${ASTERISK}`,
    'CSeq: 1 INVITE',
    `Contact: <sip:asterisk@${ASTERISK}:${asterisk.address.port}>`,
  ]);
}

interface Rig {
  server: TestServer;
  phone: RegisteringPhone;
  asterisk: UdpPeer;
  close(): Promise<void>;
}

async function startRig(address: string, overrides: Record<string, unknown>): Promise<Rig> {
  const server = await startTestServer(address, overrides);
  const udp = await UdpPeer.bind(PHONE);
  const asterisk = await UdpPeer.bind(ASTERISK);
  return {
    server,
    phone: new RegisteringPhone(udp, server.sip),
    asterisk,
    async close() {
      udp.close();
      asterisk.close();
      await server.close();
    },
  };
}

describe.each(CACHES)('registrar on the native engine (SQLite, cache %s)', (cacheUrl) => {
  let rig: Rig;
  const row = (name: string) => peerRow(rig.server.storeFile, name);

  beforeAll(async () => {
    await clearRegistrarKeys(cacheUrl);
    rig = await startRig('127.0.0.50', { cache: { url: cacheUrl }, registrar: { minExpiresSeconds: 0, sweepIntervalMs: 200 } });
  });
  afterAll(() => rig?.close());

  it('challenges with SHA-256 then MD5, qop auth, realm asterisk', async () => {
    const response = await rig.phone.send(rig.phone.request('1001'));
    expect(statusOf(response)).toBe(401);
    expect(challengesOf(response).map((c) => [c.algorithm, c.realm])).toEqual([
      ['SHA-256', 'asterisk'],
      ['MD5', 'asterisk'],
    ]);
    expect(response).toMatch(/qop="auth"/);
  });

  for (const algorithm of ['MD5', 'SHA-256']) {
    it(`registers with ${algorithm} digest and writes the Asterisk columns`, async () => {
      const before = Date.now();
      const ok = await rig.phone.register('1001', 'secret1001', ['Expires: 300'], algorithm);
      const port = rig.phone.peer.address.port;
      expect(statusOf(ok)).toBe(200);
      expect(ok).toMatch(new RegExp(`Contact:\\s*<sip:1001@${PHONE}:${port}>;expires=(300|299)`));
      const written = row('1001');
      expect(written).toMatchObject({ ipaddr: PHONE, port, fullcontact: `sip:1001@${PHONE}:${port}`, useragent: 'Zoiper rv2.10', defaultuser: '1001' });
      expect(Number(written.regseconds)).toBeGreaterThanOrEqual(Math.floor(before / 1000) + 299);
      expect(Number(written.regseconds)).toBeLessThanOrEqual(Math.floor(Date.now() / 1000) + 301);
    });
  }

  it('gives a wrong password and an unknown user the same 401, and writes nothing', async () => {
    const rowBefore = row('1002');
    const wrong = await rig.phone.register('1002', 'not-the-secret');
    const unknown = await rig.phone.register('nobody', 'whatever');
    expect(statusOf(wrong)).toBe(401);
    expect(statusOf(unknown)).toBe(401);
    expect(challengesOf(wrong).map((c) => c.algorithm)).toEqual(challengesOf(unknown).map((c) => c.algorithm));
    expect(row('1002')).toEqual(rowBefore);
  });

  it('answers 403 when the digest user is not the To user', async () => {
    const challenge = challengesOf(await rig.phone.send(rig.phone.request('1003')))[1];
    if (!challenge) throw new Error('no challenge');
    expect(statusOf(await rig.phone.send(rig.phone.request('1003', [rig.phone.authorization('1004', 'secret1004', challenge)])))).toBe(403);
  });

  it('reads the sippeers row every time without rtcachefriends: a changed secret counts at once', async () => {
    setSecret(rig.server.storeFile, '1004', 'renewed1004');
    expect(statusOf(await rig.phone.register('1004', 'secret1004'))).toBe(401);
    expect(statusOf(await rig.phone.register('1004', 'renewed1004'))).toBe(200);
  });

  it('routes an INVITE from Asterisk to the registered phone, and answers 480 for a peer that is not registered', async () => {
    const { asterisk, server, phone } = rig;
    asterisk.send(inviteFromAsterisk(asterisk, server.sip.address, '1001'), server.sip);
    const atPhone = await phone.peer.receive(/^INVITE sip:1001@/, 2000);
    expect(atPhone).toMatch(new RegExp(`^INVITE sip:1001@${PHONE}:${phone.peer.address.port} SIP/2\\.0`));
    asterisk.send(inviteFromAsterisk(asterisk, server.sip.address, '1003'), server.sip);
    expect(statusOf(await asterisk.receive(/^SIP\/2\.0 4\d\d [\s\S]*CSeq: 1 INVITE/, 2000))).toBe(480);
  });

  it('unregisters with Expires: 0 and clears exactly the columns chan_sip clears', async () => {
    const ok = await rig.phone.register('1001', 'secret1001', ['Expires: 0']);
    expect(statusOf(ok)).toBe(200);
    expect(ok).not.toMatch(/^Contact:/im);
    expect(row('1001')).toEqual({ ipaddr: '', port: 0, regseconds: 0, fullcontact: '', useragent: '', defaultuser: '1001', regserver: '', lastms: 0 });
  });

  it('lets a short registration expire on its own and clears the row, with no request arriving', async () => {
    expect(statusOf(await rig.phone.register('1002', 'secret1002', ['Expires: 1']))).toBe(200);
    expect(row('1002')).toMatchObject({ ipaddr: PHONE, fullcontact: `sip:1002@${PHONE}:${rig.phone.peer.address.port}` });
    const deadline = Date.now() + 4000;
    while (row('1002').fullcontact !== '' && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(row('1002')).toMatchObject({ ipaddr: '', port: 0, regseconds: 0, fullcontact: '', useragent: '', defaultuser: '1002' });
  });
});

describe('chan_sip realtime options, each against its default', () => {
  it('rtcachefriends: after the first REGISTER the cached peer is used, so a changed secret is not seen', async () => {
    const rig = await startRig('127.0.0.60', { registrar: { rtcachefriends: true } });
    try {
      expect(statusOf(await rig.phone.register('1003', 'secret1003'))).toBe(200);
      setSecret(rig.server.storeFile, '1003', 'renewed1003');
      expect(statusOf(await rig.phone.register('1003', 'secret1003'))).toBe(200);
      expect(statusOf(await rig.phone.register('1003', 'renewed1003'))).toBe(401);
    } finally {
      await rig.close();
    }
  });

  it('rtautoclear: the cached peer goes after its time, and the row is read again', async () => {
    const rig = await startRig('127.0.0.61', { registrar: { rtcachefriends: true, rtautoclearSeconds: 1 } });
    try {
      expect(statusOf(await rig.phone.register('1003', 'secret1003'))).toBe(200);
      setSecret(rig.server.storeFile, '1003', 'renewed1003');
      expect(statusOf(await rig.phone.register('1003', 'secret1003'))).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, 1300));
      expect(statusOf(await rig.phone.register('1003', 'secret1003'))).toBe(401);
      expect(statusOf(await rig.phone.register('1003', 'renewed1003'))).toBe(200);
    } finally {
      await rig.close();
    }
  });

  it('ignoreregexpire: an expired registration keeps its row and its last contact takes calls', async () => {
    const rig = await startRig('127.0.0.62', { registrar: { ignoreregexpire: true, minExpiresSeconds: 0, sweepIntervalMs: 200 } });
    try {
      expect(statusOf(await rig.phone.register('1003', 'secret1003', ['Expires: 1']))).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, 1800));
      expect(peerRow(rig.server.storeFile, '1003')).toMatchObject({ ipaddr: PHONE, fullcontact: `sip:1003@${PHONE}:${rig.phone.peer.address.port}` });
      rig.asterisk.send(inviteFromAsterisk(rig.asterisk, rig.server.sip.address, '1003'), rig.server.sip);
      expect(await rig.phone.peer.receive(/^INVITE sip:1003@/, 2000)).toMatch(/^INVITE sip:1003@127\.0\.0\.51:\d+ SIP\/2\.0/);
    } finally {
      await rig.close();
    }
  });
});
