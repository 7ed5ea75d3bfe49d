import { describe, expect, it } from 'vitest';
import { reusedFor, statusOnly } from '../../../src/admin/open-reads.js';

describe('an open read reused for a while (reusedFor)', () => {
  it('computes once per period, shares the result with the calls in between and with those while it runs', async () => {
    let at = 10_000;
    let runs = 0;
    let release: () => void = () => undefined;
    const read = reusedFor(
      1000,
      () => at,
      async () => {
        runs += 1;
        await new Promise<void>((resolve) => (release = resolve));
        return runs;
      },
    );
    const whileRunning = [read(), read(), read()];
    release();
    expect(await Promise.all(whileRunning)).toEqual([1, 1, 1]);
    at += 999;
    expect(await read()).toBe(1);
    at += 1;
    const next = read();
    release();
    expect([await next, runs]).toEqual([2, 2]);
  });

  it('shares a failure for the period too, then tries again', async () => {
    let at = 0;
    let runs = 0;
    const read = reusedFor(
      1000,
      () => at,
      async () => {
        runs += 1;
        if (runs === 1) throw new Error('store down');
        return 'ok';
      },
    );
    await expect(read()).rejects.toThrow('store down');
    await expect(read()).rejects.toThrow('store down');
    at = 1000;
    expect([await read(), runs]).toEqual(['ok', 2]);
  });
});

describe('the /health body of an anonymous read (statusOnly)', () => {
  it('keeps the status and nothing else', () => {
    expect(
      statusOnly({
        status: 'degraded',
        store: { ok: false, url: 'mysql://drouter:***@db/opensips' },
        ha: { holder: 'sip1' },
      }),
    ).toEqual({ status: 'degraded' });
    expect(statusOnly(undefined)).toEqual({ status: null });
  });
});
