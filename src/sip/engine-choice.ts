import { type Config, configSchema } from '../config/schema.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics/metrics.js';
import type { DialogGuard } from '../proxy/dialog-guard.js';
import type { ConnectionEvent } from './drachtio/connection.js';
import { DrachtioEngine } from './drachtio/drachtio-engine.js';
import type { SipEngine } from './engine.js';
import { listeningText } from './core/endpoint.js';
import { NativeEngine } from './native/native-engine.js';
import type { TlsCredentials } from './native/tls-credentials.js';
import type { WorkerSteering } from './native/worker-steering.js';
import { errorMessage } from '../errors.js';

/** The SIP engine the configuration names (sip.engine), with its log lines and metrics wired. */
export function createEngine(
  config: Readonly<Config>,
  log: Logger,
  metrics: Metrics,
  steering: WorkerSteering | undefined,
  dialogs: DialogGuard,
  tls?: TlsCredentials,
): SipEngine {
  const onError = (error: unknown) => log.error({ err: error }, `SIP engine fault: ${errorMessage(error)}`);
  if (config.sip.engine === 'drachtio') {
    const { host, port, secret, listen } = config.sip.drachtio;
    const server = drachtioServer(config);
    const onConnection = (event: ConnectionEvent) => {
      logConnection(log, server, event);
      // Events come only after start: a connection then is a reconnection.
      if (event.kind === 'lost') metrics.drachtioLost(server);
      if (event.kind === 'connected') metrics.drachtioReconnected(server);
    };
    return new DrachtioEngine(
      {
        host,
        port,
        secret,
        ...(listen.port > 0 ? { listen } : {}),
        preferredAddress: config.sip.address,
        onError,
        onConnection,
        retryAfterSeconds: config.overload.retryAfterSeconds,
      },
      { address: config.sip.address, port: config.sip.port },
    );
  }
  return new NativeEngine({
    address: config.sip.address,
    port: config.sip.port,
    transports: config.sip.transports,
    tcp: config.sip.tcp,
    tcpObserver: { refused: (cap) => metrics.tcpRefused(cap), closed: (reason) => metrics.tcpClosed(reason) },
    onError,
    acceptsDialogAck: (ack) => dialogs.accepts(ack),
    dialogFlow: (ack, route) => dialogs.flowOf(ack, route),
    retryAfterSeconds: config.overload.retryAfterSeconds,
    ...(steering ? { steering } : {}),
    ...(tls ? { tls: { port: config.sip.tls.port, credentials: tls } } : {}),
    websocket: config.sip.websocket,
  });
}

/**
 * The drachtio link as the log lines and the metrics' `server` label name it:
 * drachtio-server's admin host:port, or in inbound mode where we listen for it.
 */
export function drachtioServer(config: Readonly<Config>): string {
  const { host, port, listen } = config.sip.drachtio;
  return listen.port > 0 ? `${listen.address}:${listen.port}` : `${host}:${port}`;
}

/** The drachtio connection's life after start: losing it is an error (no SIP flows), getting it back is news. */
function logConnection(log: Logger, server: string, event: ConnectionEvent): void {
  switch (event.kind) {
    case 'connected': {
      const contacts =
        event.hostports.length > 0
          ? ` (${event.hostports.map((h) => `${h.transport}/${h.address}:${h.port}`).join(', ')})`
          : '';
      log.info(
        { drachtio: server, contacts: event.hostports },
        `connected to drachtio-server ${server} again${contacts}`,
      );
      return;
    }
    case 'session':
      log.debug(
        { drachtio: server, contacts: event.hostports },
        `drachtio-server opened a connection to ${server} for a request`,
      );
      return;
    case 'lost':
      log.error(
        { drachtio: server, reason: event.reason },
        `lost the connection to drachtio-server ${server} (${event.reason}); no SIP is handled until it is back, reconnecting`,
      );
      return;
    case 'reconnecting':
      log.debug(
        { drachtio: server, delayMs: event.delayMs, attempt: event.attempt },
        `reconnecting to drachtio-server ${server} in ${event.delayMs} ms (attempt ${event.attempt})`,
      );
      return;
    case 'refused':
      log.error({ drachtio: server, reason: event.reason }, `drachtio-server ${server} refused us: ${event.reason}`);
  }
}

/** How the start line says where SIP is served. */
export function describeEngine(engine: SipEngine, config: Readonly<Config>): string {
  const listening = listeningText(engine.local);
  if (config.sip.engine !== 'drachtio') return listening;
  const { listen } = config.sip.drachtio;
  if (listen.port > 0)
    return `${listening} through drachtio-server, which connects to us on ${listen.address}:${listen.port}`;
  return `${listening} through drachtio-server ${config.sip.drachtio.host}:${config.sip.drachtio.port}`;
}

/** The settings the drachtio engine cannot honour: drachtio-server runs the failover (docs/engines.md, "Where it differs"). */
const FORK_SETTINGS = ['inviteTimeoutMs', 'failoverCodes', 'relayLastFailure'] as const;

/**
 * The `proxy.*` keys set away from their defaults that `sip.engine` will
 * not honour: with drachtio, `ServerForkExchange` takes no fork control
 * (src/sip/engine.ts). Said at start, so an operator does not count on them.
 */
export function unhonouredSettings(config: Readonly<Config>): string[] {
  if (config.sip.engine !== 'drachtio') return [];
  const defaults = configSchema.parse({}).proxy;
  return FORK_SETTINGS.filter((key) => JSON.stringify(config.proxy[key]) !== JSON.stringify(defaults[key])).map(
    (key) => `proxy.${key}`,
  );
}
