import { hostname } from 'node:os';
import { performance } from 'node:perf_hooks';
import type { LeaseCache } from '../cache/cache.js';
import type { Config } from '../config/schema.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics/metrics.js';
import { randomHex } from '../random-pool.js';
import { Leadership } from './leadership.js';

/** The work only the leader does; the others stand by, ready to take it over when the lease comes to them. */
export interface SingletonWork {
  start(): void;
  stop(): void | Promise<void>;
}

/**
 * The leader lease, starting and stopping the singleton work as this node
 * gains and loses it. On the in-process cache (`cache.url: memory`) no
 * other process can share the lease, so this one is the leader from start
 * to stop and its role changes are no news: they are logged at debug, and
 * a lone node's log says nothing of a lease. With Redis they are logged at
 * info: in a pair, which node probes and sweeps is what an operator reads
 * the log for.
 */
export function singletonWork(
  config: Readonly<Config>,
  cache: LeaseCache,
  log: Logger,
  metrics: Metrics,
  work: readonly SingletonWork[],
): Leadership {
  const { nodeName, lease, keepalivedStateFile } = config.ha;
  const holder = `${nodeName || hostname()}/${process.pid}/${randomHex(3)}`;
  const alone = config.cache.url === 'memory';
  return new Leadership(
    { holder, ttlMs: lease.ttlMs, renewIntervalMs: lease.renewIntervalMs, keepalivedStateFile },
    {
      cache,
      now: () => performance.now(),
      log,
      onChange(leader, reason) {
        metrics.leaderRole(leader);
        log[alone ? 'debug' : 'info'](
          { holder, role: leader ? 'leader' : 'standby', reason },
          `${holder} is ${leader ? 'the leader: probing and sweeping here' : 'standing by: no probing or sweeping here'} (${reason})`,
        );
        for (const each of work) {
          if (leader) each.start();
          else void each.stop();
        }
      },
    },
  );
}
