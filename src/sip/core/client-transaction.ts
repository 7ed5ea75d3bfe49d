import { TIMER_D_MS, TIMER_K_MS } from './timers.js';

/**
 * A client transaction's states and transitions (RFC 3261 §17.1: figure 5
 * for INVITE, figure 6 for the other methods; RFC 6026 adds Accepted, where
 * an INVITE that got its 2xx lets further 2xx through), as one pure step
 * function. The attempt (src/sip/native/client-attempt.ts) keeps the timers
 * and the sockets: it feeds the events in and does the step's effects.
 *
 * Completed, Accepted and Terminated are where the outcome is known. The
 * attempt then hands its branch to a light handler that lingers (timer D or
 * M for INVITE, K for the rest) and steps from the state it ended in, so
 * that what arrives late is still answered as below.
 */

export type InviteClientState = 'Calling' | 'Proceeding' | 'Completed' | 'Accepted' | 'Terminated';
export type NonInviteClientState = 'Trying' | 'Proceeding' | 'Completed' | 'Terminated';
export type ClientState = InviteClientState | NonInviteClientState;

/** The CANCEL of an INVITE (RFC 3261 §9.1): asked for before any provisional, it waits for one; it is sent once. */
export type CancelProgress = 'not-asked' | 'awaiting-provisional' | 'sent';

/** Everything the machine remembers. */
export interface ClientMachine {
  readonly invite: boolean;
  readonly state: ClientState;
  readonly cancel: CancelProgress;
}

export type ClientEvent =
  /** A response on the transaction's branch. */
  | { readonly kind: 'response'; readonly status: number }
  /** No response in time: timer B or F, or the shorter noResponseTimeoutMs and inviteTimeoutMs (engine.ts). */
  | { readonly kind: 'timeout' }
  /** The request could not be delivered (a refused connection, a failed TLS handshake: RFC 3261 §8.1.3.1). */
  | { readonly kind: 'transport-error' }
  /** The caller cancelled: the INVITE is to be CANCELled downstream. */
  | { readonly kind: 'cancel' }
  /** The request could not be sent at all: the transaction ends without an outcome. */
  | { readonly kind: 'abandon' };

export type ClientEffect =
  /** Pass the response upstream: a provisional above 100 (RFC 3261 §16.7 step 5), a 2xx after the outcome (§16.7). */
  | 'relay'
  /** ACK the non-2xx final, hop by hop (§17.1.1.3). */
  | 'ack'
  /** Send the CANCEL (§9.1). */
  | 'cancel'
  /** The outcome is known: tell the TU (the final, or a local 408 or 503), and let the branch linger. */
  | 'report'
  /** Forget the branch at once. */
  | 'forget';

export interface ClientStep {
  readonly to: ClientMachine;
  readonly effects: readonly ClientEffect[];
}

export class IllegalClientTransition extends Error {
  constructor(from: ClientMachine, event: ClientEvent['kind']) {
    super(
      `client transaction (${from.invite ? 'INVITE' : 'non-INVITE'}): no transition from ${from.state} on ${event}`,
    );
    this.name = 'IllegalClientTransition';
  }
}

export function initialClientMachine(invite: boolean): ClientMachine {
  return { invite, state: invite ? 'Calling' : 'Trying', cancel: 'not-asked' };
}

const INVITE_STATES: readonly ClientState[] = ['Calling', 'Proceeding', 'Completed', 'Accepted', 'Terminated'];
const NON_INVITE_STATES: readonly ClientState[] = ['Trying', 'Proceeding', 'Completed', 'Terminated'];

/** Whether the outcome is known: the request has its final, or will never have one from this transaction. */
export function outcomeKnown(state: ClientState): boolean {
  return state === 'Completed' || state === 'Accepted' || state === 'Terminated';
}

/** The one transition function. Throws on a state its method does not have, and on abandoning a transaction already under way. */
export function clientStep(from: ClientMachine, event: ClientEvent): ClientStep {
  if (!(from.invite ? INVITE_STATES : NON_INVITE_STATES).includes(from.state))
    throw new IllegalClientTransition(from, event.kind);
  const waiting = from.state === 'Calling' || from.state === 'Trying';
  switch (event.kind) {
    case 'response':
      return onResponse(from, event.status);
    case 'timeout':
      if (outcomeKnown(from.state)) return stay(from);
      // A ringing INVITE is CANCELled (RFC 3261 §16.8, timer C): its 487 comes to the lingering branch.
      return from.invite && from.state === 'Proceeding' && from.cancel !== 'sent'
        ? move(from, 'Terminated', ['cancel', 'report'], 'sent')
        : move(from, 'Terminated', ['report']);
    case 'transport-error':
      // Once a response came the request got through: a later connection error changes nothing.
      return waiting ? move(from, 'Terminated', ['report']) : stay(from);
    case 'cancel':
      if (!from.invite || outcomeKnown(from.state) || from.cancel === 'sent') return stay(from);
      // §9.1: no CANCEL before a provisional response; it goes when one comes.
      return waiting ? move(from, from.state, [], 'awaiting-provisional') : move(from, from.state, ['cancel'], 'sent');
    case 'abandon':
      if (!waiting) throw new IllegalClientTransition(from, event.kind);
      return move(from, 'Terminated', ['forget']);
  }
}

function onResponse(from: ClientMachine, status: number): ClientStep {
  if (outcomeKnown(from.state)) {
    // Late or retransmitted finals: an INVITE's non-2xx is ACKed again, a 2xx still goes upstream; the rest is absorbed.
    if (!from.invite || status < 200) return stay(from);
    return stay(from, status >= 300 ? ['ack'] : ['relay']);
  }
  if (status < 200) {
    const relay: ClientEffect[] = status > 100 ? ['relay'] : [];
    if (from.state === 'Proceeding') return stay(from, relay);
    return from.cancel === 'awaiting-provisional'
      ? move(from, 'Proceeding', ['cancel', ...relay], 'sent')
      : move(from, 'Proceeding', relay);
  }
  if (status < 300) return move(from, from.invite ? 'Accepted' : 'Completed', ['report']);
  return move(from, 'Completed', from.invite ? ['ack', 'report'] : ['report']);
}

/**
 * How long the branch lingers once the outcome is known: an INVITE's for
 * timer D and M (late 2xx, retransmitted non-2xx, the 487 to our CANCEL);
 * another request's for timer K over UDP, not at all over a reliable
 * transport, which retransmits nothing (§17.1.2.2).
 */
export function lingerMs(invite: boolean, reliable: boolean): number {
  if (invite) return TIMER_D_MS;
  return reliable ? 0 : TIMER_K_MS;
}

function stay(from: ClientMachine, effects: readonly ClientEffect[] = []): ClientStep {
  return { to: from, effects };
}

function move(
  from: ClientMachine,
  state: ClientState,
  effects: readonly ClientEffect[],
  cancel: CancelProgress = from.cancel,
): ClientStep {
  return { to: { invite: from.invite, state, cancel }, effects };
}
