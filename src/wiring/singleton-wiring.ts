import type { BindingCache, LeaseCache, SwitchCache } from '../cache/cache.js';
import { systemClock } from '../clock.js';
import type { Config } from '../config/schema.js';
import type { Leadership } from '../ha/leadership.js';
import { singletonWork } from '../ha/singleton-work.js';
import type { Closers } from '../lifecycle/closers.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics/metrics.js';
import type { GatewayStateService } from '../probe/gateway-state-service.js';
import { Prober } from '../probe/prober-service.js';
import type { RoutingService } from '../routing/routing-service.js';
import { BindingRefill } from '../registrar/binding-refill-service.js';
import { ExpirySweeper } from '../registrar/expiry-service.js';
import type { PeerLookup } from '../registrar/peer-service.js';
import type { SipEngine } from '../sip/engine.js';
import type { Store } from '../store/store.js';

/** How often the leader looks whether the cache lost the registrations it put back from the rows; and rows a page of that refill. */
const REFILL_CHECK_MS = 10_000;
const REFILL_PAGE_ROWS = 500;

/**
 * The work one node of the pair (or of N) does for all: probing the
 * gateways, sweeping expired registrations, and, with rtupdate, putting
 * back from the rows the registrations a cache that restarted empty lost.
 * Led by the lease in the cache; started here, its writes fenced by the
 * lease's token.
 */
export async function startSingletonWork(deps: {
  config: Readonly<Config>;
  cache: BindingCache & SwitchCache & LeaseCache;
  store: Store;
  peers: PeerLookup;
  engine: SipEngine;
  routing: RoutingService;
  gateways: GatewayStateService;
  overloadedWithin: (ms: number) => boolean;
  metrics: Metrics;
  log: Logger;
  closers: Closers;
}): Promise<{ prober: Prober; leadership: Leadership }> {
  const { config, cache, store, metrics, log, closers } = deps;
  const registrar = config.registrar;
  // The leadership is made last, from the work it leads; the work asks it for its fence only once it runs.
  const fence = () => leadership.fence();
  const prober = new Prober({
    engine: deps.engine,
    states: deps.gateways,
    table: () => deps.routing.current.destinations,
    cache,
    config: config.probe,
    log,
    observer: metrics,
    overloadedWithin: deps.overloadedWithin,
  });
  closers.push('the prober', () => prober.stop());
  const sweeper = new ExpirySweeper({
    cache,
    store,
    peers: deps.peers,
    clock: systemClock,
    log,
    intervalMs: registrar.sweepIntervalMs,
    rtupdate: registrar.rtupdate,
    ignoreregexpire: registrar.ignoreregexpire,
    fence,
  });
  closers.push('the expiry sweep', () => sweeper.stop());
  // A cache that restarted empty gets the registrations back from the rows (written at each REGISTER with rtupdate only).
  const refill = registrar.rtupdate
    ? new BindingRefill({
        cache,
        store,
        clock: systemClock,
        log,
        intervalMs: REFILL_CHECK_MS,
        pageSize: REFILL_PAGE_ROWS,
        fence,
        refilled: (count) => metrics.bindingsRefilled(count),
      })
    : undefined;
  if (refill) closers.push('the binding refill', () => refill.stop());
  const leadership = singletonWork(config, cache, log, metrics, [prober, sweeper, ...(refill ? [refill] : [])]);
  closers.push('the leadership', () => leadership.stop());
  await leadership.start();
  return { prober, leadership };
}
