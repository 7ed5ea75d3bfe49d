import type { BanStore } from '../cache/ban-store.js';
import type { Config } from '../config/schema.js';
import { OverloadGuard } from '../defence/overload-service.js';
import { SourceGuard } from '../defence/source-guard-service.js';
import type { Closers } from '../lifecycle/closers.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics/metrics.js';
import { readCallerSources } from '../proxy/caller-sources.js';
import { PeersByAddress } from '../proxy/peers-by-address.js';
import { TrustedSources } from '../proxy/trusted-sources.js';
import type { RoutingDestinations } from '../routing/core/routing-table.js';
import type { SecurityLog } from '../security-log/security-log.js';
import type { Store } from '../store/store.js';

/** Who may use the proxy, and what a flood costs: opened by `openDefence`. */
export interface DefenceParts {
  /** The sources the caller check knows: trusted ones (gateways, auth.trustedSources, the address table) and peers with a static host. */
  callerSources: { trusted: TrustedSources; peers: PeersByAddress };
  /** Reads the address table and the static-host peers again (every reload). */
  rereadCallerSources(): Promise<void>;
  /** Per-source rates and bans, before any parsing of a request. */
  sourceGuard: SourceGuard;
  /** The server's own backlog: sheds new work while it runs late. */
  overloadGuard: OverloadGuard;
}

/**
 * The caller check's sources, the per-source guard (its refusals fed by
 * the security log's authentication failures) and the overload guard.
 * The overload guard's sampling starts with `overloadGuard.start()`, last
 * in the start, so that the start's own work does not read as lateness.
 */
export async function openDefence(deps: {
  config: Readonly<Config>;
  bans: BanStore;
  store: Store;
  destinations: () => RoutingDestinations;
  security: SecurityLog;
  invitesInProgress: () => number;
  metrics: Metrics;
  log: Logger;
  closers: Closers;
}): Promise<DefenceParts> {
  const { config, store, security, metrics, log, closers } = deps;
  const callerSources = {
    trusted: new TrustedSources(config.auth.trustedSources, deps.destinations, config.auth.addressGroups),
    peers: new PeersByAddress(),
  };
  const rereadCallerSources = () => readCallerSources(callerSources, store, log);
  await rereadCallerSources();
  const sourceGuard = new SourceGuard({
    bans: deps.bans,
    config: config.limits,
    trusted: (source) => callerSources.trusted.has(source),
    log,
    notices: security,
    observer: metrics,
    now: Date.now,
  });
  closers.push('the source guard', () => sourceGuard.stop());
  security.onRefusal((source, user) => sourceGuard.authFailed(source, user));
  await sourceGuard.start();
  const overloadGuard = new OverloadGuard({
    config: config.overload,
    invitesInProgress: deps.invitesInProgress,
    log,
    observer: metrics,
    random: Math.random,
  });
  closers.push('the overload guard', () => overloadGuard.stop());
  return { callerSources, rereadCallerSources, sourceGuard, overloadGuard };
}
