import { describe, expect, it } from 'vitest';
import { Closers } from '../../../src/lifecycle/closers.js';

function recorder() {
  const errors: string[] = [];
  return { errors, log: { error: (_fields: object, message: string) => void errors.push(message) } };
}

describe('Closers', () => {
  it('closes in the reverse of the order things opened, waiting for each', async () => {
    const { log } = recorder();
    const closers = new Closers(log);
    const closed: string[] = [];
    closers.push('the store', () => void closed.push('store'));
    closers.push('the cache', async () => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      closed.push('cache');
    });
    closers.push('the engine', () => void closed.push('engine'));
    await closers.closeAll();
    expect(closed).toEqual(['engine', 'cache', 'store']);
  });

  it('logs a closer that fails, names it, and still closes the rest', async () => {
    const { errors, log } = recorder();
    const closers = new Closers(log);
    const closed: string[] = [];
    closers.push('the store', () => void closed.push('store'));
    closers.push('the admin server', () => Promise.reject(new Error('socket gone')));
    closers.push('the engine', () => {
      throw new Error('engine stuck');
    });
    await closers.closeAll();
    expect(closed).toEqual(['store']);
    expect(errors).toEqual([
      'closing the engine failed (engine stuck); closing the rest',
      'closing the admin server failed (socket gone); closing the rest',
    ]);
  });

  it('closes each thing once however often it is asked', async () => {
    const { log } = recorder();
    const closers = new Closers(log);
    let closes = 0;
    closers.push('the store', () => void (closes += 1));
    const first = closers.closeAll();
    expect(closers.closeAll()).toBe(first);
    await first;
    await closers.closeAll();
    expect(closes).toBe(1);
  });
});
