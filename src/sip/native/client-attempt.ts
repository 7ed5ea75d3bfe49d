import type { Message } from 'sip';
import type { AttemptReport, Endpoint, ProxyTarget } from '../engine.js';
import type { InboundResponse } from './inbound-response.js';
import { reasonPhrase } from '../core/reason-phrases.js';

/** RFC 3261 §17.1.1.1 T1, and timer B/F (64·T1): the longest any attempt may live. */
const T1_MS = 500;
const T2_MS = 4000;
const TIMER_B_MS = 64 * T1_MS;
/** After an INVITE's final: timer D (RFC 3261), and timer M for late 2xx (RFC 6026), whatever the transport. */
const INVITE_LINGER_MS = 64 * T1_MS;
/** After another request's final: timer K, T4 over UDP; nothing is retransmitted over TCP. */
const T4_MS = 5000;

export interface AttemptHooks {
  send(message: Message, to: Endpoint): void;
  /** Sends a request already written; `onFailure` hears of a connection that could not be made (TCP, TLS) or a WebSocket phone no longer connected. */
  sendText(text: string, to: Endpoint, onFailure?: (error: unknown) => void): void;
  /** A response to relay upstream (without our Via). */
  relay(response: InboundResponse): void;
  /** Responses are matched on our branch and the CSeq method (a CANCEL shares the INVITE's branch). */
  register(branch: string, method: string, onResponse: (response: InboundResponse) => void): void;
  unregister(branch: string, method: string): void;
  /** Replaces the branch's handler with `onResponse` for `ms`, then forgets the branch. */
  linger(branch: string, method: string, onResponse: (response: InboundResponse) => void, ms: number): void;
  now(): number;
}

/** What a hop-by-hop ACK or CANCEL needs of the INVITE (RFC 3261 §9.1, §17.1.1.3): a few headers, not the whole call. */
export type HopBase = Pick<Message, 'uri'> & {
  headers: Pick<Message['headers'], 'via' | 'from' | 'to' | 'call-id' | 'cseq' | 'route'>;
};

/** The request of an attempt: its text as sent (and retransmitted), and what its ACK and CANCEL copy. */
export interface AttemptRequest {
  method: string;
  text: string;
  hop: HopBase;
}

function hopRequest(base: HopBase, method: 'ACK' | 'CANCEL', to: Message['headers']['to']): Message {
  const { headers } = base;
  return {
    method,
    uri: base.uri,
    version: '2.0',
    headers: {
      via: headers.via?.slice(0, 1),
      'max-forwards': '70',
      from: headers.from,
      to,
      'call-id': headers['call-id'],
      cseq: { seq: headers.cseq?.seq ?? 0, method },
      ...(headers.route ? { route: headers.route } : {}),
    },
  };
}

const absorb = (): void => undefined;

export interface AttemptTimers {
  noResponseTimeoutMs: number;
  inviteTimeoutMs: number;
}

/**
 * One client transaction of a proxied request toward one target (RFC 3261
 * §17.1), with the per-attempt timers of the failover policy: no response
 * at all within `noResponseTimeoutMs`, or (INVITE) no final response within
 * `inviteTimeoutMs` of the first provisional, ends it as a local 408.
 * Non-2xx finals are ACKed here (hop by hop); 2xx go upstream at once.
 */
export class ClientAttempt {
  private readonly startedAt: number;
  private provisional = false;
  private ended = false;
  private cancelWanted = false;
  private cancelSent = false;
  private retransmit: NodeJS.Timeout | undefined;
  private deadline: NodeJS.Timeout | undefined;
  private resolveEnd!: (report: AttemptReport & { response: InboundResponse | undefined }) => void;
  readonly finished: Promise<AttemptReport & { response: InboundResponse | undefined }>;

  constructor(
    private readonly request: AttemptRequest,
    private readonly branch: string,
    private readonly target: ProxyTarget,
    private readonly hooks: AttemptHooks,
    private readonly timers: AttemptTimers,
  ) {
    this.startedAt = hooks.now();
    this.finished = new Promise((resolve) => (this.resolveEnd = resolve));
  }

  private get isInvite(): boolean {
    return this.request.method === 'INVITE';
  }

  start(): void {
    this.hooks.register(this.branch, this.request.method, (response) => this.onResponse(response));
    this.transmit();
    if (this.target.destination.transport === 'udp') this.scheduleRetransmit(T1_MS);
    this.deadline = setTimeout(() => this.timeOut(), Math.min(this.timers.noResponseTimeoutMs, TIMER_B_MS));
  }

  /** Stops the attempt for the caller's CANCEL: CANCEL downstream once it may be sent (after a provisional). */
  cancel(): void {
    this.cancelWanted = true;
    if (this.provisional) this.sendCancel();
  }

  /** Ends it without an outcome (`finished` never settles): the request could not be sent at all. */
  abandon(): void {
    this.ended = true;
    clearTimeout(this.retransmit);
    clearTimeout(this.deadline);
    this.hooks.unregister(this.branch, this.request.method);
  }

  private transmit(): void {
    this.hooks.sendText(this.request.text, this.target.destination, (error) => this.unreachable(error));
  }

  /** RFC 3261 §8.1.3.1: a transport error is a 503 at once, not a wait for the timer (a refused connection, a failed TLS handshake). */
  private unreachable(error: unknown): void {
    if (this.ended || this.provisional) return;
    clearTimeout(this.retransmit);
    const { transport, address, port } = this.target.destination;
    this.end(
      503,
      `Service Unavailable (${transport.toUpperCase()} to ${address}:${port} failed: ${error instanceof Error ? error.message : String(error)})`,
      true,
      undefined,
    );
  }

  private scheduleRetransmit(intervalMs: number): void {
    this.retransmit = setTimeout(() => {
      this.transmit();
      // Timer A doubles without bound for INVITE; timer E caps at T2 for the rest.
      this.scheduleRetransmit(this.isInvite ? intervalMs * 2 : Math.min(intervalMs * 2, T2_MS));
    }, intervalMs);
  }

  private onResponse(response: InboundResponse): void {
    const { status } = response;
    if (this.ended) {
      // A retransmitted final: ACK a non-2xx again; a late 2xx is the caller's to ACK end to end.
      if (this.isInvite && status >= 300) this.sendAck(response);
      else if (status >= 200 && status < 300) this.hooks.relay(response);
      return;
    }
    clearTimeout(this.retransmit);
    if (status < 200) {
      if (!this.provisional) {
        this.provisional = true;
        clearTimeout(this.deadline);
        if (this.isInvite) this.deadline = setTimeout(() => this.timeOut(), this.timers.inviteTimeoutMs);
        if (this.cancelWanted) this.sendCancel();
      }
      if (status > 100) this.hooks.relay(response);
      return;
    }
    if (this.isInvite && status >= 300) this.sendAck(response);
    this.end(status, response.reason || reasonPhrase(status), false, response);
  }

  private timeOut(): void {
    if (this.ended) return;
    clearTimeout(this.retransmit);
    if (this.isInvite && this.provisional) this.sendCancel();
    this.end(408, 'Request Timeout (no answer from the gateway)', true, undefined);
  }

  private end(status: number, reason: string, local: boolean, response: InboundResponse | undefined): void {
    this.ended = true;
    clearTimeout(this.deadline);
    const lingerMs = this.isInvite ? INVITE_LINGER_MS : this.target.destination.transport === 'udp' ? T4_MS : 0;
    this.hooks.linger(this.branch, this.request.method, this.afterEnd(), lingerMs);
    this.resolveEnd({
      target: this.target,
      status,
      reason,
      local,
      provisional: this.provisional,
      durationMs: this.hooks.now() - this.startedAt,
      response,
    });
  }

  /**
   * What answers retransmitted finals after the end: an INVITE's non-2xx is
   * ACKed again, a 2xx (retransmitted, or late after a timeout) still goes
   * upstream (RFC 3261 §16.7); another request's are absorbed. Built from a
   * few headers only, so the call's objects are not held for the 32 s.
   */
  private afterEnd(): (response: InboundResponse) => void {
    if (!this.isInvite) return absorb;
    const { hooks } = this;
    const destination = this.target.destination;
    const base = this.request.hop;
    return (response) => {
      const { status } = response;
      if (status >= 300) hooks.send(hopRequest(base, 'ACK', response.message().headers.to), destination);
      else if (status >= 200) hooks.relay(response);
    };
  }

  /** RFC 3261 §17.1.1.3: the ACK of a non-2xx takes the INVITE's top Via and the response's To. */
  private sendAck(response: InboundResponse): void {
    this.sendHopRequest('ACK', response.message().headers.to);
  }

  /** RFC 3261 §9.1: same Request-URI, Call-ID, From, To, CSeq number and top Via as the INVITE. */
  private sendCancel(): void {
    if (this.cancelSent || !this.isInvite) return;
    this.cancelSent = true;
    this.sendHopRequest('CANCEL', this.request.hop.headers.to);
    if (this.target.destination.transport !== 'udp') return;
    // The CANCEL is a non-INVITE transaction of its own (RFC 3261 §9.1): timer E
    // retransmissions until any response to it, for at most timer F.
    let interval = T1_MS;
    let timer: NodeJS.Timeout | undefined;
    const stop = () => {
      clearTimeout(timer);
      clearTimeout(giveUp);
      this.hooks.unregister(this.branch, 'CANCEL');
    };
    const resend = () => {
      this.sendHopRequest('CANCEL', this.request.hop.headers.to);
      interval = Math.min(interval * 2, T2_MS);
      timer = setTimeout(resend, interval);
    };
    timer = setTimeout(resend, interval);
    this.hooks.register(this.branch, 'CANCEL', stop);
    // Cleared once the CANCEL is answered, so nothing of the call waits out timer F.
    const giveUp = setTimeout(stop, TIMER_B_MS).unref();
  }

  /** A request of this transaction's own hop: ACK or CANCEL, sharing the INVITE's branch. */
  private sendHopRequest(method: 'ACK' | 'CANCEL', to: Message['headers']['to']): void {
    this.hooks.send(hopRequest(this.request.hop, method, to), this.target.destination);
  }
}
