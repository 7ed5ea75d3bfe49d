import { describe, expect, it } from 'vitest';
import {
  type GatewayHealth,
  type HealthEvent,
  type HealthRules,
  initialHealth,
  nextHealth,
  type ProbeMode,
  wantsProbe,
} from '../../../../src/probe/core/gateway-health.js';
import type { GatewayState } from '../../../../src/routing/core/routing-table.js';

const OPENSIPS: HealthRules = { replyCodes: [], downAfter: 1, upAfter: 1 };
const ASTERISK_CODES: HealthRules = { replyCodes: [501, 403, 404], downAfter: 1, upAfter: 1 };
const T0 = Date.UTC(2026, 10, 26, 10, 0, 0);

const reply = (status: number, rttMs = 12): HealthEvent => ({ kind: 'probe-reply', status, rttMs });
const timeout: HealthEvent = { kind: 'probe-timeout', timeoutMs: 2000 };

/** Feeds events one second apart and returns every intermediate health. */
function run(
  start: GatewayState,
  events: HealthEvent[],
  rules: HealthRules = OPENSIPS,
  probeMode: ProbeMode = 2,
): GatewayHealth[] {
  const seen: GatewayHealth[] = [];
  let health = initialHealth(start, 'loaded', T0);
  events.forEach((event, i) => {
    health = nextHealth(health, event, probeMode, rules, T0 + (i + 1) * 1000);
    seen.push(health);
  });
  return seen;
}

const statesOf = (healths: GatewayHealth[]) => healths.map((health) => health.state);

describe('gateway health: single events (OpenSIPS thresholds 1/1)', () => {
  it.each([
    ['active', reply(200), 'active', 'loaded'],
    ['active', reply(503), 'probing-disabled', 'probe answered 503 (not 200 or in probe.replyCodes)'],
    ['active', reply(408), 'probing-disabled', 'probe answered 408 (not 200 or in probe.replyCodes)'],
    ['active', reply(404), 'probing-disabled', 'probe answered 404 (not 200 or in probe.replyCodes)'],
    ['active', timeout, 'probing-disabled', 'no answer to the probe within 2000 ms'],
    [
      'active',
      { kind: 'probe-send-failed', error: 'getaddrinfo ENOTFOUND gw.invalid' },
      'probing-disabled',
      'the probe could not be sent: getaddrinfo ENOTFOUND gw.invalid',
    ],
    ['active', { kind: 'call-timeout' }, 'probing-disabled', 'a call got no answer in time'],
    ['probing-disabled', reply(200), 'active', 'probe answered 200'],
    ['probing-disabled', reply(503), 'probing-disabled', 'loaded'],
    ['active', { kind: 'admin', enable: false }, 'admin-disabled', 'disabled by admin'],
    ['probing-disabled', { kind: 'admin', enable: false }, 'admin-disabled', 'disabled by admin'],
    ['admin-disabled', { kind: 'admin', enable: true }, 'active', 'enabled by admin'],
    ['probing-disabled', { kind: 'admin', enable: true }, 'active', 'enabled by admin'],
  ] as const)('%s + %o → %s (%s)', (start, event, state, reason) => {
    const [after] = run(start, [event]);
    expect(after?.state).toBe(state);
    expect(after?.reason).toBe(reason);
    expect(after?.since).toBe(state === start ? T0 : T0 + 1000);
  });

  it('ignores other 2xx and 3xx finals, as OpenSIPS does, but keeps their round trip', () => {
    for (const start of ['active', 'probing-disabled'] as const) {
      const [after] = run(start, [reply(202, 7), reply(302, 9)]).slice(-1);
      expect(after?.state).toBe(start);
      expect(after?.lastRttMs).toBe(9);
    }
  });

  it('counts the listed codes as alive: the tutorial\'s "501, 403, 404" for Asterisk', () => {
    expect(statesOf(run('probing-disabled', [reply(404)], ASTERISK_CODES))).toEqual(['active']);
    expect(statesOf(run('active', [reply(501), reply(403)], ASTERISK_CODES))).toEqual(['active', 'active']);
    expect(statesOf(run('active', [reply(500)], ASTERISK_CODES))).toEqual(['probing-disabled']);
  });

  it('keeps an admin-disabled gateway down through good probes, timeouts and call timeouts', () => {
    const healths = run('admin-disabled', [reply(200), reply(200), timeout, { kind: 'call-timeout' }]);
    expect(statesOf(healths)).toEqual(['admin-disabled', 'admin-disabled', 'admin-disabled', 'admin-disabled']);
    expect(healths.every((health) => health.since === T0 && health.lastProbeAt === null)).toBe(true);
  });

  it('does not mark a probe_mode 0 gateway down for a call timeout: nothing would bring it back', () => {
    expect(statesOf(run('active', [{ kind: 'call-timeout' }], OPENSIPS, 0))).toEqual(['active']);
    expect(statesOf(run('active', [{ kind: 'call-timeout' }], OPENSIPS, 1))).toEqual(['probing-disabled']);
  });

  it('records the round trip and the time of each probe, not of call timeouts', () => {
    const [answered, called] = run('active', [reply(200, 31), { kind: 'call-timeout' }], { ...OPENSIPS, downAfter: 3 });
    expect(answered).toMatchObject({ lastRttMs: 31, lastProbeAt: T0 + 1000 });
    expect(called).toMatchObject({ lastRttMs: 31, lastProbeAt: T0 + 1000, failures: 1 });
  });
});

describe('gateway health: thresholds (dispatcher-style hysteresis)', () => {
  const rules: HealthRules = { replyCodes: [], downAfter: 3, upAfter: 2 };

  it('goes down on the third failure in a row, saying so', () => {
    const healths = run('active', [timeout, reply(503), timeout], rules);
    expect(statesOf(healths)).toEqual(['active', 'active', 'probing-disabled']);
    expect(healths[2]?.reason).toBe('no answer to the probe within 2000 ms (3 in a row)');
  });

  it('starts counting again after a good reply', () => {
    expect(statesOf(run('active', [timeout, timeout, reply(200), timeout, timeout], rules))).toEqual([
      'active',
      'active',
      'active',
      'active',
      'active',
    ]);
  });

  it('comes back on the second good reply in a row, not after a bad one between', () => {
    expect(statesOf(run('probing-disabled', [reply(200), reply(503), reply(200), reply(200)], rules))).toEqual([
      'probing-disabled',
      'probing-disabled',
      'probing-disabled',
      'active',
    ]);
    const [, back] = run('probing-disabled', [reply(200), reply(200)], rules);
    expect(back?.reason).toBe('probe answered 200 (2 in a row)');
    expect(back).toMatchObject({ failures: 0, successes: 0, since: T0 + 2000 });
  });

  it('counts call timeouts toward downAfter as probe failures do', () => {
    expect(statesOf(run('active', [{ kind: 'call-timeout' }, timeout, { kind: 'call-timeout' }], rules))).toEqual([
      'active',
      'active',
      'probing-disabled',
    ]);
  });
});

describe('which gateways the prober probes', () => {
  it.each([
    [0, 'active', false],
    [0, 'probing-disabled', false],
    [1, 'active', false],
    [1, 'probing-disabled', true],
    [2, 'active', true],
    [2, 'probing-disabled', true],
    [1, 'admin-disabled', false],
    [2, 'admin-disabled', false],
  ] as const)('probe_mode %i, %s → %s', (mode, state, expected) => {
    expect(wantsProbe(mode, state)).toBe(expected);
  });
});
