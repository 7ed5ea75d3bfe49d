import type { CarrierStateCache, GatewayStateCache } from '../cache/cache.js';
import { type Clock, systemClock } from '../clock.js';
import type { Config } from '../config/schema.js';
import { errorMessage, formatRowProblem } from '../errors.js';
import type { Closers } from '../lifecycle/closers.js';
import { describeLoad, warningLines } from '../routing/core/load-summary.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics/metrics.js';
import { plural } from '../core/plural.js';
import { CarrierStateService } from '../probe/carrier-state-service.js';
import { GatewayStateService } from '../probe/gateway-state-service.js';
import { ReportThrottle } from '../core/report-throttle.js';
import { routingServiceOptions } from '../routing/core/routing-options.js';
import {
  type LiveState,
  type PartitionedRowSource,
  type ReloadReport,
  type RoutingRowSource,
  RoutingService,
} from '../routing/routing-service.js';
import type { RoutingData } from '../store/knex/partition-stores.js';
import { CACHE_OUTAGE_REPORT_MS } from './cache-outage-reports.js';

/** The routing snapshot, the gateway and carrier states it reads, and their reload: opened by `openRouting`. */
export interface RoutingParts {
  routing: RoutingService;
  gateways: GatewayStateService;
  carriers: CarrierStateService;
  /** The first load's report, for the start line. */
  loaded: ReloadReport;
  /** Rebuilds the snapshot (SIGHUP, the admin API); `inheritState` false takes dr_gateways.state. */
  reload: (options?: { inheritState?: boolean }) => Promise<ReloadReport>;
  lastReload: () => ReloadReport;
}

const SYSTEM_TIME_ZONE = Intl.DateTimeFormat().resolvedOptions().timeZone;

/** How often a node takes the gateway and carrier states other nodes shared (one cache read each). */
const SHARED_STATE_REFRESH_MS = 1000;

export function createRoutingService(
  config: Readonly<Config>,
  source: RoutingRowSource | PartitionedRowSource,
  clock: Clock = systemClock,
  live: LiveState = {},
): RoutingService {
  return new RoutingService(source, routingServiceOptions(config.routing, SYSTEM_TIME_ZONE, config.sip), clock, live);
}

/** The default group of calls routed with no group named (the MI commands' default). */
export function defaultRoutingGroup(config: Readonly<Config>): number | null {
  return routingServiceOptions(config.routing, SYSTEM_TIME_ZONE, config.sip).defaultGroup;
}

/**
 * Loads the routing snapshot with the gateway and carrier states shared
 * through the cache, and keeps taking the states other nodes share.
 */
export async function openRouting(deps: {
  config: Readonly<Config>;
  data: RoutingData;
  cache: GatewayStateCache & CarrierStateCache;
  metrics: Metrics;
  log: Logger;
  closers: Closers;
}): Promise<RoutingParts> {
  const { config, data, cache, metrics, log, closers } = deps;
  const probe = config.probe;
  const gateways = new GatewayStateService({
    cache,
    store: data.states,
    clock: systemClock,
    log,
    observer: metrics,
    options: probe,
  });
  closers.push('the gateway states', () => gateways.stop());
  const carriers = new CarrierStateService({ cache, store: data.states, log, persistState: probe.persistState });
  const routing = createRoutingService(config, data.source, systemClock, {
    gatewayState: gateways.stateOf,
    carrierEnabled: carriers.enabledOf,
  });
  const loaded = await routing.load();
  metrics.routingRowsSkipped(loaded.skipped.map((row) => row.table));
  for (const warning of warningLines(loaded)) log.warn({ warning }, `routing data: ${warning}`);
  await gateways.adopt(routing.current.destinations, { inheritState: true });
  await carriers.adopt(routing.current.destinations, { inheritState: true });
  gateways.startPersisting();
  refreshSharedStates(gateways, carriers, log, closers);

  let lastReload = loaded;
  const reload = async (options: { inheritState?: boolean } = {}): Promise<ReloadReport> => {
    const report = await reloadRouting(routing, log).catch((error: unknown) => {
      metrics.reload('failed');
      throw error;
    });
    metrics.reload(report.ok ? 'ok' : 'failed');
    lastReload = report;
    if (report.ok) {
      const inheritState = options.inheritState ?? probe.inheritState;
      await gateways.adopt(routing.current.destinations, { inheritState });
      metrics.routingRowsSkipped(report.skipped.map((row) => row.table));
      await carriers.adopt(routing.current.destinations, { inheritState });
    }
    return report;
  };
  return { routing, gateways, carriers, loaded, reload, lastReload: () => lastReload };
}

/** Takes the states other nodes shared every SHARED_STATE_REFRESH_MS; a cache outage is said once per CACHE_OUTAGE_REPORT_MS. */
function refreshSharedStates(
  gateways: GatewayStateService,
  carriers: CarrierStateService,
  log: Logger,
  closers: Closers,
): void {
  const reports = new ReportThrottle(CACHE_OUTAGE_REPORT_MS);
  const refresher = setInterval(() => {
    Promise.all([gateways.refresh(), carriers.refresh()]).catch((error: unknown) => {
      const heldBack = reports.admit(Date.now());
      if (heldBack !== undefined)
        log.warn(
          { err: error, heldBack },
          `shared gateway/carrier states not refreshed (${errorMessage(error)}): this node keeps the states it knows${heldBack > 0 ? ` (${heldBack} more failed refreshes since the last report)` : ''}`,
        );
    });
  }, SHARED_STATE_REFRESH_MS);
  refresher.unref();
  closers.push('the shared-state refresh', () => clearInterval(refresher));
}

async function reloadRouting(routing: RoutingService, log: Logger): Promise<ReloadReport> {
  try {
    const report = await routing.reload();
    if (report.ok) {
      log.info(
        { generation: report.generation, durationMs: Math.round(report.durationMs), counts: report.counts },
        `routing reloaded: ${describeLoad(report)}`,
      );
      for (const warning of warningLines(report)) log.warn({ warning }, `routing data: ${warning}`);
    } else {
      for (const error of report.errors)
        log.error({ error: formatRowProblem(error) }, `routing reload refused: ${formatRowProblem(error)}`);
      log.error(
        { generation: report.generation, errors: report.errors.length },
        `routing reload failed with ${plural(report.errors.length, 'error')}: generation ${report.generation} stays in use`,
      );
    }
    return report;
  } catch (error) {
    log.error({ err: error }, `routing reload failed: ${errorMessage(error)}; the current snapshot stays in use`);
    throw error;
  }
}
