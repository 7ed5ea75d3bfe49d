import type { BindingCache, Fence } from '../cache/cache.js';
import type { Clock } from '../clock.js';
import type { Logger } from '../log.js';
import { throttledReport } from '../core/report-throttle.js';
import type { Store } from '../store/store.js';
import type { PeerLookup } from './peer-service.js';
import { CLEARED_REGISTRATION } from './core/realtime-peer.js';
import { bindingTtl } from './binding-ttl.js';
import { errorMessage } from '../errors.js';

export interface ExpirySweeperDeps {
  cache: BindingCache;
  store: Pick<Store, 'writeRegistration'>;
  clock: Clock;
  log: Logger;
  intervalMs: number;
  /** Write the cleared columns back (registrar.rtupdate). */
  rtupdate: boolean;
  /** chan_sip ignoreregexpire: expiry leaves the row (and its last contact) as it is. */
  ignoreregexpire: boolean;
  peers: PeerLookup;
  /** The leader lease this node holds, or undefined when another node is the leader (the sweep is singleton work). */
  fence(): Fence | undefined;
}

/** AoRs handled per sweep: a burst of expiries is spread over several ticks. */
const BATCH = 500;

/**
 * Bindings expire on time with no request arriving: every `intervalMs` the
 * AoRs whose earliest binding is due lose their expired bindings, and a
 * peer left with none has its sippeers row cleared as chan_sip's
 * expire_register does. Only the leader sweeps, and each write is fenced:
 * a node that lost the lease is refused by the cache, and stops. A REGISTER
 * that refreshed the AoR meanwhile wins (the swap finds the bindings
 * changed; the row is cleared only while its regseconds is still past).
 * One sweep at a time; a failure is logged and the next tick tries again.
 */
/** How often a failing sweep is said, at most. */
const FAILURE_REPORT_MS = 30_000;

export class ExpirySweeper {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  /** An outage fails every sweep (one a second): said once per interval. */
  private readonly failureReports = throttledReport(FAILURE_REPORT_MS, () => this.deps.clock.now().getTime());

  constructor(private readonly deps: ExpirySweeperDeps) {}

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      this.running ??= this.sweep()
        .then(() => undefined)
        .catch((error: unknown) =>
          this.failureReports((since) =>
            this.deps.log.error({ err: error }, `expiry sweep failed: ${errorMessage(error)}${since}`),
          ),
        )
        .finally(() => (this.running = undefined));
    }, this.deps.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** One pass; returns the AoRs whose last binding expired. */
  async sweep(): Promise<string[]> {
    const { cache, store, clock, log } = this.deps;
    const now = clock.now().getTime();
    const emptied: string[] = [];
    if (!this.deps.fence()) return emptied;
    for (const aor of await cache.dueAors(now, BATCH)) {
      const fence = this.deps.fence();
      if (!fence) break;
      const bindings = await cache.getBindings(aor);
      const live = bindings.filter((binding) => binding.expiresAt > now);
      const outcome = await cache.swapBindings(aor, bindings, live, bindingTtl(live, now), fence);
      if (outcome === 'fenced') {
        log.warn({ holder: fence.holder }, 'expiry sweep stopped: this node no longer holds the leader lease');
        break;
      }
      if (outcome === 'changed' || live.length > 0) continue;
      emptied.push(aor);
      await this.deps.peers.registrationEnded(aor);
      if (this.deps.rtupdate && !this.deps.ignoreregexpire)
        await store.writeRegistration(aor, CLEARED_REGISTRATION, { expiredBy: Math.floor(now / 1000) });
      log.info({ peer: aor }, `registration of ${aor} expired`);
    }
    return emptied;
  }
}
