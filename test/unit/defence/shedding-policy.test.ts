import { describe, expect, it } from 'vitest';
import { mayShed, shedShare } from '../../../src/defence/shedding-policy.js';

describe('shedShare', () => {
  const limits = { maxLagMs: 100, maxInvitesInProgress: 0 };

  it('sheds nothing up to maxLagMs, in proportion beyond, everything at twice it', () => {
    expect([0, 100, 150, 200, 1000].map((lag) => shedShare(lag, 0, limits))).toEqual([0, 0, 0.5, 1, 1]);
  });

  it('sheds everything at the cap of INVITEs in progress', () => {
    expect(shedShare(0, 4, { maxLagMs: 100, maxInvitesInProgress: 5 })).toBe(0);
    expect(shedShare(0, 5, { maxLagMs: 100, maxInvitesInProgress: 5 })).toBe(1);
  });

  it('never sheds for lag when maxLagMs is 0', () => {
    expect(shedShare(10_000, 0, { maxLagMs: 0, maxInvitesInProgress: 0 })).toBe(0);
  });
});

describe('mayShed', () => {
  it('turns away REGISTERs and INVITEs that start calls, never what runs inside one', () => {
    expect(mayShed('REGISTER', false)).toBe(true);
    expect(mayShed('INVITE', false)).toBe(true);
    expect(mayShed('INVITE', true)).toBe(false);
    expect(['BYE', 'ACK', 'CANCEL', 'OPTIONS'].map((method) => mayShed(method, false))).toEqual([false, false, false, false]);
  });
});
