import { describe, expect, it } from 'vitest';
import { boundedMemo } from '../../../src/core/bounded-memo.js';

describe('boundedMemo', () => {
  it('computes a key once while there is room (the seeded keys count), every time once full, and answers seeded keys without computing', () => {
    const computed: string[] = [];
    const upper = boundedMemo((key) => (computed.push(key), key.toUpperCase()), 3, [['call-id', 'Call-ID']]);
    const answers = ['a', 'a', 'call-id', 'b', 'b', 'c'].map(upper);
    expect(answers).toEqual(['A', 'A', 'Call-ID', 'B', 'B', 'C']);
    expect([upper('c'), computed]).toEqual(['C', ['a', 'b', 'c', 'c']]);
  });
});
