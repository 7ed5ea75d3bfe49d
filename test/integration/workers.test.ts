import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { cacheKeys } from '../../src/cache/keys.js';
import { type Call, cancelOf, finalResponse, inviteFrom, provisionalResponse } from '../support/calling-phone.js';
import { freePort, type RunningDrouter, runDrouter, waitForOutput } from '../support/drouter-process.js';
import { TRUSTED_TEST_SOURCES } from '../support/drouter-server.js';
import { parseExposition, sampleValue } from '../support/exposition.js';
import { deleteKeys } from '../support/redis-keys.js';
import { challengesOf, registerAuthorization, RegisteringPhone, statusOf } from '../support/registering-phone.js';
import { escapeRegExp } from '../support/regexp.js';
import { ScriptedGateway } from '../support/scripted-gateway.js';
import { sippCall, sippMissing } from '../support/sipp.js';
import { execSql } from '../support/sqlite-file.js';
import { TcpPeer } from '../support/tcp-peer.js';
import { sipRequest, UdpPeer } from '../support/udp-peer.js';
import { describeUnless, itUnless, redisMissing } from '../support/skip-reason.js';
import { header, responseTo } from '../support/message-text.js';

/**
 * `drouter start --workers 3`: three worker processes on one SIP socket
 * (127.0.0.180:5060, UDP and TCP), one Redis, one SQLite file with the
 * example data; gateways 1 and 2 on 127.0.0.181 and .182, a calling phone
 * on .183, a UDP phone registering on .184, "Asterisk" calling the phones
 * from .185, a TCP phone on .186, sipp on .187 (.188: a second node). The kernel hands each
 * datagram to any worker: every call, CANCEL, retransmission and
 * registration must still complete exactly once, and the hand-off counter
 * shows the workers passed messages to their owners.
 */
const REDIS_TEST_URL = process.env.DROUTER_TEST_REDIS_URL;
const WORKERS = 3;
const SIP = { address: '127.0.0.180', port: 5060 };
const PROXY = `${SIP.address}:${SIP.port}`;
const GATEWAY_1 = '127.0.0.181';
const GATEWAY_2 = '127.0.0.182';

interface WorkerLine {
  worker: number;
  pid: number | null;
  ready: boolean;
  restarts: number;
  admin: string | null;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` every 50 ms until it holds, for at most `withinMs`; the last value. */
async function eventually<T>(read: () => Promise<T>, check: (value: T) => boolean, withinMs: number): Promise<T> {
  const deadline = Date.now() + withinMs;
  let value = await read();
  while (!check(value) && Date.now() < deadline) {
    await sleep(50);
    value = await read();
  }
  return value;
}

const uriOf = (nameAddr: string | undefined) => /<([^>]+)>/.exec(nameAddr ?? '')?.[1] ?? '';

/** The ACK of a non-2xx final (RFC 3261 §17.1.1.3): the INVITE's Request-URI and Via (its branch), the final's To. */
function ackOfFailure(call: Call, final: string | undefined): string {
  const requestUri = /^INVITE (\S+)/.exec(call.invite)?.[1] ?? '';
  const via = header(call.invite, 'Via')[0] ?? '';
  return sipRequest([
    `ACK ${requestUri} SIP/2.0`,
    `Via: ${via}`,
    'Max-Forwards: 70',
    `From: ${header(call.invite, 'From')[0] ?? ''}`,
    `To: ${header(final, 'To')[0] ?? ''}`,
    `Call-ID: ${call.callId}`,
    'CSeq: 1 ACK',
  ]);
}

describeUnless(redisMissing())(`drouter start --workers ${WORKERS} (real processes, one Redis)`, () => {
  const prefix = `sipdr-test:${process.pid}:workers:`;
  let dir: string;
  let storeFile: string;
  let node: RunningDrouter;
  let admin: string;
  let gateway1: ScriptedGateway;
  let gateway2: ScriptedGateway;
  let phone: UdpPeer;
  /** INVITEs that began a transaction, as sent by every test so far (retransmissions not counted). */
  let invitesSent = 0;

  async function adminGet<T>(path: string, base = admin): Promise<T> {
    const response = await fetch(`${base}${path}`);
    return (await response.json()) as T;
  }

  const workers = async () => (await adminGet<{ workers: WorkerLine[] }>('/health')).workers;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'drouter-workers-'));
    storeFile = join(dir, 'drouter.db');
    const env = { DROUTER_STORE__URL: `sqlite:${storeFile}` };
    expect((await runDrouter(['seed'], env).finished).code).toBe(0);
    execSql(
      storeFile,
      `UPDATE dr_gateways SET address = '${GATEWAY_1}:5060' WHERE gwid = '1'; UPDATE dr_gateways SET address = '${GATEWAY_2}:5060' WHERE gwid = '2'`,
    );
    const adminPort = await freePort();
    admin = `http://127.0.0.1:${adminPort}`;
    node = runDrouter(['start', '--workers', String(WORKERS)], {
      ...env,
      DROUTER_CACHE__URL: REDIS_TEST_URL ?? '',
      DROUTER_CACHE__KEY_PREFIX: prefix,
      DROUTER_SIP__ADDRESS: SIP.address,
      DROUTER_SIP__PORT: String(SIP.port),
      DROUTER_ADMIN__PORT: String(adminPort),
      DROUTER_PROBE__ENABLED: 'false',
      DROUTER_PROXY__TIMEOUT_MS: '1000',
      DROUTER_AUTH__TRUSTED_SOURCES: TRUSTED_TEST_SOURCES,
    });
    await waitForOutput(node, new RegExp(`drouter started with ${WORKERS} workers`), 20_000);
    gateway1 = await ScriptedGateway.start(GATEWAY_1);
    gateway2 = await ScriptedGateway.start(GATEWAY_2);
    phone = await UdpPeer.bind('127.0.0.183');
  }, 40_000);

  afterAll(async () => {
    phone?.close();
    gateway1?.close();
    gateway2?.close();
    if (node && node.child.exitCode === null) {
      node.child.kill('SIGKILL');
      await node.finished;
    }
    await deleteKeys(REDIS_TEST_URL ?? '', cacheKeys(prefix).all);
    rmSync(dir, { recursive: true, force: true });
  });

  beforeEach(() => {
    gateway1.script = 'answer';
    gateway2.script = 'answer';
  });

  /** What a gateway received for one call, by method. */
  const receivedFor = (gateway: ScriptedGateway, call: Call, method: string) =>
    gateway.requests(method).filter((m) => m.headers['call-id'] === call.callId).length;

  /**
   * A call from the phone: the INVITE sent `copies` times back to back (the
   * retransmissions land on any worker), 200, ACK and BYE through the
   * Record-Route; resolves with the Call, rejects naming what was missing.
   */
  async function completeCall(number: string, copies = 3): Promise<Call> {
    const call = inviteFrom(phone, PROXY, number);
    invitesSent++;
    for (let i = 0; i < copies; i++) phone.send(call.invite, SIP);
    const ok = await finalResponse(phone, call);
    if (statusOf(ok) !== 200) throw new Error(`call ${call.callId}: final ${statusOf(ok) ?? 'none'}, not 200`);
    const route = header(ok, 'Record-Route')[0] ?? '';
    const inDialog = (method: string, cseq: number) =>
      sipRequest([
        `${method} ${uriOf(header(ok, 'Contact')[0])} SIP/2.0`,
        `Via: SIP/2.0/UDP ${phone.address.address}:${phone.address.port};branch=z9hG4bK-${method.toLowerCase()}-${call.callId}`,
        'Max-Forwards: 70',
        `Route: ${route}`,
        `From: ${header(call.invite, 'From')[0] ?? ''}`,
        `To: ${header(ok, 'To')[0] ?? ''}`,
        `Call-ID: ${call.callId}`,
        `CSeq: ${cseq} ${method}`,
      ]);
    phone.send(inDialog('ACK', 1), SIP);
    phone.send(inDialog('BYE', 2), SIP);
    const byeOk = await phone.receive(
      new RegExp(`^SIP/2\\.0 200 [\\s\\S]*Call-ID: ${escapeRegExp(call.callId)}\\r\\nCSeq: 2 BYE`, 'i'),
      4000,
    );
    if (statusOf(byeOk) !== 200) throw new Error(`call ${call.callId}: no 200 for the BYE`);
    return call;
  }

  /** Waits until the gateway got `count` of `method` for every call (hop-by-hop ACKs may trail the final). */
  async function expectEach(
    gateway: ScriptedGateway,
    calls: readonly Call[],
    method: string,
    count: number,
  ): Promise<void> {
    const counts = await eventually(
      async () => calls.map((call) => receivedFor(gateway, call, method)),
      (values) => values.every((value) => value === count),
      2000,
    );
    expect(counts, `${method} per call at ${gateway.address}`).toEqual(calls.map(() => count));
  }

  it('completes every call (INVITE/180/200/ACK/BYE): each INVITE, sent three times, reaches the gateway once', async () => {
    const calls: Call[] = [];
    for (let batch = 0; batch < 3; batch++)
      calls.push(...(await Promise.all(Array.from({ length: 8 }, (_, i) => completeCall(`0114420${batch}${i}0000`)))));
    expect(calls).toHaveLength(24);
    await expectEach(gateway1, calls, 'INVITE', 1);
    await expectEach(gateway1, calls, 'ACK', 1);
    await expectEach(gateway1, calls, 'BYE', 1);
    for (const call of calls) expect(receivedFor(gateway2, call, 'INVITE')).toBe(0);
  });

  it('fails every call over to gateway 2 when gateway 1 answers 503, once each', async () => {
    gateway1.script = 'unavailable';
    const calls = await Promise.all(
      Array.from({ length: 12 }, (_, i) => completeCall(`01144209${String(i).padStart(2, '0')}000`)),
    );
    await expectEach(gateway1, calls, 'INVITE', 1);
    // The 503 is ACKed hop by hop by the worker that sent the INVITE.
    await expectEach(gateway1, calls, 'ACK', 1);
    await expectEach(gateway2, calls, 'INVITE', 1);
    await expectEach(gateway2, calls, 'BYE', 1);
  });

  it('cancels calls before the answer: the CANCEL (sent twice) reaches the worker holding the INVITE, 200 then 487', async () => {
    gateway1.script = 'ring';
    const cancelled = await Promise.all(
      Array.from({ length: 9 }, async (_, i) => {
        const call = inviteFrom(phone, PROXY, `0114420777${i}000`);
        invitesSent++;
        phone.send(call.invite, SIP);
        expect(statusOf(await provisionalResponse(phone, call, 180))).toBe(180);
        phone.send(cancelOf(call), SIP);
        phone.send(cancelOf(call), SIP);
        const cancelOk = await phone.receive(
          new RegExp(`^SIP/2\\.0 200 [\\s\\S]*Call-ID: ${escapeRegExp(call.callId)}\\r\\nCSeq: 1 CANCEL`, 'i'),
        );
        expect(statusOf(cancelOk)).toBe(200);
        const final = await finalResponse(phone, call);
        expect(statusOf(final)).toBe(487);
        phone.send(ackOfFailure(call, final), SIP);
        return call;
      }),
    );
    await expectEach(gateway1, cancelled, 'INVITE', 1);
    await expectEach(gateway1, cancelled, 'CANCEL', 1);
    await expectEach(gateway1, cancelled, 'ACK', 1);
    // The phone's ACK stopped the 487's retransmissions: none comes within timer G's first interval and more.
    await sleep(700);
    const retransmitted = await phone.receive(/^SIP\/2\.0 487 /, 10);
    expect(retransmitted).toBeUndefined();
  });

  itUnless(sippMissing())(
    'carries sipp calls at 40 calls/s, every one completed, each INVITE once at the gateway',
    async () => {
      const before = gateway1.requests('INVITE').length;
      const run = await sippCall({
        scenario: 'uac-call.xml',
        localIp: '127.0.0.187',
        target: SIP,
        service: '01144201234567',
        replace: { HOLD_MS: '200' },
        calls: 120,
        ratePerSecond: 40,
        timeoutSeconds: 25,
      });
      invitesSent += 120;
      expect(run.code, run.stdout.slice(-2000)).toBe(0);
      expect(gateway1.requests('INVITE').length - before).toBe(120);
    },
    40_000,
  );

  it('registers a UDP phone with digest (nonce of one worker, credentials on another) and every worker sees its binding', async () => {
    const peer = await UdpPeer.bind('127.0.0.184');
    const registering = new RegisteringPhone(peer, SIP);
    const caller = await UdpPeer.bind('127.0.0.185');
    try {
      // Each REGISTER has a branch of its own, so its owner is any worker.
      for (let i = 0; i < 3; i++)
        expect(statusOf(await registering.register('1001', 'secret1001', [], 'MD5'))).toBe(200);
      const lines = await workers();
      for (const line of lines) {
        const seen = await adminGet<{ bindings: { source: string }[] }>('/peers/1001', line.admin ?? '');
        expect(
          seen.bindings.map((binding) => binding.source),
          `worker ${line.worker}`,
        ).toEqual([`udp:127.0.0.184:${peer.address.port}`]);
      }
      // Asterisk calls the phone: whichever worker owns each INVITE finds the binding and reaches it.
      for (let i = 0; i < 6; i++) {
        const call = inviteFrom(caller, PROXY, '1001');
        invitesSent++;
        caller.send(call.invite, SIP);
        const arrived = await peer.receive(new RegExp(`^INVITE [\\s\\S]*${escapeRegExp(call.callId)}`));
        expect(arrived, `INVITE ${i} reached the phone`).toBeDefined();
        peer.send(responseTo(arrived ?? '', 200, 'OK', `sip:1001@127.0.0.184:${peer.address.port}`), SIP);
        expect(statusOf(await finalResponse(caller, call))).toBe(200);
      }
    } finally {
      peer.close();
      caller.close();
    }
  });

  it('reaches a phone registered over TCP from every worker: a worker without its connection hands the send to the one holding it', async () => {
    const tcpPhone = await TcpPeer.connect('127.0.0.186', SIP);
    const caller = await UdpPeer.bind('127.0.0.185');
    try {
      const contact = `sip:1002@127.0.0.186:${tcpPhone.localPort};transport=tcp`;
      const register = (cseq: number, extra: string[] = []) =>
        sipRequest([
          `REGISTER sip:${SIP.address} SIP/2.0`,
          `Via: SIP/2.0/TCP 127.0.0.186:${tcpPhone.localPort};branch=z9hG4bK-tcpreg-${cseq};rport`,
          'Max-Forwards: 70',
          `From: <sip:1002@${SIP.address}>;tag=tcpreg`,
          `To: <sip:1002@${SIP.address}>`,
          'Call-ID: tcp-register-1002',
          `CSeq: ${cseq} REGISTER`,
          `Contact: <${contact}>`,
          ...extra,
        ]);
      tcpPhone.send(register(1));
      const challenge = challengesOf(await tcpPhone.receive(/CSeq: 1 REGISTER/)).find((c) => c.algorithm === 'MD5');
      expect(challenge).toBeDefined();
      tcpPhone.send(
        register(2, [
          registerAuthorization(
            '1002',
            'secret1002',
            challenge ?? { algorithm: 'MD5', nonce: '', realm: '' },
            `sip:${SIP.address}`,
          ),
        ]),
      );
      expect(statusOf(await tcpPhone.receive(/^SIP\/2\.0 200 [\s\S]*CSeq: 2 REGISTER/))).toBe(200);

      for (let i = 0; i < 8; i++) {
        const call = inviteFrom(caller, PROXY, '1002');
        invitesSent++;
        caller.send(call.invite, SIP);
        const arrived = await tcpPhone.receive(new RegExp(`^INVITE [\\s\\S]*${escapeRegExp(call.callId)}`));
        expect(arrived, `INVITE ${i} reached the phone over its connection`).toBeDefined();
        tcpPhone.send(responseTo(arrived ?? '', 200, 'OK', contact));
        const ok = await finalResponse(caller, call);
        expect(statusOf(ok)).toBe(200);
        // The 2xx ACK has a branch of its own: any worker forwards it, over the phone's connection.
        caller.send(
          sipRequest([
            `ACK ${contact} SIP/2.0`,
            `Via: SIP/2.0/UDP 127.0.0.185:${caller.address.port};branch=z9hG4bK-tcpack-${i}`,
            'Max-Forwards: 70',
            ...header(ok, 'Record-Route').map((route) => `Route: ${route}`),
            `From: ${header(call.invite, 'From')[0] ?? ''}`,
            `To: ${header(ok, 'To')[0] ?? ''}`,
            `Call-ID: ${call.callId}`,
            'CSeq: 1 ACK',
          ]),
          SIP,
        );
        expect(await tcpPhone.receive(new RegExp(`^ACK [\\s\\S]*${escapeRegExp(call.callId)}`))).toBeDefined();
      }
    } finally {
      tcpPhone.close();
      caller.close();
    }
  });

  it('serves one /metrics for the node: the sum of the workers, hand-offs counted, shared gauges not multiplied', async () => {
    const front = parseExposition(await (await fetch(`${admin}/metrics`)).text());
    const perWorker = await Promise.all(
      (await workers()).map(async (line) => parseExposition(await (await fetch(`${line.admin}/metrics`)).text())),
    );
    const invites = { method: 'INVITE' };
    const sum = (labels: Record<string, string>, name: string) =>
      perWorker.reduce((total, families) => total + (sampleValue(families, name, labels) ?? 0), 0);
    expect(sampleValue(front, 'sipdr_sip_requests_total', invites)).toBe(invitesSent);
    expect(sum(invites, 'sipdr_sip_requests_total')).toBe(invitesSent);
    // Each worker handled some: the kernel and the branch hash spread them.
    for (const families of perWorker)
      expect(sampleValue(families, 'sipdr_sip_requests_total', invites)).toBeGreaterThan(0);
    for (const kind of ['request', 'response', 'tcp-send']) {
      const handed = sampleValue(front, 'sipdr_worker_handoffs_total', { kind });
      expect(handed, `hand-offs of kind ${kind}`).toBeGreaterThan(0);
      expect(handed).toBe(sum({ kind }, 'sipdr_worker_handoffs_total'));
    }
    expect(sampleValue(front, 'sipdr_gateway_up', { gateway: '1' })).toBe(1);
    expect(sampleValue(front, 'sipdr_bindings')).toBe(2);
    // Each worker contends for the leader lease on its own: exactly one of them leads (probes, sweeps).
    expect(sampleValue(front, 'sipdr_ha_leader')).toBe(1);
  });

  it("answers GET /ha and /health for the node: the leading worker's view, every worker's role beside", async () => {
    const lines = await workers();
    const ha = await adminGet<{
      role: string;
      holder: string;
      workers: { worker: number; role: string; holder: string }[];
    }>('/ha');
    expect(ha.role).toBe('leader');
    expect(ha.workers.map((w) => w.role).sort()).toEqual(['leader', 'standby', 'standby']);
    // A holder is named after its process: the workers of one node are separate contenders.
    for (const line of lines)
      expect(ha.workers.find((w) => w.worker === line.worker)?.holder).toContain(`/${line.pid}/`);
    const health = await adminGet<{ status: string; ha: { role: string }; workers: { role: string }[] }>('/health');
    expect(health.status).toBe('ok');
    expect(health.ha.role).toBe('leader');
    expect(health.workers.filter((w) => w.role === 'leader')).toHaveLength(1);
  });

  it('restarts a killed worker, which then takes its share of calls again', async () => {
    const before = (await workers()).find((line) => line.worker === 2);
    expect(before?.pid).toBeGreaterThan(0);
    process.kill(before?.pid ?? 0, 'SIGKILL');
    const after = await eventually(
      workers,
      (lines) => lines.some((line) => line.worker === 2 && line.ready && line.pid !== before?.pid),
      10_000,
    );
    expect(after.find((line) => line.worker === 2)).toMatchObject({ ready: true, restarts: 1 });
    expect(node.stdout()).toContain(`worker 2 (pid ${before?.pid}) was killed by SIGKILL; restarting it in 250 ms`);
    const calls = await Promise.all(Array.from({ length: 9 }, (_, i) => completeCall(`0114420555${i}000`)));
    await expectEach(gateway1, calls, 'INVITE', 1);
  });

  it('reloads every worker on SIGHUP to the primary, and on POST /reload (and drouter reload) at the one admin address', async () => {
    const lines = await workers();
    const generation = async (line: WorkerLine) =>
      (await adminGet<{ generation: number }>('/reload', line.admin ?? '')).generation;
    const before = await Promise.all(lines.map(generation));
    execSql(storeFile, "INSERT INTO dr_rules (ruleid, groupid, prefix, gwlist) VALUES (90, '0', '0999', '2')");
    node.child.kill('SIGHUP');
    const after = await eventually(
      () => Promise.all(lines.map(generation)),
      (values) => values.every((value, i) => value === (before[i] ?? 0) + 1),
      5000,
    );
    expect(after).toEqual(before.map((value) => value + 1));
    for (const line of lines) {
      const route = await adminGet<{ destinations: { gwid: string }[] }>(
        '/route?number=0999123&group=0',
        line.admin ?? '',
      );
      expect(
        route.destinations.map((d) => d.gwid),
        `worker ${line.worker}`,
      ).toEqual(['2']);
    }

    const posted = await fetch(`${admin}/reload`, { method: 'POST', headers: { 'content-type': 'application/json' } });
    expect(posted.status).toBe(200);
    const body = (await posted.json()) as {
      ok: boolean;
      workers: { worker: number; ok: boolean; generation: number }[];
    };
    expect(body.ok).toBe(true);
    expect(body.workers.map((w) => [w.worker, w.ok, w.generation])).toEqual(
      lines.map((line, i) => [line.worker, true, (before[i] ?? 0) + 2]),
    );

    // OpenSIPS's MI dr_reload reaches every worker too.
    const mi = await fetch(`${admin}/mi`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"jsonrpc":"2.0","method":"dr_reload","id":1}',
    });
    expect(await mi.json()).toEqual({ jsonrpc: '2.0', result: 'OK', id: 1 });
    expect(await Promise.all(lines.map(generation))).toEqual(before.map((value) => value + 3));

    const cli = await runDrouter(['reload', '--url', admin], {}).finished;
    expect(cli.code, cli.stderr).toBe(0);
    const gateways = await runDrouter(['gateways', '--url', admin, '--json'], {}).finished;
    expect(gateways.code, gateways.stderr).toBe(0);
    expect((JSON.parse(gateways.stdout) as { gwid: string }[]).map((g) => g.gwid)).toEqual(['1', '2']);
  });

  it('stops the primary and every worker on SIGTERM within 2 s, exit 0', async () => {
    const pids = (await workers()).map((line) => line.pid ?? 0);
    const sentAt = performance.now();
    node.child.kill('SIGTERM');
    const finished = await node.finished;
    expect(finished.code).toBe(0);
    expect(performance.now() - sentAt).toBeLessThan(2000);
    const alive = pids.filter((pid) => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    });
    expect(alive).toEqual([]);
  });
});

describeUnless(redisMissing())('drouter start --workers 2 whose primary is killed', () => {
  it('leaves no worker behind: each stops when its channel to the primary closes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'drouter-workers-orphan-'));
    const prefix = `sipdr-test:${process.pid}:orphans:`;
    const adminPort = await freePort();
    const node = runDrouter(['start', '--workers', '2'], {
      DROUTER_STORE__URL: `sqlite:${join(dir, 'drouter.db')}`,
      DROUTER_CACHE__URL: REDIS_TEST_URL ?? '',
      DROUTER_CACHE__KEY_PREFIX: prefix,
      DROUTER_SIP__ADDRESS: '127.0.0.188',
      DROUTER_SIP__PORT: String(SIP.port),
      DROUTER_ADMIN__PORT: String(adminPort),
      DROUTER_PROBE__ENABLED: 'false',
    });
    try {
      await waitForOutput(node, /drouter started with 2 workers/, 20_000);
      const health = (await (await fetch(`http://127.0.0.1:${adminPort}/health`)).json()) as { workers: WorkerLine[] };
      const pids = health.workers.map((line) => line.pid ?? 0);
      expect(pids.every((pid) => pid > 0)).toBe(true);
      node.child.kill('SIGKILL');
      await node.finished;
      const isAlive = (pid: number) => {
        try {
          process.kill(pid, 0);
          return true;
        } catch {
          return false;
        }
      };
      const alive = await eventually(
        async () => pids.filter(isAlive),
        (left) => left.length === 0,
        3000,
      );
      expect(alive).toEqual([]);
    } finally {
      if (node.child.exitCode === null && node.child.signalCode === null) node.child.kill('SIGKILL');
      await deleteKeys(REDIS_TEST_URL ?? '', cacheKeys(prefix).all);
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);
});

describe('drouter start --workers: what it refuses', () => {
  it('more than one worker on the in-process cache or an in-memory database, naming each key (exit 2)', async () => {
    const finished = await runDrouter(['start', '--workers', '2'], {
      DROUTER_STORE__URL: 'sqlite::memory:',
      DROUTER_ADMIN__PORT: String(await freePort()),
      DROUTER_SIP__PORT: String(await freePort()),
    }).finished;
    expect(finished.code).toBe(2);
    expect(finished.stderr).toContain('DROUTER_ERR_CONFIG: invalid configuration, 2 problems:');
    expect(finished.stderr).toContain(
      'cache.url = "memory" (from the configuration, with --workers 2): redis://host:port/db',
    );
    expect(finished.stderr).toContain('store.url = "sqlite::memory:" (from the configuration, with --workers 2)');
  });

  it('a --workers that is not a whole number from 1 to 64 (exit 2)', async () => {
    const finished = await runDrouter(['start', '--workers', 'lots'], {
      DROUTER_ADMIN__PORT: String(await freePort()),
      DROUTER_SIP__PORT: String(await freePort()),
    }).finished;
    expect(finished.code).toBe(2);
    expect(finished.stderr).toContain('DROUTER_ERR_USAGE: --workers "lots": expected a whole number from 1 to 64');
  });
});
