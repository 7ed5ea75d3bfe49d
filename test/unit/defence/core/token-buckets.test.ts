import { describe, expect, it } from 'vitest';
import { TokenBuckets } from '../../../../src/defence/core/token-buckets.js';

describe('TokenBuckets', () => {
  it('lets a source spend its burst at once, then one request per 1/rate seconds', () => {
    const buckets = new TokenBuckets({ ratePerSecond: 2, burst: 3 }, 10);
    expect([1, 2, 3, 4].map(() => buckets.take('192.0.2.1', 0))).toEqual([true, true, true, false]);
    expect(buckets.take('192.0.2.1', 400)).toBe(false);
    expect(buckets.take('192.0.2.1', 500)).toBe(true);
    expect(buckets.take('192.0.2.1', 500)).toBe(false);
  });

  it('refills no further than the burst after a long quiet', () => {
    const buckets = new TokenBuckets({ ratePerSecond: 10, burst: 2 }, 10);
    buckets.take('a', 0);
    const later = [1, 2, 3].map(() => buckets.take('a', 60_000));
    expect(later).toEqual([true, true, false]);
  });

  it('keeps sources apart', () => {
    const buckets = new TokenBuckets({ ratePerSecond: 1, burst: 1 }, 10);
    expect(buckets.take('a', 0)).toBe(true);
    expect(buckets.take('a', 0)).toBe(false);
    expect(buckets.take('b', 0)).toBe(true);
  });

  it('forgets the longest untouched source past maxKeys, so spoofed sources cost no memory', () => {
    const buckets = new TokenBuckets({ ratePerSecond: 1, burst: 1 }, 3);
    for (const key of ['a', 'b', 'c']) buckets.take(key, 0);
    buckets.take('a', 0);
    buckets.take('d', 0);
    expect(buckets.size).toBe(3);
    // b was the longest untouched: forgotten, so it starts full again; a is still empty.
    expect(buckets.take('b', 0)).toBe(true);
    expect(buckets.take('a', 0)).toBe(false);
  });
});
