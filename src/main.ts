import { adminRoutes } from './admin/admin-api.js';
import { type AdminServer, startAdminServer } from './admin/admin-server.js';
import { type Clock, systemClock } from './clock.js';
import type { Config } from './config/schema.js';
import type { BanStore } from './cache/ban-store.js';
import type { Cache } from './cache/cache.js';
import { MemoryCache } from './cache/memory-cache.js';
import { nonceCountsWithFallback } from './cache/nonce-count-fallback.js';
import { cacheOptions, openCache } from './cache/open-cache.js';
import { banRoutes } from './admin/ban-routes.js';
import { droutingMiCommands } from './admin/mi-drouting.js';
import { miRoutes } from './admin/mi-http.js';
import { OverloadGuard } from './defence/overload-service.js';
import { SourceGuard } from './defence/source-guard-service.js';
import { ReportThrottle } from './report-throttle.js';
import { formatRowProblem } from './errors.js';
import type { Leadership } from './ha/leadership.js';
import { singletonWork } from './ha/singleton-work.js';
import { randomBytesPooled, randomHex } from './random-pool.js';
import { hostAddresses, unheldAddressWarning } from './ha/virtual-address.js';
import { Metrics } from './metrics/metrics.js';
import { CarrierStateService } from './probe/carrier-state-service.js';
import { GatewayStateService } from './probe/gateway-state-service.js';
import { Prober } from './probe/prober-service.js';
import { BindingRefill } from './registrar/binding-refill-service.js';
import { ExpirySweeper } from './registrar/expiry-service.js';
import { locationLookup } from './registrar/location-service.js';
import { PeerLookup } from './registrar/peer-service.js';
import { DigestAuthenticator } from './registrar/authentication-service.js';
import { registerStep } from './registrar/registrar-service.js';
import { callRouterStep } from './proxy/call-router.js';
import { CallerAuthentication } from './proxy/caller-authentication.js';
import { DialogGuard } from './proxy/dialog-guard.js';
import { DialogSigner } from './proxy/dialog-token.js';
import { NodeRelay } from './proxy/node-relay.js';
import { TlsCredentials } from './sip/native/tls-credentials.js';
import { optionsStep } from './proxy/options-step.js';
import { readCallerSources } from './proxy/caller-sources.js';
import { PeersByAddress } from './proxy/peers-by-address.js';
import { TrustedSources } from './proxy/trusted-sources.js';
import type { SipEngine } from './sip/engine.js';
import { createEngine, describeEngine, drachtioServer } from './sip/engine-choice.js';
import type { WorkerSteering } from './sip/native/worker-steering.js';
import { createPipeline, type MethodStep } from './sip/pipeline.js';
import { describeLoad, warningLines } from './load-summary.js';
import { plural } from './plural.js';
import type { Logger } from './log.js';
import { routingServiceOptions } from './routing/routing-options.js';
import {
  type LiveState,
  type PartitionedRowSource,
  type ReloadReport,
  type RoutingRowSource,
  RoutingService,
} from './routing/routing-service.js';
import { prepareStore } from './store/knex/open-store.js';
import { routingDataOf } from './store/knex/partition-stores.js';
import { openSecurityLog, type SecurityLog } from './security-log/security-log.js';
import type { Store } from './store/store.js';
import type { StoreLayout } from './model/table-layouts.js';
import { withoutPeerTable } from './registrar/without-peer-table.js';
import { packageVersion } from './version.js';

/**
 * The composition root: picks the implementations the configuration names
 * and wires them. Nothing else in the program opens sockets or databases.
 */

export interface RunningServer {
  readonly adminUrl: string;
  /** The SIP engine, for its state (tests, later the metrics). */
  readonly engine: SipEngine;
  /** Rebuilds the routing snapshot (SIGHUP, the admin API); `inheritState` false takes dr_gateways.state. */
  reload(options?: { inheritState?: boolean }): Promise<ReloadReport>;
  /** Opens log.securityFile again (SIGHUP, after logrotate moved it). */
  reopenLogs(): void;
  /** Reads the TLS certificate, key and CA files again (SIGHUP) and logs the outcome: a failure keeps the old ones. */
  reloadCertificates(): Promise<void>;
  stop(): Promise<void>;
}

const SYSTEM_TIME_ZONE = Intl.DateTimeFormat().resolvedOptions().timeZone;

/** A gateway's silence is not held against it when we ran late within its timeout and this much before. */
const SILENCE_MARGIN_MS = 1000;

/** While the cache does not answer, its fall-backs (nonce counts, shared states) are said once per this. */
const OUTAGE_REPORT_MS = 30_000;

/** How often a node takes the gateway and carrier states other nodes shared (one cache read each). */
const SHARED_STATE_REFRESH_MS = 1000;
/** How often the leader looks whether the cache lost the registrations it put back from the rows; and rows a page of that refill. */
const REFILL_CHECK_MS = 10_000;
const REFILL_PAGE_ROWS = 500;

export function createRoutingService(
  config: Readonly<Config>,
  source: RoutingRowSource | PartitionedRowSource,
  clock: Clock = systemClock,
  live: LiveState = {},
): RoutingService {
  return new RoutingService(source, routingServiceOptions(config.routing, SYSTEM_TIME_ZONE, config.sip), clock, live);
}

/** A worker process of `drouter start --workers N` (src/cluster/worker-main.ts); absent for the one process of a node. */
export interface WorkerRole {
  /** Names the process in its start line: `drouter worker 2`. */
  name: string;
  /** How the engine shares the SIP address with the other workers. */
  steering: WorkerSteering;
  /** The metrics the cluster's primary gathers from this worker. */
  metrics: Metrics;
}

export async function startServer(config: Readonly<Config>, log: Logger, worker?: WorkerRole): Promise<RunningServer> {
  const prepared = await prepareStore(config.store.url, { seedExample: config.store.seedExample, log });
  const { store } = prepared;
  const routingData = routingDataOf(store, config.store.url, config.routing.partitions);
  let admin: AdminServer | undefined;
  let engine: SipEngine | undefined;
  let cache: (Cache & BanStore) | undefined;
  let sweeper: ExpirySweeper | undefined;
  let refill: BindingRefill | undefined;
  let states: GatewayStateService | undefined;
  let prober: Prober | undefined;
  let refresher: NodeJS.Timeout | undefined;
  let leadership: Leadership | undefined;
  let security: SecurityLog | undefined;
  let guard: SourceGuard | undefined;
  let overload: OverloadGuard | undefined;
  try {
    const securityLog = openSecurityLog(config.log.securityFile, log, systemClock);
    security = securityLog;
    cache = await openCache(config.cache.url, cacheOptions(config.cache));
    const metrics = worker?.metrics ?? new Metrics();
    metrics.buildInfo({ version: packageVersion(), node: process.version, engine: config.sip.engine });
    const probe = config.probe;
    states = new GatewayStateService({
      cache,
      store: routingData.states,
      clock: systemClock,
      log,
      observer: metrics,
      options: probe,
    });
    const carriers = new CarrierStateService({
      cache,
      store: routingData.states,
      log,
      persistState: probe.persistState,
    });
    const routing = createRoutingService(config, routingData.source, systemClock, {
      gatewayState: states.stateOf,
      carrierEnabled: carriers.enabledOf,
    });
    const loaded = await routing.load();
    metrics.routingRowsSkipped(loaded.skipped.map((row) => row.table));
    let lastReload = loaded;
    await states.adopt(routing.current.destinations, { inheritState: true });
    await carriers.adopt(routing.current.destinations, { inheritState: true });
    states.startPersisting();
    const sharedStates = states;
    // A cache outage fails every refresh: said once per interval, with the count held back.
    const refreshReports = new ReportThrottle(OUTAGE_REPORT_MS);
    refresher = setInterval(() => {
      Promise.all([sharedStates.refresh(), carriers.refresh()]).catch((error: unknown) => {
        const heldBack = refreshReports.admit(Date.now());
        if (heldBack !== undefined)
          log.warn(
            { err: error, heldBack },
            `shared gateway/carrier states not refreshed (${error instanceof Error ? error.message : String(error)}): this node keeps the states it knows${heldBack > 0 ? ` (${heldBack} more failed refreshes since the last report)` : ''}`,
          );
      });
    }, SHARED_STATE_REFRESH_MS);
    refresher.unref();
    for (const warning of warningLines(loaded)) log.warn({ warning }, `routing data: ${warning}`);
    logStoreLayout(store.layout(), log);
    const peerCount = await store.countPeers();

    const secret = await sharedSecret(config, store, log);
    const dialogs = new DialogGuard(new DialogSigner(secret), securityLog);
    const secure = config.sip.transports.includes('tls') || config.sip.transports.includes('wss');
    const tls = config.sip.engine === 'native' && secure ? await TlsCredentials.load(config.sip.tls) : undefined;
    engine = createEngine(config, log, metrics, worker?.steering, dialogs, tls);
    const steps: Record<string, MethodStep> = {};
    steps.OPTIONS = optionsStep(() => Object.keys(steps));
    const registrar = config.registrar;
    const peers = new PeerLookup(store, cache, {
      rtcachefriends: registrar.rtcachefriends,
      rtautoclearSeconds: registrar.rtautoclearSeconds,
    });
    const relay = config.ha.nodeAddress === '' ? undefined : new NodeRelay(secret, config.ha.nodeAddress);
    const locate = locationLookup({
      cache,
      peers,
      clock: systemClock,
      ignoreregexpire: registrar.ignoreregexpire,
      rebuildFromRows: registrar.rtupdate,
      log,
      relay,
    });
    const nonceFallbackReports = new ReportThrottle(OUTAGE_REPORT_MS);
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
      nonceSecret: secret,
      clock: systemClock,
      salt: () => randomBytesPooled(8),
    });
    const callerSources = {
      trusted: new TrustedSources(
        config.auth.trustedSources,
        () => routing.current.destinations,
        config.auth.addressGroups,
      ),
      peers: new PeersByAddress(),
    };
    await readCallerSources(callerSources, store, log);
    const sourceGuard = new SourceGuard({
      bans: cache,
      config: config.limits,
      trusted: (source) => callerSources.trusted.has(source),
      log,
      notices: securityLog,
      observer: metrics,
      now: Date.now,
    });
    guard = sourceGuard;
    securityLog.onRefusal((source, user) => sourceGuard.authFailed(source, user));
    const sipEngineForLoad = engine;
    const overloadGuard = new OverloadGuard({
      config: config.overload,
      invitesInProgress: () => sipEngineForLoad.stats().invitesInProgress,
      log,
      observer: metrics,
      random: Math.random,
    });
    overload = overloadGuard;
    const gatewayStates = states;
    const callRouter = callRouterStep({
      routing,
      locate,
      proxy: config.proxy,
      local: engine.local,
      dialogs,
      callers: new CallerAuthentication({
        authenticator,
        trusted: (source) => callerSources.trusted.has(source),
        peerAt: (address) => callerSources.peers.at(address),
        security: securityLog,
      }),
      unauthenticatedMayReach: config.auth.unauthenticatedMayReach,
      log,
      observer: metrics,
      relay,
      now: Date.now,
      gatewaySilent: (gwid) => {
        // A timeout while we ran late says nothing about the gateway (overload: the answer waited in our queue).
        if (overloadGuard.overloadedWithin(config.proxy.timeoutMs + SILENCE_MARGIN_MS)) return;
        const gateway = routing.current.destinations.gateways.get(gwid);
        if (gateway) void gatewayStates.apply(gateway, { kind: 'call-timeout' });
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
      security: securityLog,
      observer: metrics,
      // Read once: a column widened while running is used from the next start.
      columnSizes: await store.registrationColumnSizes(),
      nodeAddress: config.ha.nodeAddress,
      // Two thirds of the idle timeout: the keep-alives (every 80-100 % of it, RFC 5626 §4.4.1) keep the connection open.
      flowTimerSeconds: Math.floor((config.sip.tcp.idleTimeoutMs * 2) / 3 / 1000),
    });
    steps.REGISTER = withoutPeerTable(() => store.layout().peers !== undefined, registrarService.step);
    engine.watchFlows?.((flow) => void registrarService.flowClosed(flow));
    metrics.countBindingsWith(() => cache?.countBoundAors() ?? Promise.resolve(0));
    const leaderOf = () => leadership;
    sweeper = new ExpirySweeper({
      cache,
      store,
      peers,
      clock: systemClock,
      log,
      intervalMs: registrar.sweepIntervalMs,
      rtupdate: registrar.rtupdate,
      ignoreregexpire: registrar.ignoreregexpire,
      fence: () => leaderOf()?.fence(),
    });
    for (const method of ['INVITE', 'BYE', 'UPDATE', 'INFO', 'REFER', 'NOTIFY', 'PRACK', 'MESSAGE'])
      steps[method] = callRouter;
    await sourceGuard.start();
    await engine.start(
      createPipeline({
        local: engine.local,
        steps,
        log,
        observer: metrics,
        sheds: (method, inDialog) => overloadGuard.sheds(method, inDialog),
      }),
      sourceGuard,
    );
    if (config.sip.engine === 'drachtio') metrics.drachtioStarted(drachtioServer(config));
    prober = new Prober({
      engine,
      states,
      table: () => routing.current.destinations,
      cache,
      config: probe,
      log,
      observer: metrics,
      overloadedWithin: (ms) => overloadGuard.overloadedWithin(ms),
    });
    const unheld =
      config.sip.engine === 'native'
        ? unheldAddressWarning(config.sip.address, hostAddresses(), config.ha.keepalivedStateFile)
        : undefined;
    if (unheld) log.warn({ address: config.sip.address }, unheld);
    // A cache that restarted empty gets the registrations back from the rows (written at each REGISTER with rtupdate only).
    refill = registrar.rtupdate
      ? new BindingRefill({
          cache,
          store,
          clock: systemClock,
          log,
          intervalMs: REFILL_CHECK_MS,
          pageSize: REFILL_PAGE_ROWS,
          fence: () => leaderOf()?.fence(),
          refilled: (count) => metrics.bindingsRefilled(count),
        })
      : undefined;
    leadership = singletonWork(config, cache, log, metrics, [prober, sweeper, ...(refill ? [refill] : [])]);
    await leadership.start();

    const sipEngine = engine;
    const openedCache = cache;
    const expirySweeper = sweeper;
    const bindingRefill = refill;
    const gatewayProber = prober;
    const leader = leadership;
    const reload = async (options: { inheritState?: boolean } = {}): Promise<ReloadReport> => {
      const report = await reloadRouting(routing, log).catch((error: unknown) => {
        metrics.reload('failed');
        throw error;
      });
      metrics.reload(report.ok ? 'ok' : 'failed');
      lastReload = report;
      if (report.ok) {
        const inheritState = options.inheritState ?? probe.inheritState;
        await gatewayStates.adopt(routing.current.destinations, { inheritState });
        metrics.routingRowsSkipped(report.skipped.map((row) => row.table));
        await carriers.adopt(routing.current.destinations, { inheritState });
      }
      // The caller check's sources are read again with every reload (SIGHUP, POST /reload).
      await readCallerSources(callerSources, store, log);
      return report;
    };
    const routes = adminRoutes({
      routing,
      gateways: gatewayStates,
      carriers,
      prober: gatewayProber,
      store,
      cache: openedCache,
      peers,
      locate,
      engine: sipEngine,
      engineName: config.sip.engine,
      metrics,
      clock: systemClock,
      reload,
      lastReload: () => lastReload,
      leadership: leader,
    });
    const mi = droutingMiCommands({
      routing,
      gateways: gatewayStates,
      carriers,
      prober: gatewayProber,
      reload,
      clock: systemClock,
      partitioned: config.routing.partitions.enabled,
      defaultGroup: routingServiceOptions(config.routing, SYSTEM_TIME_ZONE, config.sip).defaultGroup,
    });
    admin = await startAdminServer(
      config.admin,
      [...routes, ...banRoutes(sourceGuard, Date.now), ...miRoutes(mi, log)],
      log,
    );

    // Last: the start-up's own work (loading the admin server) would read as lateness.
    overloadGuard.start();
    const schemaNote = prepared.schemaCreated
      ? ' (schema created' + (prepared.seeded ? ', example data loaded)' : ')')
      : '';
    log.info(
      {
        store: store.displayUrl,
        schemaCreated: prepared.schemaCreated,
        seeded: prepared.seeded !== undefined,
        routing: loaded.counts,
        peers: peerCount,
        admin: admin.url,
      },
      `${worker?.name ?? 'drouter'} started: store ${store.displayUrl}${schemaNote}: ${describeLoad(loaded, peerCount)}; SIP ${describeEngine(sipEngine, config)}; admin ${admin.url}`,
    );
    const adminServer = admin;
    return {
      adminUrl: adminServer.url,
      engine: sipEngine,
      reload,
      reopenLogs: () => securityLog.reopen(),
      async reloadCertificates() {
        if (!sipEngine.reloadCertificates) return;
        try {
          if (await sipEngine.reloadCertificates())
            log.info(
              { certificateFile: config.sip.tls.certificateFile },
              `TLS certificate, key and CA read again from ${config.sip.tls.certificateFile}: new connections get them, open ones keep theirs`,
            );
        } catch (error) {
          log.error(
            { err: error },
            `TLS certificate not reloaded, the old one stays in use: ${error instanceof Error ? error.message : String(error)}`,
          );
        }
      },
      async stop() {
        clearInterval(refresher);
        await leader.stop();
        gatewayProber.stop();
        await gatewayStates.stop();
        await expirySweeper.stop();
        await bindingRefill?.stop();
        await sipEngine.stop();
        sourceGuard.stop();
        overloadGuard.stop();
        await securityLog.close();
        await adminServer.close();
        await openedCache.close();
        await routingData.close();
        await store.close();
      },
    };
  } catch (error) {
    clearInterval(refresher);
    await leadership?.stop();
    prober?.stop();
    await states?.stop();
    await sweeper?.stop();
    await refill?.stop();
    await engine?.stop();
    guard?.stop();
    overload?.stop();
    await security?.close();
    await admin?.close();
    await cache?.close();
    await routingData.close();
    await store.close();
    throw error;
  }
}

/**
 * The secret of the digest nonces and the dialog tokens: configured, or the
 * one the nodes agreed on in the store (drouter_shared), which outlives a
 * restart of any node or of Redis.
 */
async function sharedSecret(config: Readonly<Config>, store: Store, log: Logger): Promise<string> {
  if (config.registrar.nonceSecret) return config.registrar.nonceSecret;
  const candidate = randomHex(32);
  const shared = await store.sharedValue('secret', candidate);
  if (shared !== undefined) return shared;
  log.warn(
    `the store has no drouter_shared table: this process made a secret of its own for nonces and dialog tokens, which no other node shares and no restart keeps (a failover or restart then refuses in-dialog requests of calls in progress); set registrar.nonceSecret, the same on every node, or run drouter migrate`,
  );
  return candidate;
}

/** Says what differs from sip-drouter's own tables: an operator's layout read as it is (docs/schema.md "Schema"). */
function logStoreLayout(layout: StoreLayout, log: Logger): void {
  if (layout.notes.length > 0)
    log.info(
      { layout: layout.name, notes: layout.notes },
      `store tables read as ${layout.name}: ${layout.notes.join('; ')}`,
    );
  if (!layout.peers)
    log.warn(
      'the store has no sippeers table: every REGISTER is answered 404 and calls reach no registered phone; run drouter migrate to create it',
    );
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
    log.error(
      { err: error },
      `routing reload failed: ${error instanceof Error ? error.message : String(error)}; the current snapshot stays in use`,
    );
    throw error;
  }
}
