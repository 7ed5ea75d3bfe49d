import type { AttemptEnd, ForkControl, ForkDecision } from '../engine.js';

/**
 * What follows an attempt that ended, in a fork of ours (RFC 3261 §16,
 * serial forking; src/sip/native/native-proxy.ts acts on it), decided once
 * and carried by the attempt's report: a 2xx goes upstream; a non-2xx final
 * or a local timeout asks `tryNext`, which either sends it upstream or moves
 * on, unless the caller cancelled meanwhile or no target is left.
 */
export function forkDecision(
  attempt: AttemptEnd,
  options: Pick<ForkControl, 'tryNext'>,
  state: { cancelled: boolean; targetsLeft: number },
): ForkDecision {
  if (attempt.status >= 200 && attempt.status < 300) return 'answered';
  if (!options.tryNext(attempt)) return 'relayed';
  if (state.cancelled) return 'cancelled';
  return state.targetsLeft > 0 ? 'failover' : 'exhausted';
}
