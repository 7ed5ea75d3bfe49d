import type { Endpoint } from '../../sip/engine.js';
import { findParam, parseSipUri } from '../../sip/core/uri.js';
import { TIMER_F_MS } from '../../sip/core/timers.js';

/**
 * RFC 3261 §10.3 steps 6-8: how one REGISTER changes the bindings of an
 * address of record. Pure: the stored bindings, the request and the time in;
 * the new set (to be stored all at once) or the rejection out.
 */

export interface Binding {
  aor: string;
  contact: string;
  /** Epoch milliseconds. */
  expiresAt: number;
  callId: string;
  cseq: number;
  q: number;
  source: Endpoint;
  userAgent: string | undefined;
  /** The Contact's own parameters other than expires and q (`;+sip.instance="…"`), given back as registered (RFC 4475 §3.3.12). */
  contactParams: string;
  /** Epoch milliseconds of the REGISTER that made it; absent on bindings stored before it was kept. */
  registeredAt?: number;
  /**
   * The node that took the REGISTER (its ha.nodeAddress), when several
   * nodes are active at once: calls from the other nodes reach the phone
   * through it, as RFC 3327's Path would have them. Absent: any node sends
   * straight to `source`.
   */
  node?: string;
}

export interface ContactEntry {
  uri: string;
  /** Contact parameters other than expires and q, as text: `;name` or `;name=value` each. */
  params: string;
  /** The contact's own `expires` parameter, when it has one (NaN when malformed). */
  expires: number | undefined;
  q: number | undefined;
}

export interface RegisterRequest {
  aor: string;
  /** undefined: no Contact (a fetch); '*': remove all. */
  contacts: readonly ContactEntry[] | '*' | undefined;
  /** The Expires header (NaN when malformed, undefined when absent). */
  expiresHeader: number | undefined;
  callId: string;
  cseq: number;
  source: Binding['source'];
  userAgent: string | undefined;
  /** This node's ha.nodeAddress; '' when not set. */
  node: string;
}

export interface RegistrarLimits {
  defaultExpiresSeconds: number;
  minExpiresSeconds: number;
  maxExpiresSeconds: number;
  maxContacts: number;
  /** registrar.expiresJitter: each granted expiry is shortened by a random 0 to this many percent. */
  expiresJitterPercent: number;
}

export type RegisterResult =
  | { ok: true; bindings: Binding[]; changed: boolean }
  | { ok: false; status: number; reason: string; headers?: Record<string, string> };

const MAX_EXPIRES = 2 ** 32 - 1;
/** RFC 3261 §10.3 step 7: a malformed expiry is taken as 3600 s. */
const MALFORMED_EXPIRES = 3600;

/** §19.1.4, simplified to what tells two contacts of one phone apart: scheme, user, host, port, transport. */
export function sameContact(a: string, b: string): boolean {
  const left = parseSipUri(a);
  const right = parseSipUri(b);
  if (!left.ok || !right.ok) return a === b;
  const key = (uri: typeof left.uri) =>
    [
      uri.scheme,
      uri.user ?? '',
      uri.host.toLowerCase(),
      uri.port ?? '',
      (findParam(uri.params, 'transport')?.value ?? '').toLowerCase(),
    ].join('|');
  return key(left.uri) === key(right.uri);
}

function grantedSeconds(requested: number | undefined, limits: RegistrarLimits): number {
  if (requested === undefined) return limits.defaultExpiresSeconds;
  if (Number.isNaN(requested)) return MALFORMED_EXPIRES;
  return Math.min(requested, MAX_EXPIRES);
}

/**
 * Shortens a granted expiry by a random share of up to `percent` (Kamailio
 * expires_range, OpenSIPS expires_max_deviation): phones that all
 * registered at once after a failover (TCP ones must) then refresh spread
 * out instead of in one storm. Never below the minimum the phone was held to.
 */
function jittered(seconds: number, percent: number, minimum: number, random: () => number): number {
  if (percent === 0) return seconds;
  const shortened = seconds - Math.floor((seconds * percent * random()) / 100);
  return Math.max(shortened, Math.min(seconds, Math.max(minimum, 1)));
}

/** R7/R10: the same Call-ID must come with a higher CSeq, or the request is out of order. */
function outOfOrder(binding: Binding, request: RegisterRequest): boolean {
  return binding.callId === request.callId && request.cseq <= binding.cseq;
}

/**
 * How long a REGISTER with the Call-ID and CSeq of the one that made a
 * binding counts as its retransmission: a UAC retransmits a non-INVITE
 * request for 64*T1 = 32 s (RFC 3261 Timer F).
 */
const RETRANSMISSION_WINDOW_MS = TIMER_F_MS;

/**
 * The request is a retransmission of the REGISTER that made one of these
 * bindings (Kamailio usrloc cseq_delay). The transaction layer absorbs
 * retransmissions, but not on the node of a pair that took over: there it
 * gets the same answer again instead of 400 CSeq Out Of Order (or a stale
 * challenge for its used nonce count).
 */
export function isRetransmission(
  bindings: readonly Binding[],
  request: Pick<RegisterRequest, 'callId' | 'cseq'>,
  now: number,
): boolean {
  return bindings.some(
    (binding) =>
      binding.callId === request.callId &&
      binding.cseq === request.cseq &&
      binding.registeredAt !== undefined &&
      now - binding.registeredAt <= RETRANSMISSION_WINDOW_MS,
  );
}

const OUT_OF_ORDER = { ok: false, status: 400, reason: 'CSeq Out Of Order' } as const;

/** `random` draws from [0, 1) for registrar.expiresJitter. */
export function applyRegister(
  stored: readonly Binding[],
  request: RegisterRequest,
  limits: RegistrarLimits,
  now: number,
  random: () => number,
): RegisterResult {
  const live = stored.filter((binding) => binding.expiresAt > now);
  const changedByExpiry = live.length !== stored.length;
  const { contacts } = request;
  if (contacts === undefined || isRetransmission(live, request, now))
    return { ok: true, bindings: live, changed: changedByExpiry };

  if (contacts === '*') {
    // R6: `*` only with Expires: 0.
    if (request.expiresHeader !== 0) return { ok: false, status: 400, reason: 'Contact * Needs Expires: 0' };
    if (live.some((binding) => outOfOrder(binding, request))) return OUT_OF_ORDER;
    return { ok: true, bindings: [], changed: stored.length > 0 };
  }

  const next = [...live];
  for (const contact of contacts) {
    const seconds = grantedSeconds(contact.expires ?? request.expiresHeader, limits);
    // R9: 423 only below the minimum and below an hour; zero is a removal.
    if (seconds > 0 && seconds < limits.minExpiresSeconds && seconds < 3600) {
      return {
        ok: false,
        status: 423,
        reason: 'Interval Too Brief',
        headers: { 'Min-Expires': String(limits.minExpiresSeconds) },
      };
    }
    const granted = jittered(
      Math.min(seconds, limits.maxExpiresSeconds),
      limits.expiresJitterPercent,
      limits.minExpiresSeconds,
      random,
    );
    const index = next.findIndex((binding) => sameContact(binding.contact, contact.uri));
    const existing = index >= 0 ? next[index] : undefined;
    if (existing && outOfOrder(existing, request)) return OUT_OF_ORDER;
    if (existing) next.splice(index, 1);
    if (granted === 0) continue;
    next.push({
      aor: request.aor,
      contact: contact.uri,
      expiresAt: now + granted * 1000,
      callId: request.callId,
      cseq: request.cseq,
      q: contact.q ?? 1,
      source: request.source,
      userAgent: request.userAgent,
      contactParams: contact.params,
      registeredAt: now,
      ...(request.node === '' ? {} : { node: request.node }),
    });
  }
  if (next.length > limits.maxContacts) {
    return { ok: false, status: 403, reason: `Too Many Contacts (at most ${limits.maxContacts})` };
  }
  return { ok: true, bindings: next, changed: true };
}

/**
 * The bindings that live no longer than `flow`, the connection they were
 * registered over, once it closed (RFC 5626 §5.3: a flow's failure ends the
 * bindings on it): a WebSocket phone's (a browser cannot be connected to
 * again), and any that asked for outbound (a `reg-id` parameter). Other
 * bindings over TCP stay: the phone may be reached at its Contact.
 */
export function boundToFlow(bindings: readonly Binding[], flow: Endpoint): Binding[] {
  return bindings.filter(
    (binding) =>
      binding.source.transport === flow.transport &&
      binding.source.address === flow.address &&
      binding.source.port === flow.port &&
      (flow.transport === 'ws' || flow.transport === 'wss' || asksOutbound(binding)),
  );
}

/** A binding whose phone asked for outbound (RFC 5626: a `reg-id` Contact parameter). */
export function asksOutbound(binding: Binding): boolean {
  return /;reg-id=/i.test(binding.contactParams);
}

/** R14: the 200 lists every binding with what is left of its expiry, in whole seconds. */
export function contactHeaderValues(bindings: readonly Binding[], now: number): string[] {
  return bindings.map(
    (binding) =>
      `<${binding.contact}>${binding.contactParams};expires=${Math.max(0, Math.ceil((binding.expiresAt - now) / 1000))}`,
  );
}

/** Highest q first, then the newest registration (RFC 3261 §16.6 ordering of targets). */
export function byPreference(bindings: readonly Binding[]): Binding[] {
  return [...bindings].sort((a, b) => b.q - a.q || b.expiresAt - a.expiresAt);
}
