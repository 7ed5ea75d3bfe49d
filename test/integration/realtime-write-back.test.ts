import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Finished, runDrouter } from '../support/drouter-process.js';
import { startTestServer, type TestServer, testEngine } from '../support/drouter-server.js';
import { captureLog, type CapturedLog } from '../support/log-capture.js';
import { type DatabaseKind, databaseKinds, type ScratchDatabase } from '../support/databases.js';
import { challengesOf, RegisteringPhone, statusOf } from '../support/registering-phone.js';
import { sipRequest, UdpPeer } from '../support/udp-peer.js';
import { applyOpensipsDdl, applySqlFile, opensipsDdlMissing, STANDIN_SIPPEERS_SQL } from '../support/upstream-ddl.js';
import { migrateStore } from '../../src/store/knex/open-store.js';
import { describeUnless, redisMissing } from '../support/skip-reason.js';

/**
 * The Asterisk realtime write-back on the sippeers table drouter creates
 * and on an operator's (see Tables below), whose registration columns have
 * Asterisk's own sizes (alembic
 * 4da0c5f79a9c: fullcontact VARCHAR(80); 1758e8bbf6b: useragent 255): a
 * value longer than its column never costs the registration (MariaDB in
 * strict mode refuses the whole UPDATE), lastms is written, static peers
 * show their host, and a cached realtime peer can be pruned.
 */

const SERVER = '127.0.0.200';
const PHONE = '127.0.0.201';
const CALLER = '127.0.0.202';
const STATIC_HOST = '127.0.0.203';

const ROW_COLUMNS = 'fullcontact, useragent, lastms, ipaddr, port';
/** The longest destination URI drachtio-server 0.9.4 passes on whole (URI_LEN 256, less its NUL). */
const DRACHTIO_DESTINATION_CHARS = 255;
const USER_AGENT = `baresip v1.0.0 (x86_64/linux) ${'b'.repeat(400 - 'baresip v1.0.0 (x86_64/linux) '.length)}`;

/** A Contact of exactly 300 characters whose URI parameters run past fullcontact's 80. */
function longContact(port: number): string {
  const head = `sip:1001@${PHONE}:${port};transport=udp;x-pad=`;
  return `${head}${'a'.repeat(300 - head.length)}`;
}

/**
 * Whose tables: the ones a first start makes (migrations and the example's
 * phones), or an operator's, made by the projects' own DDL as it is
 * (test/support/upstream-ddl.ts): OpenSIPS 3.5.9's drouting and, for
 * Asterisk's sippeers, sql/04-sippeers.sql on MariaDB (Asterisk is not
 * packaged in Debian) or `drouter migrate`'s table on SQLite (Asterisk has
 * no SQLite DDL), with two phones of the operator's. Nothing is seeded there.
 */
interface Tables {
  name: string;
  kind: DatabaseKind;
  prepare?: (scratch: ScratchDatabase) => Promise<void>;
}

const opensipsMissing = opensipsDdlMissing();

function tablesToRun(): Tables[] {
  return databaseKinds().flatMap((kind): Tables[] => [
    { name: `${kind.name}, tables of a first start`, kind },
    ...(opensipsMissing
      ? []
      : [
          {
            name: `${kind.name}, an operator's tables from OpenSIPS's DDL and ${kind.name === 'mysql' ? 'sql/04-sippeers.sql' : 'drouter migrate'}`,
            kind,
            prepare: async (scratch: ScratchDatabase) => {
              await applyOpensipsDdl(kind, scratch);
              if (kind.name === 'mysql') await applySqlFile(kind, scratch, STANDIN_SIPPEERS_SQL);
              else await migrateStore(scratch.url);
              await scratch.exec(
                "INSERT INTO sippeers (name, type, host, secret, context, nat, transport) VALUES ('1001', 'friend', 'dynamic', 'secret1001', 'from-phones', 'force_rport,comedia', 'udp,tcp'), ('1002', 'friend', 'dynamic', 'secret1002', 'from-phones', 'force_rport,comedia', 'udp,tcp')",
              );
            },
          },
        ]),
  ]);
}

// Without OpenSIPS's tree the operator's-tables runs are left out; the title of the first says so.
describe.each(tablesToRun())(
  `realtime write-back on $name${opensipsMissing ? ` (operator's tables skipped: ${opensipsMissing})` : ''}`,
  ({ kind, prepare }) => {
    let scratch: ScratchDatabase;
    let captured: CapturedLog;
    let server: TestServer;
    let phone: RegisteringPhone;
    let caller: UdpPeer;

    const row = async (name: string) =>
      (await scratch.exec(`SELECT ${ROW_COLUMNS} FROM sippeers WHERE name = ?`, [name]))[0] ?? {};
    const drouter = (...args: string[]): Promise<Finished> =>
      runDrouter([...args, '--url', server.server.adminUrl], { DROUTER_STORE__URL: scratch.url }).finished;
    const truncationLines = () => captured.lines.filter((line) => String(line.msg).startsWith('sippeers.'));

    /** REGISTER with credentials, a Contact and a User-Agent of the test's choosing. */
    async function register(
      user: string,
      password: string,
      contact: string,
      userAgent: string,
    ): Promise<string | undefined> {
      const challenge = challengesOf(await phone.send(phone.request(user))).find((c) => c.algorithm === 'MD5');
      if (!challenge) throw new Error('no MD5 challenge');
      const request = phone.request(user, [
        phone.authorization(user, password, challenge),
        `Contact: <${contact}>`,
        'Expires: 300',
      ]);
      return phone.send(request.replace('User-Agent: Zoiper rv2.10', `User-Agent: ${userAgent}`));
    }

    beforeAll(async () => {
      scratch = await kind.create('writeback');
      await prepare?.(scratch);
      captured = captureLog();
      server = await startTestServer(
        SERVER,
        { store: { url: scratch.url }, registrar: { rtcachefriends: true } },
        captured.log,
      );
      phone = new RegisteringPhone(await UdpPeer.bind(PHONE), server.sip);
      caller = await UdpPeer.bind(CALLER);
    });

    afterAll(async () => {
      phone?.peer.close();
      caller?.close();
      await server?.close();
      await scratch?.drop();
    });

    it("has Asterisk's sizes: fullcontact 80, useragent 255 (MariaDB in strict mode refuses longer values)", async () => {
      if (kind.name === 'mysql') {
        const sizes = await scratch.exec(
          "SELECT COLUMN_NAME AS name, CHARACTER_MAXIMUM_LENGTH AS size FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'sippeers' AND COLUMN_NAME IN ('fullcontact', 'useragent') ORDER BY COLUMN_NAME",
        );
        expect(sizes.map(({ name, size }) => [name, Number(size)])).toEqual([
          ['fullcontact', 80],
          ['useragent', 255],
        ]);
        const [mode] = await scratch.exec('SELECT @@GLOBAL.sql_mode AS mode');
        expect(String(mode?.mode)).toMatch(/STRICT_(TRANS|ALL)_TABLES/);
      } else {
        const declared = await scratch.exec(
          "SELECT name, type FROM pragma_table_info('sippeers') WHERE name IN ('fullcontact', 'useragent') ORDER BY name",
        );
        expect(declared.map(({ name, type }) => [name, String(type).toLowerCase()])).toEqual([
          ['fullcontact', 'varchar(80)'],
          ['useragent', 'varchar(255)'],
        ]);
      }
    });

    it('registers a 300-character Contact and a 400-character User-Agent: 200, the binding whole, the row shortened (MariaDB) or whole (SQLite), lastms 0, one warning per column', async () => {
      const contact = longContact(phone.peer.address.port);
      expect((await row('1001')).lastms).toBeNull();
      const ok = await register('1001', 'secret1001', contact, USER_AGENT);
      expect(statusOf(ok), ok).toBe(200);
      expect(ok).toContain(`<${contact}>;expires=`);

      const written = await row('1001');
      expect(written).toMatchObject({ ipaddr: PHONE, port: phone.peer.address.port, lastms: 0 });
      if (kind.name === 'mysql') {
        expect(written).toMatchObject({
          fullcontact: `sip:1001@${PHONE}:${phone.peer.address.port};transport=udp`,
          useragent: USER_AGENT.slice(0, 255),
        });
        expect(truncationLines().map(({ peer, column, length, size }) => ({ peer, column, length, size }))).toEqual([
          { peer: '1001', column: 'fullcontact', length: 300, size: 80 },
          { peer: '1001', column: 'useragent', length: 400, size: 255 },
        ]);
        expect(truncationLines()[0]?.msg).toBe(
          "sippeers.fullcontact of peer 1001: 300 characters do not fit the column's 80; the row holds a shortened copy, the registration keeps the whole value",
        );
      } else {
        expect(written).toMatchObject({ fullcontact: contact, useragent: USER_AGENT });
        expect(truncationLines()).toEqual([]);
      }

      // A refresh cuts the same values again, and says nothing more.
      const warnings = truncationLines().length;
      expect(statusOf(await register('1001', 'secret1001', contact, USER_AGENT))).toBe(200);
      expect(truncationLines()).toHaveLength(warnings);
    });

    // On drachtio, what drachtio-server 0.9.4 makes of it: it copies each proxy destination into a char[URI_LEN]
    // (drachtio.h:114, URI_LEN 256) with strncpy(…, URI_LEN - 1) (sip-proxy-controller.hpp:351), so a destination
    // of more than 255 characters goes cut to its first 255, both as next hop and as Request-URI (docs/engines.md, "The
    // drachtio engine", 14). Asserted, not skipped: a drachtio-server that stops cutting fails this case.
    it('reaches the phone at its whole Contact when a trusted caller calls it (through drachtio-server: its first 255 characters)', async () => {
      const contact = longContact(phone.peer.address.port);
      const { port } = caller.address;
      const callId = `writeback-${Date.now()}@${CALLER}`;
      caller.send(
        sipRequest([
          `INVITE sip:1001@${server.sip.address} SIP/2.0`,
          `Via: SIP/2.0/UDP ${CALLER}:${port};branch=z9hG4bK-writeback-${Date.now()}`,
          'Max-Forwards: 70',
          `From: <sip:pbx@${CALLER}>;tag=writeback`,
          `To: <sip:1001@${server.sip.address}>`,
          `Call-ID: ${callId}`,
          'CSeq: 1 INVITE',
          `Contact: <sip:pbx@${CALLER}:${port}>`,
        ]),
        server.sip,
      );
      const atPhone = await phone.peer.receive(new RegExp(`Call-ID: ${callId.replaceAll('.', '\\.')}`), 3000);
      const requestUri = testEngine === 'native' ? contact : contact.slice(0, DRACHTIO_DESTINATION_CHARS);
      expect(atPhone?.split('\r\n')[0]).toBe(`INVITE ${requestUri} SIP/2.0`);
    });

    it('drouter peers shows a static peer at its host and port (5060 when the row has none), as sip show peers does', async () => {
      await scratch.exec(
        "INSERT INTO sippeers (name, host, type, port, context) VALUES ('trunk1', ?, 'peer', 5070, 'from-trunk'), ('trunk2', 'sbc.example.net', 'peer', NULL, 'from-trunk')",
        [STATIC_HOST],
      );
      const peers = await drouter('peers');
      expect(peers.stderr).toBe('');
      expect(peers.code).toBe(0);
      expect(peers.stdout).toMatch(
        new RegExp(`^\\s*trunk1\\s+${STATIC_HOST.replaceAll('.', '\\.')}\\s+5070\\s+unmonitored\\s+yes$`, 'm'),
      );
      expect(peers.stdout).toMatch(/^\s*trunk2\s+sbc\.example\.net\s+5060\s+unmonitored\s+yes$/m);
      expect(peers.stdout).toMatch(
        new RegExp(
          `^\\s*1001\\s+${PHONE.replaceAll('.', '\\.')}\\s+D\\s+${phone.peer.address.port}\\s+registered\\s+yes$`,
          'm',
        ),
      );
      expect(peers.stdout).toMatch(/^\s*1002\s+\(Unspecified\)\s+D\s+0\s+unregistered\s+yes$/m);
    });

    it('drouter peer NAME --prune drops the cached peer (rtcachefriends): a changed secret counts at once', async () => {
      const contact = `sip:1002@${PHONE}:${phone.peer.address.port}`;
      expect(statusOf(await register('1002', 'secret1002', contact, 'Zoiper rv2.10'))).toBe(200);
      await scratch.exec("UPDATE sippeers SET secret = 'renewed1002' WHERE name = '1002'");
      // The cached copy still has the old secret.
      expect(statusOf(await register('1002', 'renewed1002', contact, 'Zoiper rv2.10'))).toBe(401);

      const pruned = await drouter('peer', '1002', '--prune');
      expect(pruned.stderr).toBe('');
      expect(pruned.code).toBe(0);
      expect(pruned.stdout).toBe('peer 1002: cached copy dropped; the next lookup reads its sippeers row\n');
      expect(statusOf(await register('1002', 'renewed1002', contact, 'Zoiper rv2.10'))).toBe(200);

      // Never looked up, so never cached (GET /peers looks up every dynamic peer, and caches it).
      const nothing = await drouter('peer', 'nobody', '--prune');
      expect(nothing.code).toBe(1);
      expect(nothing.stderr).toContain('DROUTER_ERR_NOT_FOUND: no cached peer named "nobody": nothing to prune');
    });
  },
);

const REDIS_URL = process.env.DROUTER_TEST_REDIS_URL;

describeUnless(redisMissing())('drouter peer NAME --prune on a pair sharing Redis', () => {
  const NODE_A = '127.0.0.204';
  const NODE_B = '127.0.0.205';
  const PAIR_PHONE = '127.0.0.206';
  const KEY_PREFIX = `wbprune${process.pid}:`;
  let scratch: ScratchDatabase;
  let nodes: TestServer[] = [];
  let udp: UdpPeer;

  beforeAll(async () => {
    const [sqlite] = databaseKinds();
    if (!sqlite) throw new Error('no SQLite database kind');
    scratch = await sqlite.create('prune-pair');
    // A prefix of this run's own: the keys of other files and runs stay apart.
    const cache = { url: REDIS_URL, keyPrefix: KEY_PREFIX };
    const overrides = { store: { url: scratch.url }, cache, registrar: { rtcachefriends: true } };
    nodes = [await startTestServer(NODE_A, overrides), await startTestServer(NODE_B, overrides)];
    udp = await UdpPeer.bind(PAIR_PHONE);
  });

  afterAll(async () => {
    udp?.close();
    for (const node of nodes) await node.close();
    await scratch?.drop();
    // Cached peers have no expiry without rtautoclear.
    const redis = new Redis(REDIS_URL ?? '', { lazyConnect: true, maxRetriesPerRequest: 1 });
    await redis.connect();
    const keys = await redis.keys(`${KEY_PREFIX}*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  });

  it('drops the copy node A cached when asked through node B', async () => {
    const [a, b] = nodes;
    if (!a || !b) throw new Error('the pair did not start');
    const phoneOfA = new RegisteringPhone(udp, a.sip);
    expect(statusOf(await phoneOfA.register('1004', 'secret1004'))).toBe(200);
    await scratch.exec("UPDATE sippeers SET secret = 'renewed1004' WHERE name = '1004'");
    expect(statusOf(await phoneOfA.register('1004', 'renewed1004'))).toBe(401);
    const pruned = await runDrouter(['peer', '1004', '--prune', '--json', '--url', b.server.adminUrl], {
      DROUTER_STORE__URL: scratch.url,
    }).finished;
    expect(pruned.code).toBe(0);
    expect(JSON.parse(pruned.stdout)).toEqual({ name: '1004', pruned: true });
    expect(statusOf(await phoneOfA.register('1004', 'renewed1004'))).toBe(200);
  });
});
