import { describe, expect, it } from 'vitest';
import { forgetAt, nextBan } from '../../../../src/defence/core/ban-policy.js';

const policy = { banSeconds: 300, maxBanSeconds: 1000, memorySeconds: 3600 };

describe('nextBan', () => {
  it('bans for banSeconds the first time', () => {
    expect(nextBan('192.0.2.1', 'r', undefined, 0, policy)).toEqual({
      address: '192.0.2.1',
      untilMs: 300_000,
      strikes: 1,
      reason: 'r',
    });
  });

  it('doubles a repeat within the memory, up to maxBanSeconds', () => {
    const first = nextBan('a', 'r', undefined, 0, policy);
    const second = nextBan('a', 'r', first, 400_000, policy);
    expect(second.strikes).toBe(2);
    expect(second.untilMs - 400_000).toBe(600_000);
    const third = nextBan('a', 'r', second, 1_100_000, policy);
    expect(third.untilMs - 1_100_000).toBe(1_000_000);
  });

  it('starts again once the previous ban is forgotten', () => {
    const first = nextBan('a', 'r', undefined, 0, policy);
    expect(forgetAt(first, policy)).toBe(3_900_000);
    expect(nextBan('a', 'r', first, 3_900_000, policy).strikes).toBe(1);
  });
});
