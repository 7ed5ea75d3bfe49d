import { describe, expect, it } from 'vitest';
import type { AttemptEnd, ForkDecision } from '../../../../src/sip/engine.js';
import { forkDecision } from '../../../../src/sip/core/fork-decision.js';

const end = (status: number, local = false): AttemptEnd => ({
  target: {
    uri: 'sip:0114420@127.0.0.2',
    destination: { address: '127.0.0.2', port: 5060, transport: 'udp' },
    label: '1',
  },
  status,
  reason: '',
  local,
  provisional: false,
  durationMs: 1,
});

/** tryNext as the gateways' default policy has it: 5xx and timeouts move on. */
const policy = { tryNext: (attempt: AttemptEnd) => attempt.local || (attempt.status >= 500 && attempt.status < 600) };

describe('what our fork does after an attempt (RFC 3261 §16)', () => {
  it.each([
    [200, false, false, 1, 'answered'],
    [200, false, true, 1, 'answered'],
    [486, false, false, 1, 'relayed'],
    [486, false, true, 1, 'relayed'],
    [503, false, false, 1, 'failover'],
    [503, false, false, 0, 'exhausted'],
    [408, true, false, 2, 'failover'],
    [408, true, false, 0, 'exhausted'],
    [503, false, true, 1, 'cancelled'],
    [503, false, true, 0, 'cancelled'],
  ] as const)(
    'after %i (local %s, cancelled %s, %i target(s) left): %s',
    (status, local, cancelled, targetsLeft, decision: ForkDecision) => {
      expect(forkDecision(end(status, local), policy, { cancelled, targetsLeft })).toBe(decision);
    },
  );

  it('asks tryNext once, and never for a 2xx', () => {
    const asked: number[] = [];
    const counting = { tryNext: (attempt: AttemptEnd) => (asked.push(attempt.status), true) };
    forkDecision(end(200), counting, { cancelled: false, targetsLeft: 1 });
    forkDecision(end(503), counting, { cancelled: false, targetsLeft: 1 });
    expect(asked).toEqual([503]);
  });
});
