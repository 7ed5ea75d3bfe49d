import { describe, expect, it } from 'vitest';
import {
  mayShed,
  nextUtilizationShare,
  shedShare,
  smoothedUtilization,
} from '../../../../src/defence/core/shedding-policy.js';

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
    expect(['BYE', 'ACK', 'CANCEL', 'OPTIONS'].map((method) => mayShed(method, false))).toEqual([
      false,
      false,
      false,
      false,
    ]);
  });
});

describe('nextUtilizationShare', () => {
  it('sheds more while the loop is busier than the limit, up to 95 %', () => {
    let share = 0;
    const shares = Array.from({ length: 12 }, () => (share = nextUtilizationShare(share, 1, 0.9)));
    expect(shares[0]).toBeCloseTo(0.1);
    expect(shares.at(-1)).toBeCloseTo(0.95);
  });

  it('holds the share just under the limit and lowers it well below', () => {
    expect(nextUtilizationShare(0.5, 0.85, 0.9)).toBe(0.5);
    expect(nextUtilizationShare(0.5, 0.5, 0.9)).toBeCloseTo(0.45);
    expect(nextUtilizationShare(0.02, 0.1, 0.9)).toBe(0);
  });

  it('never sheds for utilization at a limit of 1', () => {
    expect(nextUtilizationShare(0.5, 1, 1)).toBe(0);
  });
});

describe('smoothedUtilization', () => {
  const settle = (from: number, readings: readonly number[]) => readings.reduce(smoothedUtilization, from);

  it('at half load, passes 0.9 only after six full busy windows (600 ms), not after two or five', () => {
    const busyWindows = (count: number) =>
      settle(
        0.5,
        Array.from({ length: count }, () => 1),
      );
    expect(busyWindows(2)).toBeLessThan(0.9);
    expect(busyWindows(5)).toBeLessThan(0.9);
    expect(busyWindows(6)).toBeGreaterThan(0.9);
  });

  it('keeps one busy window (a garbage collection) at 60 % load below 0.9, and comes back down', () => {
    const afterPause = settle(0.6, [1]);
    expect(afterPause).toBeLessThan(0.9);
    expect(settle(afterPause, [0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6])).toBeCloseTo(0.6, 1);
  });

  it('moves toward each reading by a quarter of the gap', () => {
    expect(smoothedUtilization(0.4, 0.8)).toBeCloseTo(0.5);
    expect(smoothedUtilization(0.8, 0.4)).toBeCloseTo(0.7);
  });
});
