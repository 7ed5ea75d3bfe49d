import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HaLab, haLabMissing, LAB, startHaLab } from '../support/ha-lab/ha-lab.js';
import { BRIEF_USERS, LOAD_USERS, PHONES, SLOW_GATEWAY_PREFIX } from '../support/ha-lab/lab-data.js';
import { metric, probesSent, received, registrationRows, storedBindings } from '../support/ha-lab/lab-observations.js';
import type { LabSipp } from '../support/ha-lab/lab-sipp.js';
import { callLoad, callPhones, registerLoad, startGateway, startPhones } from '../support/ha-lab/lab-traffic.js';
import { overlappingLeadership } from '../support/leadership-log.js';
import { waitFor } from '../support/wait-for.js';
import { describeUnless } from '../support/skip-reason.js';

/**
 * Issue 9's scenarios on the lab (test/support/ha-lab/): node a (keepalived
 * priority 150) holds the virtual IP, node b (100) stands by. The tests run
 * in order on one lab, each starting where the last left it; the figures
 * the closing note needs are printed as "HA ... figures: {json}".
 */

describeUnless(haLabMissing())('two sip-drouter nodes behind a keepalived virtual IP', () => {
  let lab: HaLab;
  let gateway1: LabSipp;
  let gateway2: LabSipp;
  let gateway3: LabSipp;
  let phones: LabSipp;
  /** The phones' bindings and rows as first registered: a phone that registered again would change them. */
  let phoneBindings: Map<string, string>;
  let phoneRows: Awaited<ReturnType<typeof registrationRows>>;
  let killedAt = 0;

  beforeAll(async () => {
    lab = await startHaLab();
    // Gateway 1 answers probes 503 (down by probing) but would take a call:
    // a call reaching it shows a node routing without the state learnt on a.
    gateway1 = startGateway(lab, LAB.gateway1, 503);
    gateway2 = startGateway(lab, LAB.gateway2, 200);
    gateway3 = startGateway(lab, LAB.gateway3, 200, 8000);
  }, 60_000);

  afterAll(async () => {
    await lab?.close();
  }, 60_000);

  const bindingsOfPhones = async () => {
    const all = await storedBindings(lab.redis);
    return new Map([...all].filter(([aor]) => PHONES.some((phone) => aor.includes(phone))));
  };

  /** Each node's probes to both gateways so far (its counters start again at a restart; a dead node's count as 0). */
  const probesByNode = async () => {
    const sent = { a: 0, b: 0 };
    for (const name of ['a', 'b'] as const)
      if (lab.nodes[name].alive) for (const gwid of ['1', '2']) sent[name] += await probesSent(lab.nodes[name], gwid);
    return sent;
  };

  const gatewayState = async (node: 'a' | 'b', gwid: string) => {
    const gateways = JSON.parse((await lab.nodes[node].admin('/gateways')).body) as {
      gwid: string;
      state: string;
      since: string;
    }[];
    return gateways.find((gateway) => gateway.gwid === gwid);
  };

  /** What a sipp run did, in the shape the figures and assertions use. */
  const outcome = (run: LabSipp) => {
    const stats = run.stats();
    return { ok: stats['SuccessfulCall(C)'] ?? 0, failed: stats['FailedCall(C)'] ?? 0, ...run.failures() };
  };

  it('is closed: no route out of any lab namespace, nothing of the lab in the root namespace', async () => {
    expect(await lab.network.waysOut()).toEqual([]);
  });

  it('registers 200 phones through the virtual IP, on node a', async () => {
    expect(await lab.virtualIpHolders()).toEqual(['a']);
    phones = startPhones(lab);
    phoneRows = await waitFor('200 registered sippeers rows', 20_000, async () => {
      const rows = await registrationRows(lab.mariadb, PHONES);
      return [...rows.values()].every((row) => row.fullcontact !== '') ? rows : undefined;
    });
    for (const phone of PHONES)
      expect(phoneRows.get(phone)).toMatchObject({
        ipaddr: LAB.phones,
        port: 5060,
        fullcontact: `sip:${phone}@${LAB.phones}:5060`,
      });
    phoneBindings = await bindingsOfPhones();
    expect(phoneBindings.size).toBe(PHONES.length);
    expect(phones.stats()['FailedCall(C)'] ?? 0).toBe(0);
    expect(await metric(lab.nodes.b, 'sipdr_registrations_total', { result: 'registered' })).toBe(0);
  }, 40_000);

  it('learns on node a that gateway 1 is down; node b knows it without probing', async () => {
    for (const node of ['a', 'b'] as const) {
      await waitFor(`node ${node} to see gateway 1 down`, 5000, async () =>
        (await gatewayState(node, '1'))?.state !== 'active' ? true : undefined,
      );
    }
    expect(await probesSent(lab.nodes.a, '1')).toBeGreaterThan(0);
    expect(await probesByNode()).toMatchObject({ b: 0 });
  });

  it('SIGKILL of node a under REGISTER and call load: the virtual IP moves to b, no call, registration or binding lost', async () => {
    // Calls that are up when a dies, ended by BYE through the Record-Route (the virtual IP) after the move.
    const callsUp = callLoad(lab, { rate: 20, calls: 20, holdMs: 7000 });
    await waitFor('the 20 calls to be up', 10_000, async () =>
      callsUp.stats()['CurrentCall'] === 20 && received(gateway2, 'INVITE', 0) >= 20 ? true : undefined,
    );
    const registers = registerLoad(lab, { users: LOAD_USERS, rate: 50, calls: 500 });
    const newCalls = callLoad(lab, { rate: 10, calls: 100, holdMs: 300 });
    // A call ringing when a dies: gateway 3 answers it 8 s later, when b holds the address.
    const ringing = callLoad(lab, { rate: 1, calls: 1, holdMs: 300, number: `${SLOW_GATEWAY_PREFIX}0001` });
    await waitFor('the call to ring at gateway 3', 5000, async () =>
      received(gateway3, 'INVITE', 0) === 1 ? true : undefined,
    );
    await new Promise((resolve) => setTimeout(resolve, 2000));

    killedAt = Date.now();
    await lab.nodes.a.kill('SIGKILL');
    // A 200 that node a sent just before it died may arrive after killedAt; nothing of a's arrives after this.
    const deadAt = Date.now() + 50;
    const movedAt = await waitFor(
      'node b to hold the virtual IP',
      15_000,
      async () => ((await lab.virtualIpHolders()).join() === 'b' ? Date.now() : undefined),
      {
        pollMs: 50,
        detail: () =>
          `keepalived on a:\n${lab.keepalived.a.output().slice(-3000)}\nkeepalived on b:\n${lab.keepalived.b.output().slice(-3000)}`,
      },
    );
    await waitFor('node b to lead', 10_000, async () =>
      (await lab.nodes.b.health()).ha.role === 'leader' ? true : undefined,
    );
    await Promise.all([registers.finished, callsUp.finished, newCalls.finished, ringing.finished]);

    const firstAnsweredByB = registers
      .rtt()
      .filter((sample) => sample.atMs > deadAt)
      .sort((x, y) => x.atMs - y.atMs)[0];
    const figures = {
      virtualIpMovedMs: movedAt - killedAt,
      firstRegisterAnsweredByBMs: firstAnsweredByB ? Math.round(firstAnsweredByB.atMs - killedAt) : null,
      registers: outcome(registers),
      // A retransmitted REGISTER whose 200 died with node a finds its nonce-count used on b: 401 stale, and the phone retries.
      registersChallengedAgain: registers.logLines().filter((line) => line.startsWith('challenged again')).length,
      callsUpAtKill: outcome(callsUp),
      newCalls: outcome(newCalls),
      ringingAtKill: outcome(ringing),
    };
    console.log(`HA failover figures: ${JSON.stringify(figures)}`);

    expect(figures.registers, registers.screen().slice(-6000)).toMatchObject({ ok: 500, failed: 0 });
    expect(figures.callsUpAtKill, callsUp.screen().slice(-6000)).toMatchObject({ ok: 20, failed: 0 });
    expect(figures.newCalls, newCalls.screen().slice(-6000)).toMatchObject({ ok: 100, failed: 0 });
    expect(figures.ringingAtKill, ringing.screen().slice(-6000)).toMatchObject({ ok: 1, failed: 0 });
    expect(figures.firstRegisterAnsweredByBMs).not.toBeNull();
    // No phone registered again, and nothing was lost: bindings and rows as first written.
    expect(await bindingsOfPhones()).toEqual(phoneBindings);
    expect(await registrationRows(lab.mariadb, PHONES)).toEqual(phoneRows);
    const all = await storedBindings(lab.redis);
    for (const user of LOAD_USERS)
      expect(
        [...all.keys()].some((aor) => aor.includes(user)),
        user,
      ).toBe(true);
  }, 90_000);

  it('calls each of the 200 phones through node b, with no phone having registered again', async () => {
    const asterisk = callPhones(lab, PHONES, { rate: 50 });
    await asterisk.finished;
    expect(outcome(asterisk), asterisk.screen().slice(-6000)).toMatchObject({ ok: PHONES.length, failed: 0 });
    expect(phones.alive).toBe(true);
    expect(await bindingsOfPhones()).toEqual(phoneBindings);
  }, 60_000);

  it('routes by the gateway state learnt on node a, and probes from node b alone', async () => {
    // Every call since the start went to gateway 2: gateway 1 would have answered, had a node tried it.
    expect(received(gateway1, 'INVITE', 0)).toBe(0);
    const one = await gatewayState('b', '1');
    expect(one?.state).not.toBe('active');
    // Down since a learnt it, before the kill: b did not learn it again.
    expect(Date.parse(one?.since ?? '')).toBeLessThan(killedAt);

    const intervals = 6;
    const from = Date.now();
    const before = await probesByNode();
    await new Promise((resolve) => setTimeout(resolve, intervals * lab.probeIntervalMs + 100));
    for (const gateway of [gateway1, gateway2]) {
      const count = received(gateway, 'OPTIONS', from, from + intervals * lab.probeIntervalMs);
      expect(count).toBeGreaterThanOrEqual(intervals - 1);
      expect(count).toBeLessThanOrEqual(intervals + 1);
    }
    expect((await probesByNode()).b).toBeGreaterThanOrEqual(before.b + 2 * (intervals - 1));
  }, 30_000);

  it('node a comes back and takes the virtual IP back: never two leaders, one prober, each expiry swept once, no registration lost', async () => {
    const from = Date.now();
    const probesOfB = (await probesByNode()).b;
    await lab.nodes.a.start();
    // Registrations that expire during the hand-over: the sweep must end each exactly once, on one node.
    const brief = registerLoad(lab, { users: BRIEF_USERS, rate: 20, calls: BRIEF_USERS.length, expiresSeconds: 2 });

    await waitFor(
      'node a to hold the virtual IP and lead',
      20_000,
      async () => {
        const a = await lab.nodes.a.health();
        return a.ha.role === 'leader' && (await lab.virtualIpHolders()).join() === 'a' ? true : undefined;
      },
      { pollMs: 200 },
    );
    // Never two leaders: by the nodes' own log times (two /health calls, each a process in its namespace, are no snapshot).
    // At `from` b led (it took over) and a was down (killed while leading, so its last line says leader).
    expect(
      lab.nodes.b
        .leadership()
        .filter((change) => change.time < from)
        .at(-1)?.role,
    ).toBe('leader');
    expect(
      lab.nodes.a
        .leadership()
        .filter((change) => change.time >= from)
        .map((change) => change.role),
    ).toContain('leader');
    expect(
      lab.nodes.b
        .leadership()
        .filter((change) => change.time >= from)
        .map((change) => change.role),
    ).toContain('standby');
    expect(
      overlappingLeadership(
        { a: lab.nodes.a.leadership(), b: lab.nodes.b.leadership() },
        { b: 'leader', a: 'standby' },
        from,
      ),
    ).toEqual([]);
    await brief.finished;
    expect(outcome(brief), brief.screen().slice(-6000)).toMatchObject({ ok: BRIEF_USERS.length, failed: 0 });

    // Every brief registration expired, was swept once (by whichever node led then), and its row cleared.
    await waitFor('the brief registrations to be swept', 10_000, async () => {
      const rows = await registrationRows(lab.mariadb, BRIEF_USERS);
      return [...rows.values()].every((row) => row.fullcontact === '') ? true : undefined;
    });
    const sweeps = [...lab.nodes.a.logMessages(), ...lab.nodes.b.logMessages()].filter((message) =>
      /^registration of brief\d+ expired$/.test(message),
    );
    expect(sweeps.sort()).toEqual(BRIEF_USERS.map((user) => `registration of ${user} expired`));

    // Probes over the whole hand-over, a's since its start and b's since then: one prober's worth (two gateways, one per interval each), not two.
    // A prober that starts probes at once, so each change of leader may add a round (a's start, b's BACKUP, a's MASTER): three at most.
    const elapsedIntervals = (Date.now() - from) / lab.probeIntervalMs;
    const probes = await probesByNode();
    expect(probes.a + probes.b - probesOfB).toBeLessThanOrEqual(2 * (elapsedIntervals + 3));
    expect(await bindingsOfPhones()).toEqual(phoneBindings);
    expect(await registrationRows(lab.mariadb, PHONES)).toEqual(phoneRows);
  }, 60_000);

  it('a forced split brain (both keepalived MASTER) still has one leader and one prober', async () => {
    await lab.separateNodes(true);
    try {
      await waitFor('both nodes to hold the virtual IP', 15_000, async () =>
        (await lab.virtualIpHolders()).length === 2 ? true : undefined,
      );
      await waitFor('both keepalived to say MASTER', 5000, async () => {
        const [a, b] = await Promise.all([lab.nodes.a.health(), lab.nodes.b.health()]);
        return a.ha.keepalived === 'MASTER' && b.ha.keepalived === 'MASTER' ? true : undefined;
      });
      const intervals = 6;
      const from = Date.now();
      const before = await probesByNode();
      await new Promise((resolve) => setTimeout(resolve, intervals * lab.probeIntervalMs));
      const [a, b] = await Promise.all([lab.nodes.a.health(), lab.nodes.b.health()]);
      expect([a.ha.role, b.ha.role].sort()).toEqual(['leader', 'standby']);
      expect(a.ha.leaseHolder).toBe(b.ha.leaseHolder);
      for (const gateway of [gateway1, gateway2])
        expect(received(gateway, 'OPTIONS', from, from + intervals * lab.probeIntervalMs)).toBeLessThanOrEqual(
          intervals + 1,
        );
      // The standby sent none; the leader's go on (their replies may reach the other node, which holds the address too).
      const after = await probesByNode();
      const [leader, standby] = a.ha.role === 'leader' ? (['a', 'b'] as const) : (['b', 'a'] as const);
      expect(after[standby]).toBe(before[standby]);
      expect(after[leader]).toBeGreaterThan(before[leader]);
    } finally {
      await lab.separateNodes(false);
    }
    await waitFor('node a alone to hold the virtual IP again', 15_000, async () =>
      (await lab.virtualIpHolders()).join() === 'a' ? true : undefined,
    );
  }, 60_000);

  it('after the split brain, phones reach node a again (keepalived announces the address anew)', async () => {
    const refreshedBefore = await metric(lab.nodes.a, 'sipdr_registrations_total', { result: 'refreshed' });
    const again = registerLoad(lab, { users: LOAD_USERS.slice(0, 10), rate: 10, calls: 10 });
    await again.finished;
    expect(outcome(again), again.screen().slice(-6000)).toMatchObject({ ok: 10, failed: 0 });
    expect(await metric(lab.nodes.a, 'sipdr_registrations_total', { result: 'refreshed' })).toBe(refreshedBefore + 10);
  }, 40_000);

  describe.each([
    { service: 'Redis', server: () => lab.redis },
    { service: 'MariaDB', server: () => lab.mariadb },
  ])('$service stopped and started again under load', ({ service, server }) => {
    it('answers 500/503 meanwhile, never silence; no node crashes, the virtual IP stays, it recovers by itself, nothing acknowledged is lost', async () => {
      await waitFor('gateway 2 to be up on node a', 5000, async () =>
        (await gatewayState('a', '2'))?.state === 'active' ? true : undefined,
      );
      const bindingsBefore = await storedBindings(lab.redis);
      const pids = { a: lab.nodes.a.pid, b: lab.nodes.b.pid };
      const registers = registerLoad(lab, { users: LOAD_USERS, rate: 20, calls: 240 });
      const callsToPhones = callPhones(lab, PHONES.slice(0, 60), { rate: 5 });
      const callsOut = callLoad(lab, { rate: 5, calls: 60, holdMs: 200 });
      await new Promise((resolve) => setTimeout(resolve, 2000));

      await server().stop('SIGKILL');
      const stoppedAt = Date.now();
      const holders: string[] = [];
      while (Date.now() - stoppedAt < 4000) {
        holders.push((await lab.virtualIpHolders()).join());
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      const health = await lab.nodes.a.health();
      await server().start();
      const restartedAt = Date.now();
      await Promise.all([registers.finished, callsToPhones.finished, callsOut.finished]);

      const firstAfter = registers
        .rtt()
        .filter((sample) => sample.atMs > restartedAt)
        .sort((x, y) => x.atMs - y.atMs)[0];
      const figures = {
        outageMs: restartedAt - stoppedAt,
        firstRegisterAfterRestartMs: firstAfter ? Math.round(firstAfter.atMs - restartedAt) : null,
        registers: outcome(registers),
        callsToPhones: outcome(callsToPhones),
        callsToGateways: outcome(callsOut),
      };
      console.log(`HA ${service} outage figures: ${JSON.stringify(figures)}`);

      expect(health.status).toBe('degraded');
      expect(new Set(holders)).toEqual(new Set(['a']));
      expect({ a: lab.nodes.a.pid, b: lab.nodes.b.pid }).toEqual(pids);
      expect(lab.nodes.a.alive && lab.nodes.b.alive).toBe(true);
      for (const [name, run] of Object.entries({ registers, callsToPhones, callsOut })) {
        const result = outcome(run);
        // Every request had an answer, and every refusal was a clean 500 or 503.
        expect(result.retransmissionTimeouts, `${name}: ${run.screen().slice(-6000)}`).toBe(0);
        expect(
          Object.keys(result.unexpectedStatus).filter((status) => status !== '500' && status !== '503'),
          name,
        ).toEqual([]);
      }
      expect(figures.registers.failed).toBeGreaterThan(0);
      expect(figures.firstRegisterAfterRestartMs).not.toBeNull();
      expect((await lab.nodes.a.health()).status).toBe('ok');

      // Nothing acknowledged was lost: every binding there before is there still (refreshed or not), the phones' untouched.
      const bindingsAfter = await storedBindings(lab.redis);
      for (const aor of bindingsBefore.keys()) expect(bindingsAfter.has(aor), aor).toBe(true);
      expect(await bindingsOfPhones()).toEqual(phoneBindings);
      expect(await registrationRows(lab.mariadb, PHONES)).toEqual(phoneRows);
    }, 90_000);
  });
});
