import type { AttemptEnd, AttemptReport, ForkDecision, ProxyResult, ProxyTarget } from '../../engine.js';
import { reasonPhrase } from '../../core/reason-phrases.js';

/**
 * drachtio-server runs the sequential fork itself and tells the app only the
 * final response of each destination (`fullResponse`), then `done`: no
 * provisionals, nothing for a destination that never answered. This ledger
 * turns that stream back into the engine port's attempt reports. Pure: times
 * come in as arguments.
 *
 * What the server does, read from drachtio-server v0.9.4
 * src/sip-proxy-controller.cpp:
 * - a destination that sends nothing at all (not even 100) within the
 *   provisional timeout is abandoned and the next one started, with nothing
 *   sent to the app (`timerProvisional`): a destination skipped between two
 *   reported ones was silent;
 * - any final above 200 starts the next destination (`ProxyCore::processResponse`,
 *   `if( status > 200 ) startRequests()`), a 401/407 challenge ends the search;
 * - when every destination has ended, the "best" final goes upstream
 *   (`forwardBestResponse`, ordered by `bestResponseOrder`: 6xx, then
 *   401/407/415/420/484, then other 4xx, then 5xx), or a 408 when none
 *   answered.
 */

/** One final response drachtio-server relayed to us, with where it came from. */
export interface ReportedFinal {
  /** Empty when drachtio-server made the response itself (a transport error): then it is reported as local. */
  address: string;
  port: number;
  status: number;
  reason: string;
  atMs: number;
}

/** How the proxy operation ended on our side. */
export type ProxyEnd =
  | { kind: 'done'; atMs: number }
  /** drachtio-server refused the proxy command (nothing sent; it answered the caller itself). */
  | { kind: 'refused'; atMs: number; status: number }
  /** The connection to drachtio-server went away (or we stopped): its outcome is unknowable. */
  | { kind: 'lost'; atMs: number }
  /** No `done` in time: drachtio-server does not report a CANCEL that met a silent destination. */
  | { kind: 'gave-up'; atMs: number };

export class ProxyLedger {
  private readonly attempts: AttemptReport[] = [];
  /** The final each destination ended with, as drachtio-server counts them: 0 for a silent one. */
  private readonly finals: number[] = [];
  /** Index of the first destination without a report. */
  private next = 0;
  /** When the last reported destination ended (the next one started then). */
  private lastAtMs: number;

  constructor(
    private readonly targets: readonly ProxyTarget[],
    startedAtMs: number,
    private readonly noResponseTimeoutMs: number,
  ) {
    this.lastAtMs = startedAtMs;
  }

  /** A final arrived: the reports it settles (silent destinations before it, then its own), in order. */
  final(final: ReportedFinal): AttemptReport[] {
    const added: AttemptReport[] = [];
    // Matched on the address it came from; a response from an address no remaining destination has is the current one's.
    let index = this.targets.findIndex(
      (target, i) =>
        i >= this.next && target.destination.address === final.address && target.destination.port === final.port,
    );
    if (index < 0) index = Math.min(this.next, this.targets.length - 1);
    while (this.next < index) added.push(this.silent(this.next++));
    const target = this.targets[index];
    if (!target || index < this.next) return added;
    this.next = index + 1;
    const durationMs = Math.max(0, final.atMs - this.lastAtMs);
    this.lastAtMs = final.atMs;
    added.push(
      this.record(index, {
        target,
        status: final.status,
        reason: final.reason,
        local: final.address === '',
        provisional: false,
        durationMs,
      }),
    );
    return added;
  }

  /** The operation ended: the reports still owed, and the result. */
  end(end: ProxyEnd): { added: AttemptReport[]; result: ProxyResult } {
    const added: AttemptReport[] = [];
    const last = this.finals.at(-1) ?? 0;
    if (last >= 200 && last < 300)
      return { added, result: { outcome: 'answered', attempts: this.attempts, status: last } };
    if (end.kind === 'refused')
      return { added, result: { outcome: 'failed', attempts: this.attempts, status: end.status } };
    if (end.kind === 'gave-up')
      return { added, result: { outcome: 'cancelled', attempts: this.attempts, status: 487 } };
    if (end.kind === 'lost') return { added, result: { outcome: 'failed', attempts: this.attempts, status: 500 } };
    if (last === 487) return { added, result: { outcome: 'cancelled', attempts: this.attempts, status: 487 } };
    // A challenge ends the search at once; otherwise the destinations left were each abandoned
    // after the provisional timeout. Only as many as the time since the last report allows
    // are counted silent: drachtio-server can send `done` early (see docs/engines.md) while it
    // still tries the next destination, which must not be reported dead.
    if (last !== 401 && last !== 407) {
      const silentFits = Math.floor(
        (end.atMs - this.lastAtMs + this.noResponseTimeoutMs / 2) / this.noResponseTimeoutMs,
      );
      for (let i = 0; i < silentFits && this.next < this.targets.length; i++) added.push(this.silent(this.next++));
    }
    return { added, result: { outcome: 'failed', attempts: this.attempts, status: bestStatus(this.finals) } };
  }

  private silent(index: number): AttemptReport {
    const target = this.targets[index] as ProxyTarget;
    this.lastAtMs += this.noResponseTimeoutMs;
    return this.record(
      index,
      {
        target,
        status: 408,
        reason: 'Request Timeout (no answer from the gateway)',
        local: true,
        provisional: false,
        durationMs: this.noResponseTimeoutMs,
      },
      0,
    );
  }

  private record(index: number, end: AttemptEnd, final = end.status): AttemptReport {
    const report = { ...end, decision: serverDecision(final, index < this.targets.length - 1) };
    this.attempts.push(report);
    this.finals.push(final);
    return report;
  }
}

/**
 * What drachtio-server does after a destination's end (v0.9.4
 * sip-proxy-controller.cpp, `ProxyCore::processResponse` and
 * `timerProvisional`), which the report carries as the fork's decision: a
 * 2xx goes upstream; a 401/407 challenge ends the search; a 487 is the
 * caller's CANCEL (as `end` reads it); any other final, or silence (0),
 * starts the next destination when there is one.
 */
export function serverDecision(final: number, another: boolean): ForkDecision {
  if (final >= 200 && final < 300) return 'answered';
  if (final === 401 || final === 407) return 'relayed';
  if (final === 487) return 'cancelled';
  return another ? 'failover' : 'exhausted';
}

/**
 * The status drachtio-server sends upstream when no destination answered 2xx:
 * its `bestResponseOrder` (6xx, then 401/407/415/420/484, then 4xx, then 5xx,
 * then anything else; among equals the later one, as its insertion sort
 * leaves them), and 408 when no destination sent a final at all.
 */
export function bestStatus(finals: readonly number[]): number {
  const rank = (status: number): number => {
    if (status >= 600) return 0;
    if ([401, 407, 415, 420, 484].includes(status)) return 1;
    if (status >= 400 && status < 500) return 2;
    if (status >= 500 && status < 600) return 3;
    return 4;
  };
  let best: number | undefined;
  for (const status of finals) {
    if (status === 0) continue;
    if (best === undefined || rank(status) <= rank(best)) best = status;
  }
  return best ?? 408;
}

/** The reason phrase of a final drachtio-server relayed, from its status line. */
export function statusLine(raw: string | undefined): { status: number; reason: string } | undefined {
  const match = /^SIP\/2\.0\s+(\d{3})(?:[ \t]+([^\r\n]*))?/.exec(raw ?? '');
  if (!match) return undefined;
  const status = Number(match[1]);
  return { status, reason: match[2]?.trim() || reasonPhrase(status) };
}
