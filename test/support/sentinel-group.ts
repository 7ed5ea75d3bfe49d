import { Redis } from 'ioredis';
import { freePort } from './drouter-process.js';
import { PrivateRedis, redisLogTime } from './private-redis.js';
import { waitFor } from './wait-for.js';

/** Resolves once `replica` (a replica of whichever primary) reports its link to its primary up. */
export async function replicaInSync(replica: PrivateRedis, withinMs: number): Promise<void> {
  const onReplica = new Redis(replica.port, '127.0.0.1', { lazyConnect: true });
  try {
    await onReplica.connect();
    await waitFor(`the replica on port ${replica.port} in sync`, withinMs, async () =>
      (await onReplica.info('replication')).includes('master_link_status:up') ? true : undefined,
    );
  } finally {
    onReplica.disconnect();
  }
}

/**
 * How long each sentinel lets the primary be silent before calling it down.
 * Two quick ones make the quorum of 2 in about a second. The third is slow
 * on purpose: a sentinel that reaches the quorum starts a failover and
 * votes for itself, and when all three start at once (a loaded machine
 * runs them in step) each holds its own vote, the election fails, and
 * Sentinel waits twice failover-timeout before the next (seen here: the
 * replica promoted 12.6 s after the kill, not 2 s). The slow one is not
 * yet trying when the two ask for its vote, so it gives it to the first to
 * ask, who wins.
 */
const STAGGERED = { quorum: 2, downAfterMs: [1000, 1000, 10_000] } as const;

/** The sentinels' quorum, and each one's down-after-milliseconds (one sentinel each). */
export interface SentinelSettings {
  quorum: number;
  downAfterMs: readonly number[];
}

/**
 * A Redis primary, its replicas and three sentinels (quorum 2, the primary
 * called down after 1 s by two of them: STAGGERED; or `settings`), all
 * private redis-server processes on 127.0.0.1, ready for a failover: every
 * replica in sync, and the sentinels knowing every replica and each other.
 */
export class SentinelGroup {
  private constructor(
    readonly name: string,
    readonly primary: PrivateRedis,
    readonly replicas: readonly PrivateRedis[],
    readonly sentinels: readonly PrivateRedis[],
  ) {}

  static async start(
    name: string,
    replicaCount: number,
    settings: SentinelSettings = STAGGERED,
  ): Promise<SentinelGroup> {
    const primary = new PrivateRedis(await freePort());
    const replicas: PrivateRedis[] = [];
    const sentinels: PrivateRedis[] = [];
    const group = new SentinelGroup(name, primary, replicas, sentinels);
    try {
      await primary.start();
      for (let i = 0; i < replicaCount; i++)
        replicas.push(new PrivateRedis(await freePort(), { replicaOf: primary.port }));
      await Promise.all(replicas.map((replica) => replica.start()));
      for (const replica of replicas) await replicaInSync(replica, 20_000);
      for (const downAfterMs of settings.downAfterMs)
        sentinels.push(
          new PrivateRedis(await freePort(), {
            sentinelOf: { name, port: primary.port, quorum: settings.quorum, downAfterMs },
          }),
        );
      await Promise.all(sentinels.map((sentinel) => sentinel.start()));
      // A failover needs the sentinels to know the replicas (from the primary's INFO) and each other (hello messages).
      const asking = new Redis(sentinels[0]?.port ?? 0, '127.0.0.1', { lazyConnect: true });
      await asking.connect();
      try {
        await waitFor('the sentinels to know the replicas and each other', 20_000, async () => {
          const known = (await asking.call('SENTINEL', 'REPLICAS', name)) as unknown[];
          const peers = (await asking.call('SENTINEL', 'SENTINELS', name)) as unknown[];
          return known.length === replicaCount && peers.length === sentinels.length - 1 ? true : undefined;
        });
      } finally {
        asking.disconnect();
      }
      return group;
    } catch (error) {
      await group.stop();
      throw error;
    }
  }

  /** `cache.sentinels` naming the three sentinels. */
  get sentinelAddresses(): string[] {
    return this.sentinels.map((sentinel) => `127.0.0.1:${sentinel.port}`);
  }

  /** When the first sentinel announced a promoted replica (+switch-master in its log), in ms since the epoch; undefined: none has. */
  switchedAt(): number | undefined {
    const times = this.sentinels.flatMap((sentinel) =>
      sentinel.log
        .split('\n')
        .filter((line) => line.includes('+switch-master'))
        .flatMap((line) => redisLogTime(line) ?? []),
    );
    return times.length === 0 ? undefined : Math.min(...times);
  }

  /** The replica the sentinels promoted after the primary was lost: the one that says it is a primary now. */
  async promoted(withinMs: number): Promise<PrivateRedis> {
    return waitFor('a replica promoted to primary', withinMs, async () => {
      for (const replica of this.replicas) {
        const direct = new Redis(replica.port, '127.0.0.1', { lazyConnect: true });
        try {
          await direct.connect();
          if (((await direct.call('ROLE')) as unknown[])[0] === 'master') return replica;
        } finally {
          direct.disconnect();
        }
      }
      return undefined;
    });
  }

  async stop(): Promise<void> {
    for (const each of [...this.sentinels, ...this.replicas, this.primary]) await each.stop();
  }
}
