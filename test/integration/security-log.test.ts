import { execFile, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { systemClock } from '../../src/clock.js';
import { openSecurityLog } from '../../src/security-log/security-log.js';
import { ackOf, finalResponse, inviteFrom, withProxyAuthorization } from '../support/calling-phone.js';
import { REPO_ROOT } from '../support/repo-root.js';
import { startTestServer, type TestServer, testEngine } from '../support/drouter-server.js';
import { captureLog, type CapturedLog } from '../support/log-capture.js';
import { escapeRegExp } from '../support/regexp.js';
import { challengesOf, digestAuthorization, RegisteringPhone, statusOf } from '../support/registering-phone.js';
import { execSql } from '../support/sqlite-file.js';
import { sipRequest, UdpPeer } from '../support/udp-peer.js';
import { describeUnless } from '../support/skip-reason.js';

/**
 * The security log (docs/security.md "Security log and fail2ban"): every failure the
 * proxy refuses over real UDP lands in log.securityFile as a line Debian
 * fail2ban's stock `asterisk` filter matches, with the right source, and
 * nothing else does; the shipped filter and jail work with fail2ban too.
 * Needs fail2ban (fail2ban-regex and /etc/fail2ban); skipped without it,
 * unless DROUTER_TEST_FAIL2BAN is set (as .ci/run sets it): then missing is
 * a failure. Proxy on 127.0.0.140, a registering phone on .141, a caller on
 * .142, a forger of in-dialog requests on .143; peer 1003 may be used from
 * .148 only, and 1004's host is .149 (a static host may not register).
 */
const STOCK_FILTER = '/etc/fail2ban/filter.d/asterisk.conf';
const OUR_FILTER = join(REPO_ROOT, 'config', 'fail2ban', 'filter.d', 'sip-drouter.conf');
const OUR_JAIL = join(REPO_ROOT, 'config', 'fail2ban', 'jail.d', 'sip-drouter.conf');

function fail2banMissing(): string {
  if (spawnSync('fail2ban-regex', ['--version']).error === undefined && existsSync(STOCK_FILTER)) return '';
  if (process.env.DROUTER_TEST_FAIL2BAN)
    throw new Error(
      `DROUTER_TEST_FAIL2BAN is set but fail2ban-regex or ${STOCK_FILTER} is missing (apt-get install fail2ban)`,
    );
  return `fail2ban-regex or ${STOCK_FILTER} is missing (apt-get install fail2ban)`;
}

const PROXY = '127.0.0.140';
const REGISTERING = '127.0.0.141';
const CALLER = '127.0.0.142';
const FORGER = '127.0.0.143';
const PERMITTED = '127.0.0.148';
const STATIC_HOST = '127.0.0.149';

interface Fail2banResult {
  lines: number;
  matched: number;
  missed: number;
  /** The source of each matched line, in order. */
  hosts: string[];
}

/** fail2ban-regex over `file` with `filter`: its summary line, and the address it found in each matched line. */
async function fail2banRegex(file: string, filter: string): Promise<Fail2banResult> {
  const run = promisify(execFile);
  const summary = await run('fail2ban-regex', [file, filter], { encoding: 'utf8', timeout: 30_000 });
  const counts = /^Lines: (\d+) lines, (\d+) ignored, (\d+) matched, (\d+) missed/m.exec(summary.stdout);
  if (!counts)
    throw new Error(`no "Lines:" summary from fail2ban-regex ${file} ${filter}:\n${summary.stdout}\n${summary.stderr}`);
  const hosts = await run('fail2ban-regex', ['-o', 'ip', file, filter], { encoding: 'utf8', timeout: 30_000 });
  return {
    lines: Number(counts[1]),
    matched: Number(counts[3]),
    missed: Number(counts[4]),
    hosts: hosts.stdout.split('\n').filter((line) => line !== ''),
  };
}

function linesOf(file: string): string[] {
  return existsSync(file)
    ? readFileSync(file, 'utf8')
        .split('\n')
        .filter((line) => line !== '')
    : [];
}

/** The file's lines once it holds `count` (the writes are asynchronous), within 3 s. */
async function linesWhen(file: string, count: number): Promise<string[]> {
  const deadline = Date.now() + 3000;
  while (linesOf(file).length < count && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  return linesOf(file);
}

describeUnless(fail2banMissing())(`the security log, read by fail2ban (${testEngine} engine)`, () => {
  let dir: string;
  let securityFile: string;
  let server: TestServer;
  let captured: CapturedLog;
  const peers: UdpPeer[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'drouter-security-log-'));
    securityFile = join(dir, 'security.log');
    captured = captureLog();
    server = await startTestServer(
      PROXY,
      { auth: { trustedSources: [] }, log: { level: 'silent', securityFile } },
      captured.log,
    );
    execSql(
      server.storeFile,
      `UPDATE sippeers SET deny = '0.0.0.0/0.0.0.0', permit = '${PERMITTED}/255.255.255.255' WHERE name = '1003';
       UPDATE sippeers SET host = '${STATIC_HOST}' WHERE name = '1004'`,
    );
  });
  afterAll(async () => {
    for (const peer of peers) peer.close();
    await server?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function peerAt(address: string): Promise<UdpPeer> {
    const peer = await UdpPeer.bind(address);
    peers.push(peer);
    return peer;
  }

  /** A call answered with `user`'s credentials after the 407; the final status of the second INVITE. */
  async function call(
    from: UdpPeer,
    number: string,
    caller: string,
    credentials: { user: string; password: string },
    callId?: string,
  ): Promise<number | undefined> {
    const proxy = `${server.sip.address}:${server.sip.port}`;
    const made = inviteFrom(from, proxy, number);
    const attempt = {
      ...made,
      callId: callId ?? made.callId,
      invite: made.invite
        .replace('<sip:1001@127.0.0.1>', `<sip:${caller}@127.0.0.1>`)
        .replaceAll(made.callId, callId ?? made.callId),
    };
    from.send(attempt.invite, server.sip);
    const first = await finalResponse(from, attempt);
    const [challenge] = challengesOf(first);
    if (!challenge) throw new Error(`no challenge for the call from ${caller}:\n${first}`);
    from.send(ackOf(attempt.invite, first), server.sip);
    const authorization = digestAuthorization(
      'Proxy-Authorization',
      'INVITE',
      credentials.user,
      credentials.password,
      challenge,
      `sip:${number}@${proxy}`,
    );
    from.send(withProxyAuthorization(attempt, authorization, caller), server.sip);
    // By its Call-ID: the finals of earlier calls are retransmitted, for this helper does not ACK them.
    return statusOf(
      await from.receive(
        new RegExp(`^SIP/2\\.0 [2-6]\\d\\d [\\s\\S]*Call-ID: ${escapeRegExp(attempt.callId)}\\r\\nCSeq: 2 INVITE`),
        4000,
      ),
    );
  }

  /** A request inside a made-up dialog (a To tag) with our Route on top, without a dialog token. */
  function forged(from: UdpPeer, method: string, branch: string): string {
    return sipRequest([
      `${method} sip:victim@127.0.0.147:5060 SIP/2.0`,
      `Via: SIP/2.0/UDP ${FORGER}:${from.address.port};branch=z9hG4bK-${branch}`,
      'Max-Forwards: 70',
      `Route: <sip:${server.sip.address}:${server.sip.port};lr>`,
      `From: <sip:1001@${PROXY}>;tag=attacker`,
      `To: <sip:victim@127.0.0.147>;tag=victim`,
      `Call-ID: ${branch}@${FORGER}`,
      `CSeq: 1 ${method}`,
    ]);
  }

  it('writes a line for every refused REGISTER, call and in-dialog request, each matched by the stock asterisk filter with its source, and none for what succeeded', async () => {
    const phone = new RegisteringPhone(await peerAt(REGISTERING), server.sip);
    expect(statusOf(await phone.register('1001', 'not-the-secret'))).toBe(401);
    expect(statusOf(await phone.register('nobody7', 'whatever'))).toBe(401);
    const challenge = challengesOf(await phone.send(phone.request('1002')))[0];
    if (!challenge) throw new Error('no challenge');
    expect(
      statusOf(await phone.send(phone.request('1002', [phone.authorization('1001', 'secret1001', challenge)]))),
    ).toBe(403);
    expect(statusOf(await phone.register('1003', 'secret1003'))).toBe(401);
    expect(statusOf(await phone.register('1004', 'secret1004'))).toBe(401);
    // What succeeds, and a refusal after a right password (its bindings), write nothing there.
    expect(statusOf(await phone.register('1002', 'secret1002'))).toBe(200);
    expect(statusOf(await phone.register('1002', 'secret1002', ['Expires: 10']))).toBe(423);
    const registrations = 5;

    const caller = await peerAt(CALLER);
    expect(await call(caller, '01144201230140', '1001', { user: '1001', password: 'not-the-secret' })).toBe(407);
    expect(await call(caller, '01144201230141', '1001', { user: '1002', password: 'secret1002' })).toBe(403);
    expect(await call(caller, '01144201230142', 'nobody7', { user: 'nobody7', password: 'whatever' })).toBe(407);
    expect(await call(caller, '01144201230143', '1003', { user: '1003', password: 'secret1003' })).toBe(407);
    // A quote in the From and a parenthesis in the Call-ID (both legal) must not end their fields early.
    expect(
      await call(caller, '01144201230144', "o'neil", { user: "o'neil", password: 'whatever' }, `evil)-x@${CALLER}`),
    ).toBe(407);
    const calls = 5;

    // drachtio-server relays in-dialog requests itself, without asking us (docs/engines.md "Where it differs" 6).
    let inDialog = 0;
    if (testEngine === 'native') {
      const forger = await peerAt(FORGER);
      for (const method of ['INVITE', 'BYE']) {
        forger.send(forged(forger, method, `forged-${method}`), server.sip);
        expect(statusOf(await forger.receive(new RegExp(`branch=z9hG4bK-forged-${method}`)))).toBe(403);
        inDialog++;
      }
    }

    const failures = registrations + calls + inDialog;
    const written = await linesWhen(securityFile, failures);
    expect(written).toHaveLength(failures);
    expect(written[0]).toMatch(
      new RegExp(
        `^\\[\\w{3} [ \\d]\\d \\d\\d:\\d\\d:\\d\\d\\] NOTICE\\[${process.pid}\\] chan_sip\\.c: Registration from '<sip:1001@${server.sip.address.replaceAll('.', '\\.')}>' failed for '${REGISTERING.replaceAll('.', '\\.')}:\\d+' - Wrong password$`,
      ),
    );
    expect(written.at(registrations + calls - 1)).toMatch(
      /res_pjsip\/pjsip_distributor\.c: Request 'INVITE' from '<sip:o%27neil@127\.0\.0\.1>' failed for '127\.0\.0\.142:\d+' \(callid: evil%29-x@127\.0\.0\.142\) - No matching endpoint found$/,
    );

    const result = await fail2banRegex(securityFile, STOCK_FILTER);
    expect(result).toEqual({
      lines: failures,
      matched: failures,
      missed: 0,
      hosts: [
        ...Array<string>(registrations).fill(REGISTERING),
        ...Array<string>(calls).fill(CALLER),
        ...Array<string>(inDialog).fill(FORGER),
      ],
    });
    // The JSON log keeps its lines: one per failure, and the refused binding's.
    const messages = captured.messages();
    expect(messages.filter((message) => message.startsWith('Registration from'))).toHaveLength(registrations + 1);
    expect(messages.filter((message) => message.startsWith('Call from'))).toHaveLength(calls);
    expect(messages.filter((message) => message.startsWith('In-dialog'))).toHaveLength(inDialog);
  }, 30_000);

  it('writes to a new file after a reopen (SIGHUP, once logrotate moved the old one)', async () => {
    const before = linesOf(securityFile).length;
    renameSync(securityFile, `${securityFile}.1`);
    server.server.reopenLogs();
    const phone = new RegisteringPhone(await peerAt(REGISTERING), server.sip);
    expect(statusOf(await phone.register('1001', 'not-the-secret'))).toBe(401);
    const written = await linesWhen(securityFile, 1);
    expect(written).toHaveLength(1);
    expect(written[0]).toMatch(
      /Registration from '<sip:1001@[\d.]+>' failed for '127\.0\.0\.141:\d+' - Wrong password$/,
    );
    expect(linesOf(`${securityFile}.1`)).toHaveLength(before);
    expect(await fail2banRegex(securityFile, STOCK_FILTER)).toMatchObject({
      matched: 1,
      missed: 0,
      hosts: [REGISTERING],
    });
  });

  it('writes bans and dropped scanners that the shipped sip-drouter filter reads, and the stock asterisk filter does not count', async () => {
    const file = join(dir, 'bans.log');
    const security = openSecurityLog(file, captured.log, systemClock);
    security.sourceBanned('192.0.2.7', '10 failed authentications in 60 seconds', 300);
    security.scannerDropped('192.0.2.8', 'friendly-scanner');
    await security.close();
    expect(linesOf(file)).toEqual([
      expect.stringMatching(
        /NOTICE\[\d+\] sip-drouter: Source '192\.0\.2\.7' banned for 300 seconds - 10 failed authentications in 60 seconds$/,
      ),
      expect.stringMatching(
        /NOTICE\[\d+\] sip-drouter: Scanner from '192\.0\.2\.8' dropped - User-Agent 'friendly-scanner'$/,
      ),
    ]);
    expect(await fail2banRegex(file, OUR_FILTER)).toEqual({
      lines: 2,
      matched: 2,
      missed: 0,
      hosts: ['192.0.2.7', '192.0.2.8'],
    });
    expect(await fail2banRegex(file, STOCK_FILTER)).toMatchObject({ matched: 0, missed: 2 });
  });

  it('ships a jail that fail2ban accepts (fail2ban-client -t, on a copy of /etc/fail2ban)', async () => {
    const conf = join(dir, 'fail2ban');
    cpSync('/etc/fail2ban', conf, { recursive: true });
    // The machine's own jails left out (their logs may be missing here), ours in, with this test's log path.
    rmSync(join(conf, 'jail.d'), { recursive: true, force: true });
    rmSync(join(conf, 'jail.local'), { force: true });
    mkdirSync(join(conf, 'jail.d'));
    cpSync(OUR_JAIL, join(conf, 'jail.d', 'sip-drouter.conf'));
    cpSync(OUR_FILTER, join(conf, 'filter.d', 'sip-drouter.conf'));
    writeFileSync(
      join(conf, 'jail.local'),
      `[sip-drouter]\nlogpath = ${securityFile}\n[sip-drouter-bans]\nlogpath = ${securityFile}\n`,
    );
    const run = await promisify(execFile)('fail2ban-client', ['-c', conf, '-t'], { encoding: 'utf8', timeout: 30_000 });
    expect(`${run.stdout}${run.stderr}`).toMatch(/OK: configuration test is successful/);
  });
});
