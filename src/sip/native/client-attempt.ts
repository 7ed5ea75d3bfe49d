import type { Message } from 'sip';
import type { AttemptEnd, Endpoint, ProxyTarget } from '../engine.js';
import type { InboundResponse } from './inbound-response.js';
import { reasonPhrase } from '../core/reason-phrases.js';
import {
  type ClientEvent,
  type ClientMachine,
  type ClientState,
  clientStep,
  initialClientMachine,
  lingerMs,
} from '../core/client-transaction.js';
import { doubledUpToT2Ms, T1_MS, T2_MS, TIMER_B_MS, TIMER_F_MS, timerANextMs } from '../core/timers.js';
import { errorMessage } from '../../errors.js';

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

/** How an attempt ended, with the final response when one came (the fork decides what follows). */
export type AttemptOutcome = AttemptEnd & { response: InboundResponse | undefined };

/**
 * One client transaction of a proxied request toward one target (RFC 3261
 * §17.1), with the per-attempt timers of the failover policy: no response
 * at all within `noResponseTimeoutMs`, or (INVITE) no final response within
 * `inviteTimeoutMs` of the first provisional, ends it as a local 408.
 * Non-2xx finals are ACKed here (hop by hop); 2xx go upstream at once.
 *
 * Its state and transitions are src/sip/core/client-transaction.ts; this
 * class holds the timers, which belong to a state: retransmission (timer A
 * or E) and the first deadline to Calling/Trying, the INVITE's ringing
 * deadline to Proceeding, and each is cleared when its state is left.
 */
export class ClientAttempt {
  private readonly startedAt: number;
  private machine: ClientMachine;
  private retransmit: NodeJS.Timeout | undefined;
  private deadline: NodeJS.Timeout | undefined;
  private resolveEnd!: (outcome: AttemptOutcome) => void;
  readonly finished: Promise<AttemptOutcome>;

  constructor(
    private readonly request: AttemptRequest,
    private readonly branch: string,
    private readonly target: ProxyTarget,
    private readonly hooks: AttemptHooks,
    private readonly timers: AttemptTimers,
  ) {
    this.startedAt = hooks.now();
    this.machine = initialClientMachine(request.method === 'INVITE');
    this.finished = new Promise((resolve) => (this.resolveEnd = resolve));
  }

  /** Sends the request: the transaction is in Calling (INVITE) or Trying. */
  start(): void {
    this.hooks.register(this.branch, this.request.method, (response) =>
      this.step({ kind: 'response', status: response.status }, response),
    );
    // The state's timers first: a send that fails at once moves on from it, and clears them.
    if (this.target.destination.transport === 'udp') this.scheduleRetransmit(T1_MS);
    const giveUpMs = this.machine.invite ? TIMER_B_MS : TIMER_F_MS;
    this.deadline = setTimeout(
      () => this.step({ kind: 'timeout' }),
      Math.min(this.timers.noResponseTimeoutMs, giveUpMs),
    );
    this.transmit();
  }

  /** Stops the attempt for the caller's CANCEL: CANCEL downstream once it may be sent (after a provisional). */
  cancel(): void {
    this.step({ kind: 'cancel' });
  }

  /** Ends it without an outcome (`finished` never settles): the request could not be sent at all. */
  abandon(): void {
    this.step({ kind: 'abandon' });
  }

  private transmit(): void {
    this.hooks.sendText(this.request.text, this.target.destination, (error) =>
      this.step({ kind: 'transport-error' }, undefined, error),
    );
  }

  private scheduleRetransmit(intervalMs: number): void {
    this.retransmit = setTimeout(() => {
      // Timer A doubles without bound for INVITE; timer E caps at T2 for the rest. Rearmed first: a send that fails at once clears it.
      this.scheduleRetransmit(this.machine.invite ? timerANextMs(intervalMs) : doubledUpToT2Ms(intervalMs));
      this.transmit();
    }, intervalMs);
  }

  /** The one place the state changes: the step's new state, its timers, then its effects in order. */
  private step(event: ClientEvent, response?: InboundResponse, error?: unknown): void {
    const from = this.machine;
    const { to, effects } = clientStep(from, event);
    this.machine = to;
    if (to.state !== from.state) this.enter(to.state);
    for (const effect of effects) {
      switch (effect) {
        case 'relay':
          if (response) this.hooks.relay(response);
          break;
        case 'ack':
          if (response) this.sendHopRequest('ACK', response.message().headers.to);
          break;
        case 'cancel':
          this.sendCancel();
          break;
        case 'report':
          this.report(from.state === 'Proceeding', event, response, error);
          break;
        case 'forget':
          this.hooks.unregister(this.branch, this.request.method);
          break;
      }
    }
  }

  /** Timers belong to a state: those of the state left are cleared, the new state's armed. */
  private enter(state: ClientState): void {
    clearTimeout(this.retransmit);
    this.retransmit = undefined;
    clearTimeout(this.deadline);
    this.deadline = undefined;
    // A non-INVITE's timer F runs on through Proceeding (RFC 3261 §17.1.2.2): a provisional answers proxy.timeoutMs,
    // but a 100 and then silence still ends at 64·T1 from the start; over UDP the request goes again every T2 meanwhile.
    if (!this.machine.invite && state === 'Proceeding') {
      const left = Math.max(0, TIMER_F_MS - (this.hooks.now() - this.startedAt));
      this.deadline = setTimeout(() => this.step({ kind: 'timeout' }), left);
      if (this.target.destination.transport === 'udp') this.scheduleRetransmit(T2_MS);
      return;
    }
    // An INVITE's ringing is bounded by proxy.inviteTimeoutMs (timer C).
    if (state === 'Proceeding' && this.machine.invite)
      this.deadline = setTimeout(() => this.step({ kind: 'timeout' }), this.timers.inviteTimeoutMs);
  }

  private report(
    provisional: boolean,
    event: ClientEvent,
    response: InboundResponse | undefined,
    error: unknown,
  ): void {
    const reliable = this.target.destination.transport !== 'udp';
    this.hooks.linger(this.branch, this.request.method, this.afterOutcome(), lingerMs(this.machine.invite, reliable));
    this.resolveEnd({
      target: this.target,
      ...this.ending(event, response, error),
      provisional,
      durationMs: this.hooks.now() - this.startedAt,
      response,
    });
  }

  /** The status the outcome reports: the final received, or one made here (RFC 3261 §8.1.3.1, a transport error is a 503). */
  private ending(
    event: ClientEvent,
    response: InboundResponse | undefined,
    error: unknown,
  ): { status: number; reason: string; local: boolean } {
    if (event.kind === 'response' && response)
      return { status: response.status, reason: response.reason || reasonPhrase(response.status), local: false };
    if (event.kind === 'transport-error') {
      const { transport, address, port } = this.target.destination;
      const why = errorMessage(error);
      return {
        status: 503,
        reason: `Service Unavailable (${transport.toUpperCase()} to ${address}:${port} failed: ${why})`,
        local: true,
      };
    }
    return { status: 408, reason: 'Request Timeout (no answer from the gateway)', local: true };
  }

  /**
   * What answers on the branch once the outcome is known, stepping from the
   * state the attempt ended in (an INVITE's non-2xx is ACKed again, a 2xx,
   * retransmitted or late after a timeout, still goes upstream: RFC 3261
   * §16.7). Built from a few headers only, so the call's objects are not
   * held for the 32 s.
   */
  private afterOutcome(): (response: InboundResponse) => void {
    // A non-INVITE's late responses have no effect in any state after the outcome: nothing to hold.
    if (!this.machine.invite) return absorb;
    const { hooks, machine } = this;
    const destination = this.target.destination;
    const base = this.request.hop;
    return (response) => {
      for (const effect of clientStep(machine, { kind: 'response', status: response.status }).effects) {
        if (effect === 'ack') hooks.send(hopRequest(base, 'ACK', response.message().headers.to), destination);
        else if (effect === 'relay') hooks.relay(response);
      }
    };
  }

  /** RFC 3261 §9.1: same Request-URI, Call-ID, From, To, CSeq number and top Via as the INVITE. */
  private sendCancel(): void {
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
      interval = doubledUpToT2Ms(interval);
      timer = setTimeout(resend, interval);
    };
    timer = setTimeout(resend, interval);
    this.hooks.register(this.branch, 'CANCEL', stop);
    // Cleared once the CANCEL is answered, so nothing of the call waits out timer F.
    const giveUp = setTimeout(stop, TIMER_F_MS).unref();
  }

  /** A request of this transaction's own hop: ACK or CANCEL, sharing the INVITE's branch. */
  private sendHopRequest(method: 'ACK' | 'CANCEL', to: Message['headers']['to']): void {
    this.hooks.send(hopRequest(this.request.hop, method, to), this.target.destination);
  }
}
