import type { BindingCache, NonceCountCache, PeerCache } from '../cache/cache.js';
import { MemoryCache } from '../cache/memory-cache.js';
import { nonceCountsWithFallback } from '../cache/nonce-count-fallback.js';
import { systemClock } from '../clock.js';
import type { Config } from '../config/schema.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics/metrics.js';
import type { GatewayStateService } from '../probe/gateway-state-service.js';
import { callRouterStep, type LocationLookup } from '../proxy/call-router.js';
import { CallerAuthentication } from '../proxy/caller-authentication.js';
import type { DialogGuard } from '../proxy/dialog-guard.js';
import type { NodeRelay } from '../proxy/core/node-relay.js';
import { optionsStep } from '../proxy/options-step.js';
import { randomBytesPooled } from '../random-pool.js';
import { DigestAuthenticator } from '../registrar/authentication-service.js';
import { locationLookup } from '../registrar/location-service.js';
import { PeerLookup } from '../registrar/peer-service.js';
import { type Registrar, registerStep } from '../registrar/registrar-service.js';
import { withoutPeerTable } from '../registrar/core/without-peer-table.js';
import { ReportThrottle } from '../core/report-throttle.js';
import type { RoutingService } from '../routing/routing-service.js';
import type { SecurityLog } from '../security-log/security-log.js';
import type { SipEngine } from '../sip/engine.js';
import type { MethodStep } from '../sip/pipeline.js';
import type { Store } from '../store/store.js';
import type { DefenceParts } from './defence-wiring.js';
import { CACHE_OUTAGE_REPORT_MS } from './cache-outage-reports.js';

/** What each SIP method is answered by, and the services the admin API shares with them. */
export interface SipSteps {
  steps: Record<string, MethodStep>;
  registrar: Registrar;
  peers: PeerLookup;
  locate: LocationLookup;
}

/** A gateway's silence is not held against it when we ran late within its timeout and this much before. */
const SILENCE_MARGIN_MS = 1000;

/** Methods the call router takes, in a dialog or not. */
const ROUTED_METHODS = ['INVITE', 'BYE', 'UPDATE', 'INFO', 'REFER', 'NOTIFY', 'PRACK', 'MESSAGE'];

/**
 * The steps of the SIP pipeline: OPTIONS answered by us, REGISTER by the
 * registrar (Asterisk realtime's rules over sippeers), calls and requests
 * within dialogs by the call router (the location service, the routing
 * snapshot, the caller check), all authenticated with one digest
 * authenticator.
 */
export async function sipSteps(deps: {
  config: Readonly<Config>;
  store: Store;
  cache: BindingCache & PeerCache & NonceCountCache;
  routing: RoutingService;
  gateways: GatewayStateService;
  defence: DefenceParts;
  engine: SipEngine;
  dialogs: DialogGuard;
  relay: NodeRelay | undefined;
  secret: string;
  security: SecurityLog;
  metrics: Metrics;
  log: Logger;
}): Promise<SipSteps> {
  const { config, store, cache, routing, defence, security, metrics, log } = deps;
  const registrar = config.registrar;
  const peers = new PeerLookup(store, cache, {
    rtcachefriends: registrar.rtcachefriends,
    rtautoclearSeconds: registrar.rtautoclearSeconds,
  });
  const locate = locationLookup({
    cache,
    peers,
    clock: systemClock,
    ignoreregexpire: registrar.ignoreregexpire,
    rebuildFromRows: registrar.rtupdate,
    log,
    relay: deps.relay,
  });
  const nonceFallbackReports = new ReportThrottle(CACHE_OUTAGE_REPORT_MS);
  const authenticator = new DigestAuthenticator({
    peers,
    cache: nonceCountsWithFallback(cache, new MemoryCache(), (error) => {
      const heldBack = nonceFallbackReports.admit(Date.now());
      if (heldBack !== undefined)
        log.warn(
          { err: error, heldBack },
          `${error.message}: digest nonce counts are kept in this process until it answers again`,
        );
    }),
    realm: registrar.realm,
    algorithms: registrar.algorithms,
    nonceLifetimeSeconds: registrar.nonceLifetimeSeconds,
    nonceSecret: deps.secret,
    clock: systemClock,
    salt: () => randomBytesPooled(8),
  });
  const { callerSources, overloadGuard } = defence;
  const callRouter = callRouterStep({
    routing,
    locate,
    proxy: config.proxy,
    local: deps.engine.local,
    dialogs: deps.dialogs,
    callers: new CallerAuthentication({
      authenticator,
      trusted: (source) => callerSources.trusted.has(source),
      peerAt: (address) => callerSources.peers.at(address),
      security,
    }),
    unauthenticatedMayReach: config.auth.unauthenticatedMayReach,
    log,
    observer: metrics,
    relay: deps.relay,
    now: Date.now,
    gatewaySilent: (gwid) => {
      // A timeout while we ran late says nothing about the gateway (overload: the answer waited in our queue).
      if (overloadGuard.overloadedWithin(config.proxy.timeoutMs + SILENCE_MARGIN_MS)) return;
      const gateway = routing.current.destinations.gateways.get(gwid);
      if (gateway) void deps.gateways.apply(gateway, { kind: 'call-timeout' });
    },
  });
  const registrarService = registerStep({
    store,
    peers,
    cache,
    config: registrar,
    authenticator,
    clock: systemClock,
    random: Math.random,
    log,
    security,
    observer: metrics,
    // Read once: a column widened while running is used from the next start.
    columnSizes: await store.registrationColumnSizes(),
    nodeAddress: config.ha.nodeAddress,
    // Two thirds of the idle timeout: the keep-alives (every 80-100 % of it, RFC 5626 §4.4.1) keep the connection open.
    flowTimerSeconds: Math.floor((config.sip.tcp.idleTimeoutMs * 2) / 3 / 1000),
  });
  const steps: Record<string, MethodStep> = {};
  steps.OPTIONS = optionsStep(() => Object.keys(steps));
  steps.REGISTER = withoutPeerTable(() => store.layout().peers !== undefined, registrarService.step);
  for (const method of ROUTED_METHODS) steps[method] = callRouter;
  return { steps, registrar: registrarService, peers, locate };
}
