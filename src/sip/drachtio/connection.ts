import type { EventEmitter } from 'node:events';
import type Srf from 'drachtio-srf';
import { DrouterError } from '../../errors.js';
import { plural } from '../../core/plural.js';
import type { EngineHealth } from '../engine.js';
import { type Hostport, parseHostports } from './core/hostports.js';

export interface ConnectionOptions {
  host: string;
  port: number;
  secret: string;
  /** The first connection (start-up) fails after this long without an answer. */
  connectTimeoutMs: number;
  /** Reconnection attempts back off (×1.7 from 150 ms, drachtio-srf's curve) up to this delay. */
  retryMaxDelayMs: number;
}

/**
 * What happens to the link after start, for the log, the metrics and /health.
 * `session` is inbound mode's: drachtio-server opened a connection to us for a request.
 */
export type ConnectionEvent =
  | { kind: 'connected'; hostports: Hostport[]; serverVersion: string | undefined }
  | { kind: 'lost'; reason: string }
  | { kind: 'reconnecting'; delayMs: number; attempt: number }
  | { kind: 'refused'; reason: string }
  | { kind: 'session'; hostports: Hostport[] };

/**
 * The engine's link to drachtio-server: our connection to its admin port
 * (DrachtioConnection), or its connections to us (DrachtioListener, inbound mode).
 */
export interface DrachtioLink {
  /** Set up at start; resolves with drachtio-server's SIP contacts when they are known by then. */
  open(): Promise<Hostport[]>;
  close(): void;
  readonly connected: boolean;
  /** Resolves once requests of our own can go out (at once if now), or when the link is closed for good. */
  whenConnected(): Promise<void>;
  /** What srf.request needs besides the request to send one of ours. */
  outgoingOptions(): object;
  /** A request that came on `socket` has its final answer or its proxying ended. */
  requestDone(socket: unknown): void;
  health(): EngineHealth;
}

/** drachtio-srf internals reached for: the wire protocol's pending reconnection (see `close`). */
interface WireInternals {
  _app?: { client?: { wp?: { closing?: boolean; reconnectVars?: { retryTimer?: NodeJS.Timeout | null } } } };
}

/**
 * The outbound connection to drachtio-server (its `<admin>` port): the first
 * connection is awaited at start and fails with a message naming what to
 * fix; after that, drachtio-srf's wire protocol reconnects by itself (with
 * back-off) and this class keeps the state /health reports.
 */
export class DrachtioConnection implements DrachtioLink {
  private connectedNow = false;
  private closed = false;
  private lostCount = 0;
  private changedAt = new Date(0);
  private lastProblem: string | undefined;
  private waiters: (() => void)[] = [];

  constructor(
    private readonly srf: Srf,
    private readonly options: ConnectionOptions,
    private readonly onEvent: (event: ConnectionEvent) => void,
  ) {}

  get server(): string {
    return `${this.options.host}:${this.options.port}`;
  }

  get connected(): boolean {
    return this.connectedNow;
  }

  /** Resolves once connected (at once if connected now), or when the connection is closed for good. */
  whenConnected(): Promise<void> {
    if (this.connectedNow || this.closed) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /**
   * Connects and authenticates; resolves with the SIP contacts drachtio-server
   * listens on. A refused or unanswered connection, or a wrong secret, rejects
   * with DROUTER_ERR_DRACHTIO and nothing keeps retrying.
   */
  async open(): Promise<Hostport[]> {
    const events = this.srf as unknown as EventEmitter;
    let settle: ((outcome: { hostports: Hostport[] } | { error: DrouterError }) => void) | undefined;
    const first = new Promise<Hostport[]>((resolve, reject) => {
      const timer = setTimeout(() => {
        settle?.({
          error: this.failure(
            `no answer within ${this.options.connectTimeoutMs} ms (is drachtio-server running there, with <admin port="${this.options.port}">?)`,
          ),
        });
      }, this.options.connectTimeoutMs);
      settle = (outcome) => {
        settle = undefined;
        clearTimeout(timer);
        if ('error' in outcome) reject(outcome.error);
        else resolve(outcome.hostports);
      };
    });
    events.on('connect', (err: Error | null, hostport?: string, serverVersion?: string) => {
      if (err) {
        const reason = `it refused the secret (${err.message}): sip.drachtio.secret must be the secret of its <admin> element`;
        this.lastProblem = reason;
        settle?.({ error: this.failure(reason) });
        if (!this.closed) this.onEvent({ kind: 'refused', reason });
        return;
      }
      if (this.closed) {
        // A reconnection scheduled before close() got through: drop it at once.
        this.disconnectQuietly();
        return;
      }
      const hostports = parseHostports(hostport);
      this.setConnected(true);
      settle?.({ hostports });
      this.onEvent({ kind: 'connected', hostports, serverVersion });
    });
    // Every socket error arrives here too; without a listener an 'error' event would throw.
    events.on('error', (err: Error & { code?: string }) => {
      const reason = err.code === 'ECONNREFUSED' ? 'connection refused' : err.message;
      this.lastProblem = reason;
      settle?.({
        error: this.failure(
          `${reason} (check sip.drachtio.host and sip.drachtio.port, and that drachtio-server runs with <admin port="${this.options.port}">)`,
        ),
      });
    });
    events.on('close', () => {
      if (!this.connectedNow) return;
      this.lostCount++;
      this.setConnected(false);
      this.onEvent({ kind: 'lost', reason: this.lastProblem ?? 'the connection closed' });
    });
    events.on('reconnecting', (info: { delay: number; attempt: number }) => {
      if (!this.closed) this.onEvent({ kind: 'reconnecting', delayMs: info.delay, attempt: info.attempt });
    });

    // Not a Promise whatever its typings say (drachtio-srf returns its app): the outcome comes as the events above.
    void this.srf.connect({
      host: this.options.host,
      port: this.options.port,
      secret: this.options.secret,
      // drachtio-srf reads `reconnect` (not in its typings); without retryMaxDelay the delay grows without bound.
      ...({ reconnect: { retryMaxDelay: this.options.retryMaxDelayMs } } as object),
    });
    try {
      return await first;
    } catch (error) {
      this.close();
      throw error;
    }
  }

  outgoingOptions(): object {
    return {};
  }

  /** One connection carries every request: nothing to do. */
  requestDone(): void {}

  health(): EngineHealth {
    const since = this.changedAt.getTime() > 0 ? ` since ${this.changedAt.toISOString()}` : '';
    if (this.connectedNow)
      return {
        ok: true,
        detail: `connected to drachtio-server ${this.server}${since} (${plural(this.lostCount, 'disconnection')} since start)`,
      };
    const problem = this.lastProblem ? `: ${this.lastProblem}` : '';
    return {
      ok: false,
      detail: `not connected to drachtio-server ${this.server}${since}${problem}; reconnecting (${plural(this.lostCount, 'disconnection')} since start)`,
    };
  }

  /** Disconnects for good: no reconnection after this. */
  close(): void {
    this.closed = true;
    this.setConnected(false);
    // drachtio-srf's disconnect() neither cancels a pending reconnection nor works without a socket.
    const wp = (this.srf as unknown as WireInternals)._app?.client?.wp;
    if (wp) {
      wp.closing = true;
      if (wp.reconnectVars?.retryTimer) clearTimeout(wp.reconnectVars.retryTimer);
      if (wp.reconnectVars) wp.reconnectVars.retryTimer = null;
    }
    this.disconnectQuietly();
    for (const wake of this.waiters.splice(0)) wake();
  }

  private disconnectQuietly(): void {
    try {
      this.srf.disconnect();
    } catch {
      // No socket right now: nothing to disconnect.
    }
  }

  private setConnected(connected: boolean): void {
    if (this.connectedNow === connected) return;
    this.connectedNow = connected;
    this.changedAt = new Date();
    if (connected) {
      this.lastProblem = undefined;
      for (const wake of this.waiters.splice(0)) wake();
    }
  }

  private failure(reason: string): DrouterError {
    return new DrouterError('DROUTER_ERR_DRACHTIO', `cannot connect to drachtio-server at ${this.server}: ${reason}`);
  }
}
