import type { AuthenticationFailure } from '../../registrar/authentication-service.js';
import type { Endpoint, SipRequest } from '../../sip/engine.js';

/**
 * The security lines as Asterisk writes them to its `messages` log, so that
 * the tools made for that log read ours unchanged: Debian fail2ban's stock
 * `asterisk` filter (its failregex and `{^LN-BEG}` datepattern; tested with
 * fail2ban-regex), and people who know Asterisk. Pure: the time and the
 * process id are arguments.
 *
 * - A refused REGISTER: chan_sip's NOTICE (handle_request_register), with
 *   its reasons.
 * - A refused call or in-dialog request: res_pjsip's NOTICE
 *   (pjsip_distributor.c log_failed_request). chan_sip's own line for a
 *   call that failed authentication, `Failed to authenticate device <From>`,
 *   names no address, so fail2ban cannot use it; res_pjsip's names the
 *   method, the source and the Call-ID.
 * - Our own bans and scanners: the same prefix, our wording, read by
 *   config/fail2ban/filter.d/sip-drouter.conf and by no stock filter.
 */

/** One message of the log: the source file Asterisk names (ours, for our own lines) and the text. */
export interface AsteriskMessage {
  file: string;
  text: string;
}

/** What a line says of a refused request. */
export type RefusedRequest = Pick<SipRequest, 'method' | 'callId' | 'from' | 'to' | 'source'>;

/**
 * res_pjsip's words for our refusals. The stock filter counts these three;
 * a replayed nonce count keeps its own words, so fail2ban does not count it:
 * the phone gets a fresh challenge (stale=true) and goes on, and a phone
 * that reuses its counts would otherwise be banned for it.
 */
const PJSIP_REASONS: Readonly<Record<AuthenticationFailure, string>> = {
  'Wrong password': 'Failed to authenticate',
  'Username/auth name mismatch': 'Failed to authenticate',
  'No matching peer found': 'No matching endpoint found',
  'Peer is not supposed to register': 'No matching endpoint found',
  'Peer is not supposed to place calls': 'No matching endpoint found',
  'Device does not match ACL': 'Not match Endpoint ACL',
  'Nonce count replayed': 'Nonce count replayed',
};

/** A request without a valid dialog token failed the authentication of requests inside a dialog. */
const IN_DIALOG_REASON = 'Failed to authenticate';

/** Longest value taken from a request into a line; the rest is cut (a line per failure must stay small). */
const MAX_VALUE_LENGTH = 256;

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

const two = (n: number) => String(n).padStart(2, '0');

/** Asterisk's default logger.conf dateformat, `%b %e %T`, in local time as Asterisk writes it: `Dec  5 21:50:01`. */
export function asteriskDate(at: Date): string {
  return `${MONTHS[at.getMonth()]} ${String(at.getDate()).padStart(2, ' ')} ${two(at.getHours())}:${two(at.getMinutes())}:${two(at.getSeconds())}`;
}

/** A whole line: `[Dec  5 21:50:01] NOTICE[12345] chan_sip.c: Registration from …`. */
export function asteriskLine(at: Date, pid: number, message: AsteriskMessage): string {
  return `[${asteriskDate(at)}] NOTICE[${pid}] ${message.file}: ${message.text}`;
}

/**
 * A value from the request as it may stand inside a line's quotes or
 * parentheses: control characters (a forged second line) and the quotes and
 * parentheses that end a field (a forged address for fail2ban to ban) are
 * percent-encoded; at most MAX_VALUE_LENGTH characters are kept.
 */
export function quotable(value: string): string {
  // eslint-disable-next-line no-control-regex -- the control characters are what it must find, to encode them
  return percentEncoded(cut(value), /[\x00-\x1f\x7f'"()\\]/g);
}

/** Free text at the end of a line: only control characters are encoded. */
function printable(value: string): string {
  // eslint-disable-next-line no-control-regex -- the control characters are what it must find, to encode them
  return percentEncoded(cut(value), /[\x00-\x1f\x7f]/g);
}

function cut(value: string): string {
  return value.length > MAX_VALUE_LENGTH ? `${value.slice(0, MAX_VALUE_LENGTH)}...` : value;
}

function percentEncoded(value: string, characters: RegExp): string {
  return value.replace(characters, (char) => `%${char.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
}

/** `address:port` as Asterisk's ast_sockaddr_stringify writes it: an IPv6 address in brackets. */
export function hostPort(source: Endpoint): string {
  return source.address.includes(':') ? `[${source.address}]:${source.port}` : `${source.address}:${source.port}`;
}

/** chan_sip: `Registration from '<sip:1001@host>' failed for '192.0.2.7:5060' - Wrong password` (the To, as chan_sip prints its header). */
export function registrationFailed(request: Pick<RefusedRequest, 'to' | 'source'>, reason: string): AsteriskMessage {
  return {
    file: 'chan_sip.c',
    text: `Registration from '<${quotable(request.to?.uri ?? '')}>' failed for '${hostPort(request.source)}' - ${reason}`,
  };
}

/** res_pjsip: `Request 'INVITE' from '<sip:1001@host>' failed for '192.0.2.7:5060' (callid: abc) - Failed to authenticate`. */
function requestFailed(request: RefusedRequest, reason: string): AsteriskMessage {
  const from = `<${quotable(request.from?.uri ?? '')}>`;
  return {
    file: 'res_pjsip/pjsip_distributor.c',
    text: `Request '${quotable(request.method)}' from '${from}' failed for '${hostPort(request.source)}' (callid: ${quotable(request.callId ?? '')}) - ${reason}`,
  };
}

/** A new request (a call) refused by the caller check. */
export function callRejected(request: RefusedRequest, reason: AuthenticationFailure): AsteriskMessage {
  return requestFailed(request, PJSIP_REASONS[reason]);
}

/** A request inside a dialog whose Route carries no valid dialog token. */
export function inDialogRefused(request: RefusedRequest): AsteriskMessage {
  return requestFailed(request, IN_DIALOG_REASON);
}

/** Ours: `Source '192.0.2.7' banned for 300 seconds - REASON`. */
export function sourceBanned(address: string, reason: string, seconds: number): AsteriskMessage {
  return {
    file: 'sip-drouter',
    text: `Source '${quotable(address)}' banned for ${Math.round(seconds)} seconds - ${printable(reason)}`,
  };
}

/** Ours: `Scanner from '192.0.2.7' dropped - User-Agent 'friendly-scanner'`. */
export function scannerDropped(address: string, userAgent: string): AsteriskMessage {
  return {
    file: 'sip-drouter',
    text: `Scanner from '${quotable(address)}' dropped - User-Agent '${quotable(userAgent)}'`,
  };
}
