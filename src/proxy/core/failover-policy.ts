import type { AttemptReport } from '../../sip/engine.js';

/**
 * Which ends of an attempt move a call on to the next gateway. Entries are
 * final codes (`503`), classes (`5xx`) or `timeout` (the gateway did not
 * answer in time: a 408 we made ourselves). A 408 from the gateway is not
 * a timeout: it goes back to the caller unless `408` or `4xx` is listed
 * (OpenSIPS' sample fails over on 5xx and a *local* 408 only).
 */
export type FailoverCode = number | string;

export function shouldFailover(
  report: Pick<AttemptReport, 'status' | 'local'>,
  codes: readonly FailoverCode[],
): boolean {
  if (report.local) return codes.includes('timeout');
  const klass = `${Math.floor(report.status / 100)}xx`;
  return codes.includes(report.status) || codes.includes(klass);
}

/** What the caller gets when every gateway failed: 503, or the last failure's code. */
export function exhaustedStatus(attempts: readonly Pick<AttemptReport, 'status'>[], relayLastFailure: boolean): number {
  const last = attempts[attempts.length - 1];
  return relayLastFailure && last ? last.status : 503;
}
