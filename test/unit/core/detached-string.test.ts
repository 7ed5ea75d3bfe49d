import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { detached } from '../../../src/core/detached-string.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** The heap still used after keeping a 30-character piece of each of 200 strings of 500 kB, kept as `keep` makes it. */
function heapAfterKeeping(keep: (piece: string) => string): { kept: string[]; heapBytes: number } {
  gc();
  const before = process.memoryUsage().heapUsed;
  const kept: string[] = [];
  for (let i = 0; i < 200; i++) {
    const datagram = `${i}:${'x'.repeat(500_000)}`;
    kept.push(keep(datagram.slice(0, 30)));
  }
  gc();
  return { kept, heapBytes: process.memoryUsage().heapUsed - before };
}

describe('detached', () => {
  it('returns the same characters, for slices, joined strings and the empty string', () => {
    const datagram = `INVITE sip:01144201234567@127.0.0.60 SIP/2.0\r\nCall-ID: ${'x'.repeat(40)}@127.0.0.61\r\n\r\n`;
    const callId = datagram.slice(datagram.indexOf('Call-ID: ') + 9, datagram.indexOf('\r\n\r\n'));
    expect(detached(callId)).toBe(callId);
    expect(detached(`INVITE|${callId}|z9hG4bK-1`)).toBe(`INVITE|${callId}|z9hG4bK-1`);
    expect(detached('')).toBe('');
  });

  it('keeps only the piece alive, where a plain slice keeps its whole 500 kB parent', () => {
    const sliced = heapAfterKeeping((piece) => piece);
    const copied = heapAfterKeeping(detached);
    expect(sliced.kept).toEqual(copied.kept);
    expect(sliced.heapBytes).toBeGreaterThan(50_000_000);
    expect(copied.heapBytes).toBeLessThan(5_000_000);
  });
});
