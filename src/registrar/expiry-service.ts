import type { Cache } from '../cache/cache.js';
import type { Clock } from '../clock.js';
import type { Logger } from '../log.js';
import type { Store } from '../store/store.js';
import type { PeerLookup } from './peer-service.js';
import { CLEARED_REGISTRATION } from './realtime-peer.js';

export interface ExpirySweeperDeps {
  cache: Cache;
  store: Pick<Store, 'writeRegistration'>;
  clock: Clock;
  log: Logger;
  intervalMs: number;
  /** Write the cleared columns back (registrar.rtupdate). */
  rtupdate: boolean;
  /** chan_sip ignoreregexpire: expiry leaves the row (and its last contact) as it is. */
  ignoreregexpire: boolean;
  peers: PeerLookup;
}

/** AoRs handled per sweep: a burst of expiries is spread over several ticks. */
const BATCH = 500;

/**
 * Bindings expire on time with no request arriving: every `intervalMs` the
 * AoRs whose earliest binding is due lose their expired bindings, and a
 * peer left with none has its sippeers row cleared as chan_sip's
 * expire_register does. One sweep at a time; a failure is logged and the
 * next tick tries again.
 */
export class ExpirySweeper {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(private readonly deps: ExpirySweeperDeps) {}

  start(): void {
    this.timer = setInterval(() => {
      this.running ??= this.sweep()
        .then(() => undefined)
        .catch((error: unknown) => this.deps.log.error({ err: error }, `expiry sweep failed: ${error instanceof Error ? error.message : String(error)}`))
        .finally(() => (this.running = undefined));
    }, this.deps.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /** One pass; returns the AoRs whose last binding expired. */
  async sweep(): Promise<string[]> {
    const { cache, store, clock, log } = this.deps;
    const now = clock.now().getTime();
    const emptied: string[] = [];
    for (const aor of await cache.dueAors(now, BATCH)) {
      const bindings = await cache.getBindings(aor);
      const live = bindings.filter((binding) => binding.expiresAt > now);
      const ttl = Math.max(0, ...live.map((binding) => binding.expiresAt - now)) + 60_000;
      await cache.setBindings(aor, live, ttl);
      if (live.length > 0) continue;
      emptied.push(aor);
      await this.deps.peers.registrationEnded(aor);
      if (this.deps.rtupdate && !this.deps.ignoreregexpire) await store.writeRegistration(aor, CLEARED_REGISTRATION);
      log.info({ peer: aor }, `registration of ${aor} expired`);
    }
    return emptied;
  }
}
