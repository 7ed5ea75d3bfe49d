import { TIMER_H_MS, TIMER_I_MS, TIMER_J_MS, TIMER_L_MS } from './timers.js';

/**
 * A server transaction's states and transitions (RFC 3261 §17.2: figure 7
 * for INVITE, figure 8 for the other methods; RFC 6026 adds Accepted, where
 * an INVITE answered 2xx absorbs its retransmissions and lets further 2xx
 * through), as one pure step function. The transactions
 * (src/sip/native/server-transactions.ts) keep the timers and the link.
 */

export type InviteServerState = 'Proceeding' | 'Completed' | 'Confirmed' | 'Accepted' | 'Terminated';
export type NonInviteServerState = 'Trying' | 'Proceeding' | 'Completed' | 'Terminated';
export type ServerState = InviteServerState | NonInviteServerState;

export type ServerEvent =
  /** The TU sends a response (a proxy's relayed one included). */
  | { readonly kind: 'response'; readonly status: number }
  /** The request again: a retransmission. */
  | { readonly kind: 'request' }
  /** An ACK matching the INVITE. */
  | { readonly kind: 'ack' }
  /** The state's timer ran out: H, I, J or L. */
  | { readonly kind: 'timer' };

export type ServerEffect =
  /** Pass the TU's response to the transport. */
  | 'send'
  /** Keep it as the response a retransmitted request gets. */
  | 'keep'
  /** Forget the kept response: nothing is sent again from here on. */
  | 'drop'
  /** Send the kept response again, if there is one. */
  | 'resend'
  /** The ACK is not this transaction's: it acknowledges the 2xx (RFC 6026), a transaction of its own. */
  | 'not-ours';

export interface ServerStep {
  readonly to: ServerState;
  readonly effects: readonly ServerEffect[];
}

export class IllegalServerTransition extends Error {
  constructor(invite: boolean, from: ServerState, event: ServerEvent['kind']) {
    super(`server transaction (${invite ? 'INVITE' : 'non-INVITE'}): no transition from ${from} on ${event}`);
    this.name = 'IllegalServerTransition';
  }
}

/** RFC 3261 §17.2.1: an INVITE's server transaction starts in Proceeding; §17.2.2: another's in Trying. */
export function initialServerState(invite: boolean): ServerState {
  return invite ? 'Proceeding' : 'Trying';
}

const INVITE_STATES: readonly ServerState[] = ['Proceeding', 'Completed', 'Confirmed', 'Accepted', 'Terminated'];
const NON_INVITE_STATES: readonly ServerState[] = ['Trying', 'Proceeding', 'Completed', 'Terminated'];

/**
 * The one transition function. Throws on a state the method does not have,
 * on a timer where no state timer runs (Trying, Proceeding), and on a
 * request or ACK reaching a Terminated transaction, which is no longer
 * found.
 */
export function serverStep(invite: boolean, from: ServerState, event: ServerEvent): ServerStep {
  if (!(invite ? INVITE_STATES : NON_INVITE_STATES).includes(from))
    throw new IllegalServerTransition(invite, from, event.kind);
  switch (event.kind) {
    case 'response':
      return invite ? inviteResponse(from, event.status) : nonInviteResponse(from, event.status);
    case 'request':
      if (from === 'Terminated') throw new IllegalServerTransition(invite, from, event.kind);
      // Trying: nothing sent yet (§17.2.2); Confirmed and Accepted: absorbed without an answer.
      return { to: from, effects: from === 'Proceeding' || from === 'Completed' ? ['resend'] : [] };
    case 'ack':
      if (from === 'Terminated') throw new IllegalServerTransition(invite, from, event.kind);
      if (!invite) return { to: from, effects: [] };
      if (from === 'Completed') return { to: 'Confirmed', effects: ['drop'] };
      return { to: from, effects: from === 'Accepted' ? ['not-ours'] : [] };
    case 'timer':
      if (from === 'Trying' || from === 'Proceeding') throw new IllegalServerTransition(invite, from, event.kind);
      // A timer of a state already left (timer H after the ACK) ends it all the same, or finds it ended.
      return { to: 'Terminated', effects: [] };
  }
}

function inviteResponse(from: ServerState, status: number): ServerStep {
  if (from === 'Confirmed' || from === 'Accepted' || from === 'Terminated') return { to: from, effects: ['send'] };
  // Proceeding, or Completed when a 2xx follows a non-2xx (a proxy forwards every 2xx, RFC 3261 §16.7 step 10).
  if (status >= 200 && status < 300) return { to: 'Accepted', effects: ['send', 'drop'] };
  // After a non-2xx final nothing else but a 2xx goes upstream (§16.7 step 5): a gateway's 180 arriving after the
  // caller's CANCEL was answered 487 would follow the 487 and take its place as what timer G resends.
  if (from === 'Completed') return { to: from, effects: [] };
  if (status < 200) return { to: from, effects: ['send', 'keep'] };
  return { to: 'Completed', effects: ['send', 'keep'] };
}

function nonInviteResponse(from: ServerState, status: number): ServerStep {
  if (from === 'Completed' || from === 'Terminated') return { to: from, effects: ['send'] };
  return { to: status < 200 ? 'Proceeding' : 'Completed', effects: ['send', 'keep'] };
}

/**
 * How long a transaction stays in `state` before its timer ends it: timer H
 * (INVITE Completed), I (Confirmed), J (non-INVITE Completed), L (Accepted).
 * Over a reliable transport nothing is retransmitted to absorb, so I and J
 * are 0 (§17.2.1, §17.2.2); undefined where no timer runs.
 */
export function serverTimerMs(invite: boolean, state: ServerState, reliable: boolean): number | undefined {
  switch (state) {
    case 'Completed':
      if (invite) return TIMER_H_MS;
      return reliable ? 0 : TIMER_J_MS;
    case 'Confirmed':
      return reliable ? 0 : TIMER_I_MS;
    case 'Accepted':
      return TIMER_L_MS;
    default:
      return undefined;
  }
}

/** Timer G (§17.2.1): an INVITE's non-2xx final is retransmitted over an unreliable transport, from T1. */
export function retransmitsFinal(invite: boolean, state: ServerState, reliable: boolean): boolean {
  return invite && state === 'Completed' && !reliable;
}
