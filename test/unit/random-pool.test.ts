import { describe, expect, it } from 'vitest';
import { randomBytesPooled, randomHex } from '../../src/random-pool.js';

describe('the random pool', () => {
  it('never hands out the same bytes twice, across many refills of the pool', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 5000; i++) {
      seen.add(randomHex(6));
      seen.add(randomBytesPooled(8).toString('hex'));
    }
    expect(seen.size).toBe(10_000);
  });

  it('gives the size asked for, hex twice as long, also beyond the pool', () => {
    expect(randomHex(10)).toMatch(/^[0-9a-f]{20}$/);
    expect(randomBytesPooled(8)).toHaveLength(8);
    expect(randomBytesPooled(10_000)).toHaveLength(10_000);
  });
});
