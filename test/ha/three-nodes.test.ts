import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  ACTIVE_LAB,
  ACTIVE_NODES,
  type ActiveNodeName,
  type ActiveNodesLab,
  sipTarget,
  startActiveNodesLab,
} from '../support/ha-lab/active-nodes-lab.js';
import { haLabMissing } from '../support/ha-lab/ha-lab.js';
import { LAB_LEASE } from '../support/ha-lab/lab.js';
import { PHONES } from '../support/ha-lab/lab-data.js';
import { type AnsweredInvite, answeredInvites, storedBindings } from '../support/ha-lab/lab-observations.js';
import type { LabSipp } from '../support/ha-lab/lab-sipp.js';
import { callsBetweenPhones, startPhones } from '../support/ha-lab/lab-traffic.js';
import { overlappingLeadership, type RoleChange } from '../support/leadership-log.js';
import { describeUnless } from '../support/skip-reason.js';
import { waitFor } from '../support/wait-for.js';
import type { Binding } from '../../src/registrar/core/bindings.js';

/**
 * Issue 21's N nodes, in the namespace lab (test/support/ha-lab/): three
 * nodes active at once on one MariaDB and one Redis, no keepalived, each
 * naming itself in ha.nodeAddress. A group of phones registers through each
 * node; a call that reaches one node for a phone of another node's group
 * must reach the phone through that node (as RFC 3327's Path would), and
 * straight from the first node once that node is dead. Node c is started
 * first, so that it leads and its kill is the leader's. The tests run in
 * order on one lab; the figures are printed as "three nodes figures: {json}".
 */

/** Ten phones a node: phone001-010 register through a, 011-020 through b, 021-030 through c. */
const GROUPS: Record<ActiveNodeName, readonly string[]> = {
  a: PHONES.slice(0, 10),
  b: PHONES.slice(10, 20),
  c: PHONES.slice(20, 30),
};
const CALL_RATE = 5;

describeUnless(haLabMissing())('three sip-drouter nodes active at once, one killed', () => {
  let lab: ActiveNodesLab;
  const phones = {} as Record<ActiveNodeName, LabSipp>;
  let killedAt = 0;
  const figures: Record<string, unknown> = {};

  beforeAll(async () => {
    lab = await startActiveNodesLab(['c', 'a', 'b']);
  }, 60_000);

  afterAll(async () => {
    console.log(`three nodes figures: ${JSON.stringify(figures)}`);
    await lab?.close();
  }, 60_000);

  /** The phones of `callee`'s group, each called once by the phone of the same rank in `caller`'s group, from the caller group's address through `via`. */
  const callGroup = (caller: ActiveNodeName, callee: ActiveNodeName, via: ActiveNodeName) =>
    callsBetweenPhones(lab, {
      calls: GROUPS[callee].map((phone, rank) => [phone, GROUPS[caller][rank] ?? ''] as const),
      address: ACTIVE_LAB.phones[caller],
      target: sipTarget(via),
      rate: CALL_RATE,
    });

  const outcome = (run: LabSipp) => {
    const stats = run.stats();
    return { ok: stats['SuccessfulCall(C)'] ?? 0, failed: stats['FailedCall(C)'] ?? 0, ...run.failures() };
  };

  /** The INVITEs `callee`'s phones answered that came from `caller`'s phones (sipp's Call-IDs end in the caller's address), from the `skip`th on. */
  const invitesFrom = (callee: ActiveNodeName, caller: ActiveNodeName, skip = 0): AnsweredInvite[] =>
    answeredInvites(phones[callee])
      .slice(skip)
      .filter((invite) => invite.callId.endsWith(`@${ACTIVE_LAB.phones[caller]}`));

  /** Each of `users`' bindings, parsed, once every one of them is in Redis with `node` (none has another). */
  const bindingsThrough = (users: readonly string[], node: ActiveNodeName) =>
    waitFor(`the bindings of ${users[0]}-${users.at(-1)} to name node ${node}`, 15_000, async () => {
      const stored = await storedBindings(lab.redis);
      const bindings = users
        .map((user) => [...stored].find(([aor]) => aor.includes(user))?.[1])
        .map((json) => (json ? (JSON.parse(json) as Binding[]) : []));
      return bindings.every((list) => list.length === 1 && list[0]?.node === sipTarget(node))
        ? bindings.map((list) => list[0] as Binding)
        : undefined;
    });

  /** Role changes by the nodes' log lines; c's end at its kill (a dead process leads nothing, whatever its last line said). */
  const roleChanges = (): Record<ActiveNodeName, RoleChange[]> => ({
    a: lab.nodes.a.leadership(),
    b: lab.nodes.b.leadership(),
    c: [...lab.nodes.c.leadership(), ...(killedAt > 0 ? [{ role: 'standby' as const, time: killedAt }] : [])],
  });

  it('is closed: no route out of any lab namespace, nothing of the lab in the root namespace', async () => {
    expect(await lab.network.waysOut()).toEqual([]);
  });

  it('has one leader among the three: c, started first', async () => {
    expect(
      await waitFor('one leader', 10_000, async () => {
        const leaders = await lab.leaders();
        return leaders.length === 1 ? leaders : undefined;
      }),
    ).toEqual(['c']);
  }, 20_000);

  it('registers each group of phones through its node; each binding names that node', async () => {
    for (const name of ACTIVE_NODES)
      phones[name] = startPhones(lab, {
        users: GROUPS[name],
        address: ACTIVE_LAB.phones[name],
        target: sipTarget(name),
      });
    for (const name of ACTIVE_NODES) {
      const bindings = await bindingsThrough(GROUPS[name], name);
      for (const binding of bindings)
        expect(binding.source).toMatchObject({ address: ACTIVE_LAB.phones[name], port: 5060 });
      expect(phones[name].stats()['FailedCall(C)'] ?? 0).toBe(0);
    }
  }, 30_000);

  it("calls between a's and c's phones reach each callee through its own node, Record-Routed by both, and complete", async () => {
    const runs = { aToC: callGroup('a', 'c', 'a'), cToA: callGroup('c', 'a', 'c') };
    await Promise.all(Object.values(runs).map((run) => run.finished));
    figures.beforeKill = { aToC: outcome(runs.aToC), cToA: outcome(runs.cToA) };
    for (const run of Object.values(runs))
      expect(outcome(run), run.screen().slice(-6000)).toMatchObject({ ok: 10, failed: 0 });

    for (const [caller, callee] of [
      ['a', 'c'],
      ['c', 'a'],
    ] as const) {
      const invites = invitesFrom(callee, caller);
      expect(invites).toHaveLength(10);
      for (const invite of invites)
        expect(invite, `${caller} -> ${callee}`).toMatchObject({
          sentBy: sipTarget(callee),
          recordRoute: [sipTarget(callee), sipTarget(caller)],
        });
    }
  }, 40_000);

  it("c killed (SIGKILL, the leader): its phones answer calls sent straight from a after the timeout, a's and b's phones call each other as before, a new leader within the lease", async () => {
    const answeredBefore = {
      a: answeredInvites(phones.a).length,
      b: answeredInvites(phones.b).length,
      c: answeredInvites(phones.c).length,
    };
    killedAt = Date.now();
    await lab.nodes.c.kill('SIGKILL');
    const runs = { aToC: callGroup('a', 'c', 'a'), aToB: callGroup('a', 'b', 'a'), bToA: callGroup('b', 'a', 'b') };
    const leader = await waitFor(
      'one leader among a and b',
      10_000,
      async () => {
        const leaders = await lab.leaders();
        return leaders.length === 1 ? leaders[0] : undefined;
      },
      { pollMs: 200 },
    );
    await Promise.all(Object.values(runs).map((run) => run.finished));

    const tookOver = roleChanges()[leader].find((change) => change.role === 'leader' && change.time >= killedAt);
    const firstAnswered = Math.min(...runs.aToC.rtt().map((sample) => sample.atMs));
    Object.assign(figures, {
      afterKill: { aToC: outcome(runs.aToC), aToB: outcome(runs.aToB), bToA: outcome(runs.bToA) },
      killToFirstAnsweredCallMs: Number.isFinite(firstAnswered) ? Math.round(firstAnswered - killedAt) : null,
      newLeader: leader,
      killToNewLeaderMs: tookOver ? tookOver.time - killedAt : null,
    });

    for (const run of Object.values(runs))
      expect(outcome(run), run.screen().slice(-6000)).toMatchObject({ ok: 10, failed: 0 });
    // Straight from a: a's Via on top and a's Record-Route alone.
    const toC = invitesFrom('c', 'a', answeredBefore.c);
    expect(toC).toHaveLength(10);
    for (const invite of toC) expect(invite).toMatchObject({ sentBy: sipTarget('a'), recordRoute: [sipTarget('a')] });
    for (const [caller, callee] of [
      ['a', 'b'],
      ['b', 'a'],
    ] as const) {
      const invites = invitesFrom(callee, caller, answeredBefore[callee]);
      expect(invites).toHaveLength(10);
      for (const invite of invites)
        expect(invite, `${caller} -> ${callee}`).toMatchObject({
          sentBy: sipTarget(callee),
          recordRoute: [sipTarget(callee), sipTarget(caller)],
        });
    }
    // Each call to c's phones waited proxy.timeoutMs (1 s) for c first.
    expect(figures.killToFirstAnsweredCallMs).toBeGreaterThanOrEqual(1000);
    expect(tookOver, `node ${leader}'s role changes: ${JSON.stringify(roleChanges()[leader])}`).toBeDefined();
    // c renewed the lease at most renewIntervalMs before it died; a standby tries again every renewIntervalMs.
    expect(figures.killToNewLeaderMs).toBeLessThanOrEqual(LAB_LEASE.ttlMs + LAB_LEASE.renewIntervalMs + 1000);
    expect(overlappingLeadership(roleChanges(), { a: 'standby', b: 'standby', c: 'standby' }, 0)).toEqual([]);
  }, 60_000);

  it("c's phones register again through b, and are called through b", async () => {
    await phones.c.stop();
    phones.c = startPhones(lab, { users: GROUPS.c, address: ACTIVE_LAB.phones.c, target: sipTarget('b') });
    await bindingsThrough(GROUPS.c, 'b');
    const aToC = callGroup('a', 'c', 'a');
    await aToC.finished;
    figures.afterReRegister = { aToC: outcome(aToC) };

    expect(outcome(aToC), aToC.screen().slice(-6000)).toMatchObject({ ok: 10, failed: 0 });
    const invites = invitesFrom('c', 'a');
    expect(invites).toHaveLength(10);
    for (const invite of invites)
      expect(invite).toMatchObject({ sentBy: sipTarget('b'), recordRoute: [sipTarget('b'), sipTarget('a')] });
    expect(await lab.leaders()).toEqual([figures.newLeader]);
    expect(overlappingLeadership(roleChanges(), { a: 'standby', b: 'standby', c: 'standby' }, 0)).toEqual([]);
  }, 40_000);
});
