import { createHash } from 'node:crypto';
import Database from 'better-sqlite3';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer, testEngine } from '../support/drouter-server.js';
import { parseExposition, sampleValue } from '../support/exposition.js';
import { captureLog } from '../support/log-capture.js';
import { databaseKinds, MYSQL_TEST_URL } from '../support/databases.js';
import {
  challengesOf,
  peerRow,
  RegisteringPhone,
  statusOf,
  withRequestDetailsHidden,
} from '../support/registering-phone.js';
import { sipRequest, UdpPeer } from '../support/udp-peer.js';

const PHONE = '127.0.0.51';
const ASTERISK = '127.0.0.52';

/**
 * SQLite with the memory cache always; Redis when DROUTER_TEST_REDIS_URL is
 * set, MariaDB when DROUTER_TEST_MYSQL_URL is (set and down = failure).
 */
const VARIANTS: { cache: string; store: 'sqlite' | 'mysql' }[] = [
  { cache: 'memory', store: 'sqlite' },
  ...(process.env.DROUTER_TEST_REDIS_URL
    ? [{ cache: process.env.DROUTER_TEST_REDIS_URL, store: 'sqlite' as const }]
    : []),
  ...(MYSQL_TEST_URL ? [{ cache: 'memory', store: 'mysql' as const }] : []),
];

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

/** fail2ban's filter.d/asterisk.conf failregex for chan_sip registrations (the message part). */
const FAIL2BAN_ASTERISK =
  /^Registration from '[^']*' failed for '(?<host>[\d.]+)(?::\d+)?' - (?:Wrong password|Username\/auth name mismatch|No matching peer found|Not a local domain|Device does not match ACL|Peer is not supposed to register|ACL error \(permit\/deny\))$/;

interface Rig {
  server: TestServer;
  phone: RegisteringPhone;
  asterisk: UdpPeer;
  /** The registration columns of a peer's row, read from the database itself. */
  row(name: string): Promise<Record<string, unknown>>;
  setSecret(name: string, secret: string): Promise<void>;
  /** The server's log messages so far. */
  logMessages(): string[];
  close(): Promise<void>;
}

const COLUMNS = 'ipaddr, port, regseconds, fullcontact, useragent, defaultuser, regserver, lastms';

async function startRig(
  address: string,
  overrides: Record<string, unknown>,
  store: 'sqlite' | 'mysql' = 'sqlite',
): Promise<Rig> {
  const mysqlKind = databaseKinds().find((kind) => kind.name === 'mysql');
  const scratch = store === 'mysql' && mysqlKind ? await mysqlKind.create('registrar') : undefined;
  if (store === 'mysql' && !scratch) throw new Error('the MariaDB variant needs DROUTER_TEST_MYSQL_URL');
  const captured = captureLog();
  const server = await startTestServer(
    address,
    scratch ? { ...overrides, store: { url: scratch.url } } : overrides,
    captured.log,
  );
  const udp = await UdpPeer.bind(PHONE);
  const asterisk = await UdpPeer.bind(ASTERISK);
  return {
    server,
    phone: new RegisteringPhone(udp, server.sip),
    asterisk,
    async row(name) {
      if (!scratch) return peerRow(server.storeFile, name);
      const [found] = await scratch.exec(`SELECT ${COLUMNS} FROM sippeers WHERE name = ?`, [name]);
      return found ?? {};
    },
    async setSecret(name, secret) {
      if (scratch) {
        await scratch.exec('UPDATE sippeers SET secret = ? WHERE name = ?', [secret, name]);
        return;
      }
      const db = new Database(server.storeFile);
      try {
        db.prepare('UPDATE sippeers SET secret = ? WHERE name = ?').run(secret, name);
      } finally {
        db.close();
      }
    },
    logMessages: () => captured.messages(),
    async close() {
      udp.close();
      asterisk.close();
      await server.close();
      await scratch?.drop();
    },
  };
}

describe.each(VARIANTS)(`registrar on the ${testEngine} engine (store $store, cache $cache)`, ({ cache, store }) => {
  let rig: Rig;
  const row = (name: string) => rig.row(name);

  beforeAll(async () => {
    await clearRegistrarKeys(cache);
    rig = await startRig(
      '127.0.0.50',
      {
        cache: { url: cache },
        registrar: { minExpiresSeconds: 0, sweepIntervalMs: 200, algorithms: ['SHA-256', 'MD5'] },
      },
      store,
    );
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
      const written = await row('1001');
      expect(written).toMatchObject({
        ipaddr: PHONE,
        port,
        fullcontact: `sip:1001@${PHONE}:${port}`,
        useragent: 'Zoiper rv2.10',
        defaultuser: '1001',
      });
      expect(Number(written.regseconds)).toBeGreaterThanOrEqual(Math.floor(before / 1000) + 299);
      expect(Number(written.regseconds)).toBeLessThanOrEqual(Math.floor(Date.now() / 1000) + 301);
    });
  }

  it('gives a wrong password and an unknown user the same 401, and writes nothing', async () => {
    const rowBefore = await row('1002');
    const wrong = await rig.phone.register('1002', 'not-the-secret');
    const unknown = await rig.phone.register('nobody', 'whatever');
    expect(statusOf(wrong)).toBe(401);
    expect(statusOf(unknown)).toBe(401);
    expect(challengesOf(wrong).map((c) => c.algorithm)).toEqual(challengesOf(unknown).map((c) => c.algorithm));
    expect(await row('1002')).toEqual(rowBefore);
    // chan_sip's lines, which fail2ban's asterisk filter reads.
    const source = `${rig.phone.peer.address.address}:${rig.phone.peer.address.port}`;
    const lines = rig.logMessages().filter((message) => message.startsWith('Registration from'));
    expect(lines).toEqual([
      `Registration from '<sip:1002@${rig.server.sip.address}>' failed for '${source}' - Wrong password`,
      `Registration from '<sip:nobody@${rig.server.sip.address}>' failed for '${source}' - No matching peer found`,
    ]);
    for (const line of lines) expect(line).toMatch(FAIL2BAN_ASTERISK);
  });

  it('answers a wrong password and an unknown user byte for byte the same, apart from what each request brought and the nonce', async () => {
    const wrong = await rig.phone.register('1002', 'not-the-secret');
    const unknown = await rig.phone.register('nobody', 'whatever');
    expect(statusOf(wrong)).toBe(401);
    expect(withRequestDetailsHidden(unknown, 'nobody')).toBe(withRequestDetailsHidden(wrong, '1002'));
  });

  it('refuses an answer without qop (RFC 2069), even with the right password, and its replay with another Call-ID and Contact', async () => {
    const challenge = challengesOf(await rig.phone.send(rig.phone.request('1002'))).find((c) => c.algorithm === 'MD5');
    if (!challenge) throw new Error('no MD5 challenge');
    const uri = `sip:${rig.server.sip.address}`;
    const md5 = (text: string) => createHash('md5').update(text).digest('hex');
    const response = md5(`${md5(`1002:${challenge.realm}:secret1002`)}:${challenge.nonce}:${md5(`REGISTER:${uri}`)}`);
    const qopless = `Authorization: Digest username="1002", realm="${challenge.realm}", nonce="${challenge.nonce}", uri="${uri}", response="${response}", algorithm=MD5`;
    const rowBefore = await row('1002');
    expect(statusOf(await rig.phone.send(rig.phone.request('1002', [qopless])))).toBe(401);
    const attacker = new RegisteringPhone(rig.phone.peer, rig.server.sip);
    expect(
      statusOf(await attacker.send(attacker.request('1002', [qopless, 'Contact: <sip:1002@127.0.0.66:5099>']))),
    ).toBe(401);
    expect(await row('1002')).toEqual(rowBefore);
    expect(rig.logMessages().at(-1)).toMatch(
      /^Registration from '<sip:1002@[^>]+>' failed for '[\d.]+:\d+' - Wrong password$/,
    );
  });

  it('answers 403 when the digest user is not the To user', async () => {
    const challenge = challengesOf(await rig.phone.send(rig.phone.request('1003')))[1];
    if (!challenge) throw new Error('no challenge');
    expect(
      statusOf(
        await rig.phone.send(rig.phone.request('1003', [rig.phone.authorization('1004', 'secret1004', challenge)])),
      ),
    ).toBe(403);
    expect(rig.logMessages().at(-1)).toMatch(
      /^Registration from '<sip:1003@[^>]+>' failed for '[\d.]+:\d+' - Username\/auth name mismatch$/,
    );
  });

  it('reads the sippeers row every time without rtcachefriends: a changed secret counts at once', async () => {
    await rig.setSecret('1004', 'renewed1004');
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

  it('counts registrations by result, and the AoRs with bindings, in /metrics (1004 has the secret an earlier test gave it)', async () => {
    const scrape = async () => parseExposition(await (await fetch(`${rig.server.server.adminUrl}/metrics`)).text());
    const count = (families: Awaited<ReturnType<typeof scrape>>, result: string) =>
      sampleValue(families, 'sipdr_registrations_total', { result }) ?? 0;
    expect(statusOf(await rig.phone.register('1004', 'renewed1004', ['Expires: 0']))).toBe(200);
    const before = await scrape();
    const first = await rig.phone.register('1004', 'renewed1004', ['Expires: 300']);
    expect(statusOf(first), first).toBe(200);
    const registered = await scrape();
    expect(sampleValue(registered, 'sipdr_bindings')).toBeGreaterThanOrEqual(1);
    expect(statusOf(await rig.phone.register('1004', 'renewed1004', ['Expires: 300']))).toBe(200);
    expect(statusOf(await rig.phone.register('1004', 'wrong'))).toBe(401);
    expect(statusOf(await rig.phone.register('1004', 'renewed1004', ['Expires: 0']))).toBe(200);
    const after = await scrape();
    expect(
      ['challenged', 'registered', 'refreshed', 'failed', 'unregistered'].map(
        (result) => count(after, result) - count(before, result),
      ),
    ).toEqual([4, 1, 1, 1, 1]);
  });

  it('unregisters with Expires: 0 and clears exactly the columns chan_sip clears', async () => {
    const ok = await rig.phone.register('1001', 'secret1001', ['Expires: 0']);
    expect(statusOf(ok)).toBe(200);
    expect(ok).not.toMatch(/^Contact:/im);
    expect(await row('1001')).toEqual({
      ipaddr: '',
      port: 0,
      regseconds: 0,
      fullcontact: '',
      useragent: '',
      defaultuser: '1001',
      regserver: '',
      lastms: 0,
    });
  });

  it('removes every binding of the peer with Contact: * and Expires: 0, and clears the row', async () => {
    const second = ['Contact: <sip:1001@127.0.0.99:5070>', 'Expires: 300'];
    expect(statusOf(await rig.phone.register('1001', 'secret1001', ['Expires: 300']))).toBe(200);
    const both = await rig.phone.register('1001', 'secret1001', second);
    expect(both?.match(/<sip:1001@[^>]+>;expires=/g)).toHaveLength(2);
    const ok = await rig.phone.register('1001', 'secret1001', ['Contact: *', 'Expires: 0']);
    expect(statusOf(ok)).toBe(200);
    expect(ok).not.toMatch(/^Contact:/im);
    expect(await row('1001')).toMatchObject({ ipaddr: '', port: 0, regseconds: 0, fullcontact: '' });
  });

  it('lets a short registration expire on its own and clears the row, with no request arriving', async () => {
    expect(statusOf(await rig.phone.register('1002', 'secret1002', ['Expires: 1']))).toBe(200);
    expect(await row('1002')).toMatchObject({
      ipaddr: PHONE,
      fullcontact: `sip:1002@${PHONE}:${rig.phone.peer.address.port}`,
    });
    const deadline = Date.now() + 4000;
    while ((await row('1002')).fullcontact !== '' && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await row('1002')).toMatchObject({
      ipaddr: '',
      port: 0,
      regseconds: 0,
      fullcontact: '',
      useragent: '',
      defaultuser: '1002',
    });
  });

  it('answers a REGISTER retransmitted to a node that never saw it (as after a failover) with 200, not a stale challenge or 400', async () => {
    const challenge = challengesOf(await rig.phone.send(rig.phone.request('1002'))).find((c) => c.algorithm === 'MD5');
    if (!challenge) throw new Error('no MD5 challenge');
    const original = rig.phone.request('1002', [
      rig.phone.authorization('1002', 'secret1002', challenge),
      'Expires: 300',
    ]);
    expect(statusOf(await rig.phone.send(original))).toBe(200);
    // The same request (Call-ID, CSeq, nonce count) in a new transaction: the node taking over has no transaction to absorb it.
    const retransmitted = await rig.phone.send(original.replace(/branch=[^;\r\n]+/, 'branch=z9hG4bK-after-failover'));
    expect(statusOf(retransmitted)).toBe(200);
    expect(retransmitted).toMatch(
      new RegExp(`Contact:\\s*<sip:1002@${PHONE}:${rig.phone.peer.address.port}>;expires=(300|299)`),
    );
    expect(statusOf(await rig.phone.register('1002', 'secret1002', ['Expires: 0']))).toBe(200);
  });

  it('keeps every binding when several phones register one peer at the same moment: no REGISTER overwrites another', async () => {
    const phones = await Promise.all(
      Array.from({ length: 5 }, async () => new RegisteringPhone(await UdpPeer.bind(PHONE), rig.server.sip)),
    );
    try {
      for (let round = 0; round < 3; round++) {
        const answers = await Promise.all(
          phones.map((phone) => phone.register('1003', 'secret1003', ['Expires: 300'])),
        );
        expect(answers.map(statusOf)).toEqual([200, 200, 200, 200, 200]);
        const peer = (await (await fetch(`${rig.server.server.adminUrl}/peers/1003`)).json()) as {
          bindings: { contact: string }[];
        };
        expect(peer.bindings.map((binding) => binding.contact).sort()).toEqual(
          phones.map((phone) => `sip:1003@${PHONE}:${phone.peer.address.port}`).sort(),
        );
      }
      expect(statusOf(await (phones[0] as RegisteringPhone).register('1003', 'secret1003', ['Expires: 0']))).toBe(200);
    } finally {
      for (const phone of phones) phone.peer.close();
    }
  });
});

describe('chan_sip realtime options, each against its default', () => {
  it('rtcachefriends: after the first REGISTER the cached peer is used, so a changed secret is not seen', async () => {
    const rig = await startRig('127.0.0.60', { registrar: { rtcachefriends: true } });
    try {
      expect(statusOf(await rig.phone.register('1003', 'secret1003'))).toBe(200);
      await rig.setSecret('1003', 'renewed1003');
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
      await rig.setSecret('1003', 'renewed1003');
      expect(statusOf(await rig.phone.register('1003', 'secret1003'))).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, 1300));
      expect(statusOf(await rig.phone.register('1003', 'secret1003'))).toBe(401);
      expect(statusOf(await rig.phone.register('1003', 'renewed1003'))).toBe(200);
    } finally {
      await rig.close();
    }
  });

  it('ignoreregexpire: an expired registration keeps its row and its last contact takes calls', async () => {
    const rig = await startRig('127.0.0.62', {
      registrar: { ignoreregexpire: true, minExpiresSeconds: 0, sweepIntervalMs: 200 },
    });
    try {
      expect(statusOf(await rig.phone.register('1003', 'secret1003', ['Expires: 1']))).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, 1800));
      expect(await rig.row('1003')).toMatchObject({
        ipaddr: PHONE,
        fullcontact: `sip:1003@${PHONE}:${rig.phone.peer.address.port}`,
      });
      rig.asterisk.send(inviteFromAsterisk(rig.asterisk, rig.server.sip.address, '1003'), rig.server.sip);
      expect(await rig.phone.peer.receive(/^INVITE sip:1003@/, 2000)).toMatch(
        /^INVITE sip:1003@127\.0\.0\.51:\d+ SIP\/2\.0/,
      );
    } finally {
      await rig.close();
    }
  });
});
