import type { EventEmitter } from 'node:events';
import type { Server, Socket } from 'node:net';
import type Srf from 'drachtio-srf';
import { DrouterError } from '../../errors.js';
import { listenFailureReason } from '../../listen-failure.js';
import type { EngineHealth } from '../engine.js';
import type { ConnectionEvent, DrachtioLink } from './connection.js';
import { type Hostport, parseHostports } from './core/hostports.js';
import { plural } from '../../core/plural.js';

export interface ListenerOptions {
  /** Where drachtio-server connects to us: its `<request-handler>` says tcp://address:port. */
  address: string;
  port: number;
  /** The secret we present to it (its `<admin secret>`). */
  secret: string;
}

/** drachtio-srf internals reached for: the sessions the agent holds (drachtio-agent.js `mapServer`). */
interface AgentInternals {
  _app?: { client?: { mapServer?: Map<Socket, unknown>; disconnect(socket: Socket): void } };
}

/**
 * Inbound mode (`sip.drachtio.listen.port`): drachtio-server, configured with
 * a `<request-handler>` of `tcp://address:port`, opens a connection to us for
 * each new request it routes (RequestHandler::startRequest,
 * ClientController::makeOutboundConnection); we authenticate on it with the
 * secret and it sends that one request down it.
 *
 * A session whose request has been answered (or proxied to the end) is
 * closed (srf.endSession), except one: the latest, kept open because our own
 * requests (the prober's OPTIONS) can only go out on a connection
 * drachtio-server opened. Until the first request after start there is none,
 * and probes wait (as they do while the outbound connection is down). When the
 * kept session closes without us, drachtio-server has gone ('lost'); the next
 * session it opens is its return ('connected').
 */
export class DrachtioListener implements DrachtioLink {
  private kept: Socket | undefined;
  private everKept = false;
  private closed = false;
  private lostCount = 0;
  private changedAt = new Date(0);
  private waiters: (() => void)[] = [];

  constructor(
    private readonly srf: Srf,
    private readonly options: ListenerOptions,
    private readonly onEvent: (event: ConnectionEvent) => void,
    private readonly onSessionClosed: (socket: unknown) => void,
  ) {}

  get server(): string {
    return `${this.options.address}:${this.options.port}`;
  }

  get connected(): boolean {
    return this.kept !== undefined;
  }

  whenConnected(): Promise<void> {
    if (this.kept || this.closed) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Starts listening; rejects with DROUTER_ERR_DRACHTIO when the address cannot be bound. No session is awaited. */
  async open(): Promise<Hostport[]> {
    const events = this.srf as unknown as EventEmitter;
    events.on('connect', (err: Error | null, hostport?: string) => {
      if (this.closed) return;
      if (err) {
        this.onEvent({
          kind: 'refused',
          reason: `it refused our secret (${err.message}): sip.drachtio.secret must be the secret of its <admin> element`,
        });
        return;
      }
      this.onEvent({ kind: 'session', hostports: parseHostports(hostport) });
    });
    events.on('close', (socket: Socket) => {
      this.onSessionClosed(socket);
      if (socket !== this.kept || this.closed) return;
      this.kept = undefined;
      this.lostCount++;
      this.changedAt = new Date();
      this.onEvent({ kind: 'lost', reason: 'its connection to us closed' });
    });
    // Socket errors of sessions end in 'close'; without a listener an 'error' event would throw.
    events.on('error', () => undefined);

    const server = (this.srf as unknown as { listen(opts: object): Server }).listen({
      host: this.options.address,
      port: this.options.port,
      secret: this.options.secret,
    });
    await new Promise<void>((resolve, reject) => {
      server.once('listening', () => resolve());
      server.once('error', (error: Error) => {
        reject(
          new DrouterError(
            'DROUTER_ERR_DRACHTIO',
            `cannot listen for drachtio-server on ${this.server}: ${listenFailureReason(error)}: change sip.drachtio.listen.address or .port (and its <request-handler>)`,
          ),
        );
      });
    });
    return [];
  }

  /**
   * The request that came on `socket` has its final answer: the session stays
   * open when we have no other to send our own requests on, else it is closed.
   */
  requestDone(socket: unknown): void {
    const session = socket as Socket;
    if (this.closed || session.destroyed || session === this.kept) return;
    if (!this.kept) {
      this.kept = session;
      this.changedAt = new Date();
      if (this.everKept) this.onEvent({ kind: 'connected', hostports: [], serverVersion: undefined });
      this.everKept = true;
      for (const wake of this.waiters.splice(0)) wake();
      return;
    }
    this.endSession(session);
  }

  /** srf.request's options for a request of ours: the kept session. */
  outgoingOptions(): object {
    return this.kept ? { _socket: this.kept } : {};
  }

  health(): EngineHealth {
    const since = this.changedAt.getTime() > 0 ? ` since ${this.changedAt.toISOString()}` : '';
    const count = `(${plural(this.lostCount, 'disconnection')} since start)`;
    if (this.kept) return { ok: true, detail: `drachtio-server connected to us on ${this.server}${since} ${count}` };
    // Before the first request nothing is known to be wrong: drachtio-server connects only when SIP arrives.
    if (!this.everKept)
      return { ok: true, detail: `listening on ${this.server} for drachtio-server; no request from it yet` };
    return {
      ok: false,
      detail: `listening on ${this.server}; drachtio-server's connection closed${since} and none came since ${count}`,
    };
  }

  close(): void {
    this.closed = true;
    this.kept = undefined;
    const agent = (this.srf as unknown as AgentInternals)._app?.client;
    for (const socket of [...(agent?.mapServer?.keys() ?? [])]) this.endSession(socket);
    try {
      (this.srf as unknown as { close(): void }).close();
    } catch {
      // Not listening (start failed): nothing to close.
    }
    for (const wake of this.waiters.splice(0)) wake();
  }

  private endSession(socket: Socket): void {
    try {
      (this.srf as unknown as AgentInternals)._app?.client?.disconnect(socket);
    } catch {
      // Already gone.
    }
  }
}
