import type { AttemptEnd } from '../../sip/engine.js';

/**
 * Which ends of an attempt move a call on to the next gateway. Entries are
 * final codes (`503`), classes (`5xx`) or `timeout` (the gateway did not
 * answer in time: a 408 we made ourselves). A 408 from the gateway is not
 * a timeout: it goes back to the caller unless `408` or `4xx` is listed
 * (OpenSIPS' sample fails over on 5xx and a *local* 408 only).
 */
export type FailoverCode = number | string;

export function shouldFailover(attempt: Pick<AttemptEnd, 'status' | 'local'>, codes: readonly FailoverCode[]): boolean {
  if (attempt.local) return codes.includes('timeout');
  const klass = `${Math.floor(attempt.status / 100)}xx`;
  return codes.includes(attempt.status) || codes.includes(klass);
}

/**
 * Which ends of an attempt to one of a registered user's contacts move on
 * to the next contact: no answer in time (or no connection), or a 5xx. A
 * 3xx or 4xx is the phone's answer, and goes back to the caller; a 6xx is
 * the user's for every contact (a Decline on the desk phone is not to ring
 * the mobile: RFC 3261 §16.7 step 5, §21.6). `proxy.failoverCodes` is for
 * gateways, not phones.
 */
export function shouldTryNextContact(attempt: Pick<AttemptEnd, 'status' | 'local'>): boolean {
  return attempt.local || (attempt.status >= 500 && attempt.status < 600);
}

/** What the caller gets when every gateway failed: 503, or the last failure's code. */
export function exhaustedStatus(attempts: readonly Pick<AttemptEnd, 'status'>[], relayLastFailure: boolean): number {
  const last = attempts[attempts.length - 1];
  return relayLastFailure && last ? last.status : 503;
}
