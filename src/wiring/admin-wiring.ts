import { adminRoutes } from '../admin/admin-api.js';
import type { AdminDeps } from '../admin/admin-contract.js';
import { type AdminServer, startAdminServer } from '../admin/admin-server.js';
import { banRoutes } from '../admin/ban-routes.js';
import { droutingMiCommands } from '../admin/mi-drouting.js';
import { miRoutes } from '../admin/mi-http.js';
import type { Config } from '../config/schema.js';
import type { SourceGuard } from '../defence/source-guard-service.js';
import type { Closers } from '../lifecycle/closers.js';
import type { Logger } from '../log.js';
import { defaultRoutingGroup } from './routing-wiring.js';

/**
 * The admin API (admin.listen): its own routes, the bans', and OpenSIPS's
 * drouting MI commands over HTTP, on the services the SIP side runs on.
 */
export async function startAdmin(deps: {
  config: Readonly<Config>;
  services: AdminDeps;
  sourceGuard: SourceGuard;
  log: Logger;
  closers: Closers;
}): Promise<AdminServer> {
  const { config, services, log } = deps;
  const mi = droutingMiCommands({
    routing: services.routing,
    gateways: services.gateways,
    carriers: services.carriers,
    prober: services.prober,
    reload: (options) => services.reload(options),
    clock: services.clock,
    partitioned: config.routing.partitions.enabled,
    defaultGroup: defaultRoutingGroup(config),
  });
  const admin = await startAdminServer(
    config.admin,
    [...adminRoutes(services), ...banRoutes(deps.sourceGuard, Date.now), ...miRoutes(mi, log)],
    log,
  );
  deps.closers.push('the admin server', () => admin.close());
  return admin;
}
