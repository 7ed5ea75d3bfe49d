import type { DropReason } from '../defence/source-guard-service.js';
import type { GatewayState } from '../routing/core/routing-table.js';

/**
 * The values the metrics' labels take. Labels are closed sets or gateway
 * ids: never a phone number, a caller or a URI.
 */

export type GatewayStateName = GatewayState;

// The compiler checks this object has exactly one key per state, so a new state cannot miss its series.
export const GATEWAY_STATES = Object.keys({ active: 0, 'probing-disabled': 0, 'admin-disabled': 0 } satisfies Record<
  GatewayStateName,
  0
>) as GatewayStateName[];

export const PROBE_FAILURE_REASONS = ['timeout', 'negative-reply', 'send-failed'] as const;
export type ProbeFailureReason = (typeof PROBE_FAILURE_REASONS)[number];

export const ROUTING_OUTCOMES = ['routed', 'no-rule', 'no-gateway', 'registered', 'offline'] as const;
export type RoutingOutcome = (typeof ROUTING_OUTCOMES)[number];

export const DROUTING_TABLES = ['dr_gateways', 'dr_rules', 'dr_carriers', 'dr_groups', 'dr_gw_lists'] as const;

export const REGISTRATION_RESULTS = ['registered', 'refreshed', 'unregistered', 'challenged', 'failed'] as const;
export type RegistrationResult = (typeof REGISTRATION_RESULTS)[number];

export const RELOAD_RESULTS = ['ok', 'failed'] as const;
export type ReloadResult = (typeof RELOAD_RESULTS)[number];

export const HANDOFF_KINDS = ['request', 'response', 'tcp-send'] as const;
/** What a worker handed to another (--workers N): a request or response it owns, or a send over a TCP connection it holds. */
export type HandoffKind = (typeof HANDOFF_KINDS)[number];

export const TCP_CAPS = ['total', 'per-source'] as const;
/** Which cap of sip.tcp turned an accepted TCP connection away. */
export type TcpCap = (typeof TCP_CAPS)[number];

export const TCP_CLOSE_REASONS = ['idle', 'message-timeout', 'oversized'] as const;
/** Why we closed a TCP connection: idle past sip.tcp.idleTimeoutMs, a message not whole within messageTimeoutMs, a head or body over its cap. */
export type TcpCloseReason = (typeof TCP_CLOSE_REASONS)[number];

export const DROP_REASONS = ['banned', 'rate-limited', 'scanner'] as const satisfies readonly DropReason[];
export const SHED_METHODS = ['INVITE', 'REGISTER'] as const;

export const SIP_METHODS = [
  'INVITE',
  'ACK',
  'BYE',
  'CANCEL',
  'REGISTER',
  'OPTIONS',
  'INFO',
  'UPDATE',
  'REFER',
  'NOTIFY',
  'PRACK',
  'MESSAGE',
  'SUBSCRIBE',
  'PUBLISH',
] as const;
const KNOWN_METHODS = new Set<string>(SIP_METHODS);
export const OTHER = 'other';

/** Any method we do not know shares one label value, so a peer cannot grow the series without bound. */
export function methodLabel(method: string): string {
  // RFC 3261 §7.1: the method token is case-sensitive, so 'invite' is not INVITE.
  return KNOWN_METHODS.has(method) ? method : OTHER;
}

export function codeLabel(status: number): string {
  // RFC 3261 §7.2: a status code is three digits whose first, 1 to 6, is its class.
  return Number.isInteger(status) && status >= 100 && status <= 699 ? String(status) : OTHER;
}
