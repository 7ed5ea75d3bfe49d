import { describe, expect, it } from 'vitest';
import {
  exhaustedStatus,
  type FailoverCode,
  shouldFailover,
  shouldTryNextContact,
} from '../../../../src/proxy/core/failover-policy.js';

const DEFAULT_CODES: FailoverCode[] = ['5xx', 'timeout'];

describe('failover between gateways (proxy.failoverCodes)', () => {
  it.each([
    [503, false, DEFAULT_CODES, true],
    [500, false, DEFAULT_CODES, true],
    [486, false, DEFAULT_CODES, false],
    [603, false, DEFAULT_CODES, false],
    [302, false, DEFAULT_CODES, false],
    // A 408 from the gateway is its answer; only our own (no answer in time) is a timeout.
    [408, false, DEFAULT_CODES, false],
    [408, true, DEFAULT_CODES, true],
    [503, true, ['5xx'], false],
    [486, false, [486], true],
    [404, false, ['4xx'], true],
    [503, false, [502], false],
    [408, false, [408], true],
  ] as const)('%i (local %s) with %j: %s', (status, local, codes, expected) => {
    expect(shouldFailover({ status, local }, codes)).toBe(expected);
  });
});

describe("failover between a registered user's contacts", () => {
  it.each([
    [408, true, true],
    [503, true, true],
    [500, false, true],
    [503, false, true],
    [603, false, false],
    [600, false, false],
    [486, false, false],
    [404, false, false],
    [408, false, false],
    [302, false, false],
  ] as const)('%i (local %s): %s', (status, local, expected) => {
    expect(shouldTryNextContact({ status, local })).toBe(expected);
  });
});

describe('the status upstream when every gateway failed', () => {
  it('is 503, or the last failure with proxy.relayLastFailure', () => {
    const attempts = [{ status: 500 }, { status: 486 }];
    expect(exhaustedStatus(attempts, false)).toBe(503);
    expect(exhaustedStatus(attempts, true)).toBe(486);
    expect(exhaustedStatus([], true)).toBe(503);
  });
});
