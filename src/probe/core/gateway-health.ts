import type { GatewayState } from '../../routing/core/routing-table.js';

/**
 * A gateway's live health and the rules that move it (OpenSIPS drouting's
 * state machine, with dispatcher-style thresholds). Pure: the prober, the
 * proxy and the admin API feed events in and store what comes out.
 */

export interface GatewayHealth {
  readonly state: GatewayState;
  /** Why it is in this state, for people (admin API, logs, history). */
  readonly reason: string;
  /** Epoch ms of the last state change. */
  readonly since: number;
  /** Failures in a row while active (probes and call timeouts), toward `downAfter`. */
  readonly failures: number;
  /** Good probe replies in a row while probing-disabled, toward `upAfter`. */
  readonly successes: number;
  /** Round trip of the last answered probe. */
  readonly lastRttMs: number | null;
  /** Epoch ms of the last probe outcome. */
  readonly lastProbeAt: number | null;
}

/** One state change, as the history keeps it (OpenSIPS keeps the last 200 with reasons). */
export interface StateChange {
  readonly gwid: string;
  readonly from: GatewayState;
  readonly to: GatewayState;
  readonly reason: string;
  /** Epoch ms. */
  readonly at: number;
}

export type HealthEvent =
  | { kind: 'probe-reply'; status: number; rttMs: number }
  | { kind: 'probe-timeout'; timeoutMs: number }
  | { kind: 'probe-send-failed'; error: string }
  /** The proxy's passive marking: a call got no response at all in time (OpenSIPS dr_disable). */
  | { kind: 'call-timeout' }
  | { kind: 'admin'; enable: boolean };

export interface HealthRules {
  /** Final codes that mean alive besides 200 (Asterisk answers 404/403/501 to an OPTIONS without user). */
  readonly replyCodes: readonly number[];
  /** Failures in a row that take an active gateway down (OpenSIPS: 1). */
  readonly downAfter: number;
  /** Good replies in a row that bring a probing-disabled gateway back (OpenSIPS: 1). */
  readonly upAfter: number;
}

export type ProbeMode = 0 | 1 | 2;

export function initialHealth(state: GatewayState, reason: string, now: number): GatewayHealth {
  return { state, reason, since: now, failures: 0, successes: 0, lastRttMs: null, lastProbeAt: null };
}

/**
 * Whether the prober sends this gateway an OPTIONS: probe_mode 2 always,
 * 1 only while probing-disabled (to bring it back), 0 never; an
 * admin-disabled gateway never (only an operator brings it back).
 */
export function wantsProbe(probeMode: ProbeMode, state: GatewayState): boolean {
  if (state === 'admin-disabled') return false;
  return probeMode === 2 || (probeMode === 1 && state === 'probing-disabled');
}

/**
 * What a probe's final says: 200 and the listed codes are alive; any other
 * final from 400 up (a 408 from the gateway too) is dead; other 2xx and
 * 3xx say nothing (OpenSIPS ignores them as well).
 */
export function replyVerdict(status: number, replyCodes: readonly number[]): 'alive' | 'dead' | 'neutral' {
  if (status === 200 || replyCodes.includes(status)) return 'alive';
  return status >= 400 ? 'dead' : 'neutral';
}

type Verdict = { alive: true; what: string } | { alive: false; what: string } | undefined;

/** What an event says about the gateway: no answer, or a probe that could not be sent, is dead too. */
function verdictOf(event: Exclude<HealthEvent, { kind: 'admin' }>, rules: HealthRules): Verdict {
  switch (event.kind) {
    case 'probe-reply': {
      const verdict = replyVerdict(event.status, rules.replyCodes);
      if (verdict === 'alive') return { alive: true, what: `probe answered ${event.status}` };
      if (verdict === 'dead')
        return { alive: false, what: `probe answered ${event.status} (not 200 or in probe.replyCodes)` };
      return undefined;
    }
    case 'probe-timeout':
      return { alive: false, what: `no answer to the probe within ${event.timeoutMs} ms` };
    case 'probe-send-failed':
      return { alive: false, what: `the probe could not be sent: ${event.error}` };
    case 'call-timeout':
      return { alive: false, what: 'a call got no answer in time' };
  }
}

function inARow(what: string, count: number): string {
  return count > 1 ? `${what} (${count} in a row)` : what;
}

function moved(current: GatewayHealth, state: GatewayState, reason: string, now: number): GatewayHealth {
  return { ...current, state, reason, since: now, failures: 0, successes: 0 };
}

/**
 * The health after `event`. The state changes when the result's `state`
 * differs (its `reason` and `since` then describe the change).
 */
export function nextHealth(
  current: GatewayHealth,
  event: HealthEvent,
  probeMode: ProbeMode,
  rules: HealthRules,
  now: number,
): GatewayHealth {
  if (event.kind === 'admin') {
    if (event.enable) return current.state === 'active' ? current : moved(current, 'active', 'enabled by admin', now);
    return current.state === 'admin-disabled' ? current : moved(current, 'admin-disabled', 'disabled by admin', now);
  }
  // Only an operator brings an admin-disabled gateway back; nothing else touches it.
  if (current.state === 'admin-disabled') return current;
  // Passive marking needs a prober to undo it: not for probe_mode 0 gateways.
  if (event.kind === 'call-timeout' && probeMode === 0) return current;
  const probed: GatewayHealth =
    event.kind === 'call-timeout'
      ? current
      : { ...current, lastProbeAt: now, lastRttMs: event.kind === 'probe-reply' ? event.rttMs : current.lastRttMs };
  const verdict = verdictOf(event, rules);
  if (!verdict) return probed;
  if (verdict.alive) {
    if (current.state === 'active') return { ...probed, failures: 0 };
    const successes = current.successes + 1;
    if (successes < rules.upAfter) return { ...probed, successes };
    return moved(probed, 'active', inARow(verdict.what, successes), now);
  }
  if (current.state !== 'active') return { ...probed, successes: 0 };
  const failures = current.failures + 1;
  if (failures < rules.downAfter) return { ...probed, failures };
  return moved(probed, 'probing-disabled', inARow(verdict.what, failures), now);
}
