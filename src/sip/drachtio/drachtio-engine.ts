import Srf from 'drachtio-srf';
import {
  ADMIT_ALL,
  type EngineHealth,
  type LocalAddress,
  type OutgoingRequest,
  type RequestHandler,
  type RequestOutcome,
  type RequestScreen,
  type SipEngine,
  type Transport,
} from '../engine.js';
import { type ConnectionEvent, DrachtioConnection, type DrachtioLink } from './connection.js';
import { DrachtioExchange } from './drachtio-exchange.js';
import type { RunningProxy } from './drachtio-proxy.js';
import { DEFAULT_RETRY_AFTER_SECONDS } from '../core/retry-after.js';
import { localContact } from './core/hostports.js';
import { DrachtioListener } from './listener.js';
import { sendOutgoing } from './outgoing-request.js';
import type { SrfInboundRequest, SrfResponse } from './srf-shapes.js';

export interface DrachtioEngineOptions {
  /** drachtio-server's admin endpoint and secret (its `<admin>` element). */
  host: string;
  port: number;
  secret: string;
  /** Inbound mode: where drachtio-server connects to us (its `<request-handler>` tcp://address:port); host and port are then unused. */
  listen?: { address: string; port: number };
  /** sip.address: the contact of drachtio-server that stands for us, when it has several. */
  preferredAddress: string;
  /** Called for engine faults no request owns. */
  onError: (error: unknown) => void;
  /** The connection's life after start (connected again, lost, reconnecting), for the log. */
  onConnection: (event: ConnectionEvent) => void;
  /** The Retry-After of every 503 we send (overload.retryAfterSeconds). */
  retryAfterSeconds?: number;
}

/** Start-up gives up on a drachtio-server that does not answer within this. */
const CONNECT_TIMEOUT_MS = 5000;
/** Reconnection attempts back off up to this (drachtio-srf's own curve: ×1.7 from 150 ms). */
const RETRY_MAX_DELAY_MS = 2000;

/**
 * Methods drachtio-server is asked to send us. It passes new requests of
 * these methods outside a dialog to an app that asked for them
 * (controller.cpp `processMessageStatelessly`); requests inside a dialog we
 * Record-Routed it proxies itself, BYE/UPDATE outside one it answers 481.
 */
const ROUTED_METHODS = [
  'INVITE',
  'REGISTER',
  'OPTIONS',
  'MESSAGE',
  'INFO',
  'NOTIFY',
  'SUBSCRIBE',
  'PUBLISH',
  'BYE',
  'UPDATE',
  'REFER',
  'PRACK',
];

/**
 * The engine on drachtio-srf and a drachtio-server: the server holds the SIP
 * sockets and transactions, we hold the decisions. The connection is ours
 * (outbound, to its admin port), or in inbound mode its own to us, one per
 * request; `local` is the SIP contact it announces.
 */
export class DrachtioEngine implements SipEngine {
  /**
   * Filled from drachtio-server's contacts at each connection (until then
   * sip.address/port). Updated in place: the pipeline and the call router
   * keep this object, not a copy.
   */
  readonly local: LocalAddress & { transports: readonly Transport[] };
  private readonly srf = new Srf();
  private readonly link: DrachtioLink;
  /** Proxy operations in flight, with the connection their request came on. */
  private readonly proxies = new Map<RunningProxy, unknown>();
  private outgoing = 0;
  private started = false;

  constructor(
    private readonly options: DrachtioEngineOptions,
    initialLocal: { address: string; port: number },
  ) {
    this.local = { address: initialLocal.address, port: initialLocal.port, transports: ['udp', 'tcp'] };
    const onEvent = (event: ConnectionEvent) => this.onConnectionEvent(event);
    this.link = options.listen
      ? new DrachtioListener(this.srf, { ...options.listen, secret: options.secret }, onEvent, (socket) =>
          this.endProxiesOn(socket),
        )
      : new DrachtioConnection(
          this.srf,
          {
            host: options.host,
            port: options.port,
            secret: options.secret,
            connectTimeoutMs: CONNECT_TIMEOUT_MS,
            retryMaxDelayMs: RETRY_MAX_DELAY_MS,
          },
          onEvent,
        );
  }

  async start(onRequest: RequestHandler, screen: RequestScreen = ADMIT_ALL): Promise<void> {
    const handle = (req: SrfInboundRequest, res: SrfResponse) => {
      try {
        const exchange = new DrachtioExchange(
          req,
          res,
          { now: () => performance.now(), track: (running) => this.track(running, req.socket) },
          this.options.retryAfterSeconds ?? DEFAULT_RETRY_AFTER_SECONDS,
        );
        const { request } = exchange;
        // drachtio-server parsed it already; a dropped request is left unanswered, its transaction to drachtio-server's timers.
        if (
          !screen.admitsSource(request.source.address) ||
          !screen.admits({ method: request.method, source: request.source, userAgent: request.header('user-agent') })
        ) {
          this.link.requestDone(req.socket);
          return;
        }
        onRequest(exchange)
          .catch((error: unknown) => this.options.onError(error))
          .finally(() => this.link.requestDone(req.socket));
      } catch (error) {
        this.options.onError(error);
      }
    };
    // One route per method: drachtio-server sends an app only the methods it asked for.
    for (const method of ROUTED_METHODS)
      this.srf.use(method.toLowerCase(), handle as unknown as Parameters<Srf['use']>[1]);
    const hostports = await this.link.open();
    this.started = true;
    this.adoptContacts(hostports);
  }

  request(request: OutgoingRequest, options: { timeoutMs: number }): Promise<RequestOutcome> {
    return sendOutgoing(
      {
        srf: this.srf,
        now: () => performance.now(),
        whenConnected: () => this.link.whenConnected(),
        connected: () => this.link.connected,
        sendOptions: () => this.link.outgoingOptions(),
        track: () => {
          this.outgoing++;
          return () => this.outgoing--;
        },
      },
      request,
      options,
    );
  }

  stats(): { clientTransactions: number; invitesInProgress: number } {
    return {
      clientTransactions: this.outgoing,
      invitesInProgress: [...this.proxies.keys()].filter((p) => p.invite).length,
    };
  }

  health(): EngineHealth {
    return this.link.health();
  }

  async stop(): Promise<void> {
    this.link.close();
    // Nothing more will come for the calls in flight: end them now.
    for (const proxy of [...this.proxies.keys()]) proxy.end('lost');
  }

  private track(running: RunningProxy, socket: unknown): () => void {
    this.proxies.set(running, socket);
    return () => this.proxies.delete(running);
  }

  /** drachtio-srf forgets the operations of a closed socket: their results will never come. */
  private endProxiesOn(socket: unknown): void {
    for (const [proxy, on] of [...this.proxies]) if (on === socket) proxy.end('lost');
  }

  private onConnectionEvent(event: ConnectionEvent): void {
    // Outbound mode: the one connection carried every call. (Inbound mode ends them per session.)
    if (event.kind === 'lost' && !this.options.listen) for (const proxy of [...this.proxies.keys()]) proxy.end('lost');
    if (event.kind === 'connected' || event.kind === 'session') this.adoptContacts(event.hostports);
    // Until start() has connected, its own result (or error) says it all.
    if (this.started) this.options.onConnection(event);
  }

  private adoptContacts(hostports: Parameters<typeof localContact>[0]): void {
    const contact = localContact(hostports, this.options.preferredAddress);
    if (!contact) return;
    this.local.address = contact.address;
    this.local.port = contact.port;
    this.local.tlsPort = contact.tlsPort;
    this.local.wsPort = contact.wsPort;
    this.local.wssPort = contact.wssPort;
    this.local.transports = contact.transports.length > 0 ? contact.transports : this.local.transports;
  }
}
