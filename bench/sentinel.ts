import { once } from 'node:events';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { KEY_PREFIX } from '../src/cache/keys.js';
import { freePort } from '../test/support/drouter-process.js';
import { PrivateRedis } from '../test/support/private-redis.js';
import { outageFigures, RegisteringFleet, registrationsLostIn } from '../test/support/registering-fleet.js';
import { replicaInSync, SentinelGroup } from '../test/support/sentinel-group.js';
import { prepareUsers, registeringUser, registrationProfile } from './load-profiles.js';
import { announceSippBenchmark, findSustainedRate, PROXY, SIPP_PHONE, startBenchProxy, work } from './sipp-load.js';

/**
 * `npm run bench -- --only sentinel` (issue 21): what `cache.waitReplicas`
 * and a Redis Sentinel failover cost the phones. Redis here is private
 * redis-server processes on 127.0.0.1 (not pinned to a core).
 *
 * 1. The sustained REGISTER rate (the registrations part's load and
 *    method, sipp-load.ts) with the bindings on a Redis primary with one
 *    replica, `cache.waitReplicas` 0 and then 1: what waiting for the
 *    replica's acknowledgement (Redis WAIT) costs.
 * 2. The outage phones see when the primary is SIGKILLed under REGISTER
 *    load: a primary, two replicas (with waitReplicas 1, the one not
 *    promoted follows the new primary and acknowledges again), three
 *    sentinels (quorum 2, two down after 1 s: SentinelGroup), the proxy through the sentinels;
 *    the test's fleet of phones (test/support/registering-fleet.ts). Seconds
 *    of 503s, kill to the first 200, and the acknowledged registrations the
 *    promoted primary lacks: must be 0.
 */

const FAILOVER_PHONES = 100;
const FAILOVER_REGISTERS_PER_SECOND = 200;

async function rateWithAndWithoutWait(): Promise<void> {
  const primary = new PrivateRedis(await freePort());
  const replica = new PrivateRedis(await freePort(), { replicaOf: primary.port });
  try {
    await primary.start();
    await replica.start();
    await replicaInSync(replica, 20_000);
    for (const waitReplicas of [0, 1]) {
      const base = registrationProfile();
      await findSustainedRate(
        {
          ...base,
          label: `REGISTER with digest, rtupdate on SQLite, bindings on a Redis primary with one replica, cache.waitReplicas ${waitReplicas}`,
          proxyEnv: {
            ...base.proxyEnv,
            DROUTER_CACHE__URL: primary.url,
            DROUTER_CACHE__WAIT_REPLICAS: String(waitReplicas),
          },
          // A fresh database file and an empty Redis at each step.
          async prepareStore(file) {
            await prepareUsers(file);
            const direct = new Redis(primary.port, '127.0.0.1');
            await direct.flushall();
            await direct.quit();
          },
        },
        250,
      );
    }
  } finally {
    await replica.stop();
    await primary.stop();
  }
}

async function outageOfAFailover(): Promise<void> {
  console.log(
    `Sentinel failover under ${FAILOVER_REGISTERS_PER_SECOND} REGISTER/s (${FAILOVER_PHONES} phones with digest in turn, cache.waitReplicas 1; primary, 2 replicas, 3 sentinels, quorum 2, two down after 1 s; the primary SIGKILLed after 5 s):`,
  );
  const group = await SentinelGroup.start('bench-failover', 2);
  const db = join(work, 'sentinel-failover.db');
  await prepareUsers(db);
  const proxy = startBenchProxy(db, {
    DROUTER_CACHE__URL: 'redis://unused:1/0',
    DROUTER_CACHE__SENTINELS: group.sentinelAddresses.join(','),
    DROUTER_CACHE__SENTINEL_NAME: group.name,
    DROUTER_CACHE__WAIT_REPLICAS: '1',
    DROUTER_REGISTRAR__ALGORITHMS: 'MD5',
    DROUTER_LIMITS__EXEMPT_SOURCES: SIPP_PHONE,
  });
  const users = Array.from({ length: FAILOVER_PHONES }, (_, i) => registeringUser(i));
  const fleet = await RegisteringFleet.start(SIPP_PHONE, users, [PROXY]);
  try {
    await new Promise((resolve) => setTimeout(resolve, 2500));
    if (proxy.exitCode !== null)
      throw new Error(`the proxy exited with ${proxy.exitCode} (is ${PROXY.address}:${PROXY.port} taken?)`);
    await fleet.run({ perSecond: FAILOVER_REGISTERS_PER_SECOND, maxRegisters: FAILOVER_PHONES, maxMs: 10_000 });
    const first = fleet.outcomes.filter((outcome) => outcome.status === 200).length;
    if (first !== FAILOVER_PHONES)
      throw new Error(`only ${first} of ${FAILOVER_PHONES} phones registered before the kill`);
    const killedAt = await fleet.registerThroughKill({
      perSecond: FAILOVER_REGISTERS_PER_SECOND,
      killAfterMs: 5000,
      kill: () => group.primary.stop(),
      settleMs: 5000,
      maxMsAfterKill: 60_000,
    });
    const figures = outageFigures(fleet.outcomes.slice(FAILOVER_PHONES), killedAt);
    const promoted = await group.promoted(10_000);
    const lost = await registrationsLostIn(fleet, promoted.port, KEY_PREFIX);
    const acknowledged = fleet.lastAcknowledged().size;
    console.log(
      `  ${figures.registers} REGISTERs from the kill's run: ${figures.acknowledged} answered 200, ${figures.refused503} 503 (${figures.refused503WithoutRetryAfter} without Retry-After), ${figures.otherOrUnanswered} other or unanswered`,
    );
    console.log(
      `  => 503s for ${figures.seconds503} s, kill to first 200 ${figures.killToFirst200Seconds ?? 'never'} s, registrations lost ${lost.length} of ${acknowledged} acknowledged${lost.length > 0 ? `: ${lost.slice(0, 5).join('; ')}` : ''}`,
    );
    console.log(
      `Sentinel failover figures: ${JSON.stringify({ ...figures, lost: lost.length, acknowledgedPhones: acknowledged })}`,
    );
  } finally {
    fleet.close();
    proxy.kill('SIGTERM');
    const exited = proxy.exitCode !== null || proxy.signalCode !== null ? Promise.resolve() : once(proxy, 'exit');
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 2500))]);
    await group.stop();
  }
}

if (
  announceSippBenchmark(
    'sentinel',
    'REGISTER with digest over 10 000 users; then a Sentinel failover under REGISTER load',
  )
) {
  await rateWithAndWithoutWait();
  await outageOfAFailover();
}
