import type { AdminServer } from './admin/admin-server.js';
import { systemClock } from './clock.js';
import type { Config } from './config/schema.js';
import { cacheOptions, openCache } from './cache/open-cache.js';
import { hostAddresses, unheldAddressWarning } from './ha/virtual-address.js';
import { Closers } from './lifecycle/closers.js';
import { describeLoad } from './routing/core/load-summary.js';
import type { Logger } from './log.js';
import { Metrics } from './metrics/metrics.js';
import { DialogGuard } from './proxy/dialog-guard.js';
import { DialogSigner } from './proxy/core/dialog-token.js';
import { NodeRelay } from './proxy/core/node-relay.js';
import { randomHex } from './random-pool.js';
import type { ReloadReport } from './routing/routing-service.js';
import { openSecurityLog } from './security-log/security-log.js';
import type { SipEngine } from './sip/engine.js';
import { createEngine, describeEngine, drachtioServer, unhonouredSettings } from './sip/engine-choice.js';
import { TlsCredentials } from './sip/native/tls-credentials.js';
import type { WorkerSteering } from './sip/native/worker-steering.js';
import { createPipeline } from './sip/pipeline.js';
import type { StoreLayout } from './core/model/table-layouts.js';
import { prepareStore } from './store/knex/open-store.js';
import { routingDataOf } from './store/knex/partition-stores.js';
import type { Store } from './store/store.js';
import { packageVersion } from './version.js';
import { startAdmin } from './wiring/admin-wiring.js';
import { openDefence } from './wiring/defence-wiring.js';
import { openRouting } from './wiring/routing-wiring.js';
import { startSingletonWork } from './wiring/singleton-wiring.js';
import { sipSteps } from './wiring/sip-steps-wiring.js';
import { errorMessage } from './errors.js';

/**
 * The composition root: picks the implementations the configuration names
 * and wires them, one concern per module of src/wiring/. Nothing else in
 * the program opens sockets or databases. Each resource pushes its closer
 * as it opens (lifecycle/closers.ts): a stop, or a start that fails part
 * way, closes them in reverse.
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
  const closers = new Closers(log);
  try {
    return await wire(config, log, closers, worker);
  } catch (error) {
    await closers.closeAll();
    throw error;
  }
}

async function wire(
  config: Readonly<Config>,
  log: Logger,
  closers: Closers,
  worker: WorkerRole | undefined,
): Promise<RunningServer> {
  const prepared = await prepareStore(config.store.url, { seedExample: config.store.seedExample, log });
  const { store } = prepared;
  closers.push('the store', () => store.close());
  const routingData = routingDataOf(store, config.store.url, config.routing.partitions);
  closers.push('the routing data', () => routingData.close());
  const security = openSecurityLog(config.log.securityFile, log, systemClock);
  closers.push('the security log', () => security.close());
  const cache = await openCache(config.cache.url, cacheOptions(config.cache));
  closers.push('the cache', () => cache.close());
  const metrics = worker?.metrics ?? new Metrics();
  metrics.buildInfo({ version: packageVersion(), node: process.version, engine: config.sip.engine });
  metrics.countBindingsWith(() => cache.countBoundAors());

  const routing = await openRouting({ config, data: routingData, cache, metrics, log, closers });
  logStoreLayout(store.layout(), log);
  const peerCount = await store.countPeers();

  const secret = await sharedSecret(config, store, log);
  const dialogs = new DialogGuard(new DialogSigner(secret), security);
  const secure = config.sip.transports.includes('tls') || config.sip.transports.includes('wss');
  const tls = config.sip.engine === 'native' && secure ? await TlsCredentials.load(config.sip.tls) : undefined;
  const engine = createEngine(config, log, metrics, worker?.steering, dialogs, tls);
  closers.push('the SIP engine', () => engine.stop());
  const defence = await openDefence({
    config,
    bans: cache,
    store,
    destinations: () => routing.routing.current.destinations,
    security,
    invitesInProgress: () => engine.stats().invitesInProgress,
    metrics,
    log,
    closers,
  });
  const relay = config.ha.nodeAddress === '' ? undefined : new NodeRelay(secret, config.ha.nodeAddress);
  const sip = await sipSteps({
    config,
    store,
    cache,
    routing: routing.routing,
    gateways: routing.gateways,
    defence,
    engine,
    dialogs,
    relay,
    secret,
    security,
    metrics,
    log,
  });
  engine.watchFlows?.((flow) => void sip.registrar.flowClosed(flow));
  const { overloadGuard, sourceGuard } = defence;
  await engine.start(
    createPipeline({
      local: engine.local,
      steps: sip.steps,
      log,
      observer: metrics,
      sheds: (method, inDialog) => overloadGuard.sheds(method, inDialog),
    }),
    sourceGuard,
  );
  if (config.sip.engine === 'drachtio') metrics.drachtioStarted(drachtioServer(config));
  const unhonoured = unhonouredSettings(config);
  if (unhonoured.length > 0)
    log.warn(
      { keys: unhonoured },
      `${unhonoured.join(', ')} set, but not honoured with sip.engine drachtio: drachtio-server runs the failover (docs/engines.md, "Where it differs")`,
    );
  warnOfUnheldAddress(config, log);
  const { prober, leadership } = await startSingletonWork({
    config,
    cache,
    store,
    peers: sip.peers,
    engine,
    routing: routing.routing,
    gateways: routing.gateways,
    overloadedWithin: (ms) => overloadGuard.overloadedWithin(ms),
    metrics,
    log,
    closers,
  });

  // The caller check's sources are read again with every reload (SIGHUP, POST /reload).
  const reload = async (options: { inheritState?: boolean } = {}): Promise<ReloadReport> => {
    const report = await routing.reload(options);
    await defence.rereadCallerSources();
    return report;
  };
  const admin = await startAdmin({
    config,
    services: {
      routing: routing.routing,
      gateways: routing.gateways,
      carriers: routing.carriers,
      prober,
      store,
      cache,
      peers: sip.peers,
      locate: sip.locate,
      engine,
      engineName: config.sip.engine,
      metrics,
      clock: systemClock,
      reload,
      lastReload: routing.lastReload,
      leadership,
    },
    sourceGuard,
    log,
    closers,
  });

  // Last: the start-up's own work (loading the admin server) would read as lateness.
  overloadGuard.start();
  logStarted({ config, log, worker, prepared, loaded: routing.loaded, peerCount, engine, admin });
  return {
    adminUrl: admin.url,
    engine,
    reload,
    reopenLogs: () => security.reopen(),
    reloadCertificates: () => reloadCertificates(config, engine, log),
    stop: () => closers.closeAll(),
  };
}

/** With the native engine, a sip.address this host does not hold is said (keepalived's virtual address on the backup). */
function warnOfUnheldAddress(config: Readonly<Config>, log: Logger): void {
  if (config.sip.engine !== 'native') return;
  const unheld = unheldAddressWarning(config.sip.address, hostAddresses(), config.ha.keepalivedStateFile);
  if (unheld) log.warn({ address: config.sip.address }, unheld);
}

function logStarted(started: {
  config: Readonly<Config>;
  log: Logger;
  worker: WorkerRole | undefined;
  prepared: { store: Store; schemaCreated: boolean; seeded?: unknown };
  loaded: ReloadReport;
  peerCount: number;
  engine: SipEngine;
  admin: AdminServer;
}): void {
  const { prepared, loaded, peerCount, admin } = started;
  const store = prepared.store;
  const schemaNote = prepared.schemaCreated
    ? ' (schema created' + (prepared.seeded ? ', example data loaded)' : ')')
    : '';
  started.log.info(
    {
      store: store.displayUrl,
      schemaCreated: prepared.schemaCreated,
      seeded: prepared.seeded !== undefined,
      routing: loaded.counts,
      peers: peerCount,
      admin: admin.url,
    },
    `${started.worker?.name ?? 'drouter'} started: store ${store.displayUrl}${schemaNote}: ${describeLoad(loaded, peerCount)}; SIP ${describeEngine(started.engine, started.config)}; admin ${admin.url}`,
  );
}

/** SIGHUP's TLS part: the engine reads its certificate files again; a failure keeps the old ones, logged. */
async function reloadCertificates(config: Readonly<Config>, engine: SipEngine, log: Logger): Promise<void> {
  if (!engine.reloadCertificates) return;
  try {
    if (await engine.reloadCertificates())
      log.info(
        { certificateFile: config.sip.tls.certificateFile },
        `TLS certificate, key and CA read again from ${config.sip.tls.certificateFile}: new connections get them, open ones keep theirs`,
      );
  } catch (error) {
    log.error({ err: error }, `TLS certificate not reloaded, the old one stays in use: ${errorMessage(error)}`);
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
