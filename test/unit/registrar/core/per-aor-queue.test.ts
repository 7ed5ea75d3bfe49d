import { describe, expect, it } from 'vitest';
import { PerAorQueue } from '../../../../src/registrar/core/per-aor-queue.js';

/** A task that records when it starts and ends, finishing when the test says. */
function step(log: string[], name: string) {
  let finish: () => void = () => undefined;
  const done = new Promise<void>((resolve) => (finish = resolve));
  return {
    task: async () => {
      log.push(`${name} start`);
      await done;
      log.push(`${name} end`);
      return name;
    },
    finish: () => finish(),
  };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('PerAorQueue', () => {
  it('runs the tasks of one AoR one after another, in order, and of another AoR meanwhile', async () => {
    const queue = new PerAorQueue();
    const log: string[] = [];
    const [a1, a2, b1] = [step(log, 'a1'), step(log, 'a2'), step(log, 'b1')];
    const results = [queue.run('alice', a1.task), queue.run('alice', a2.task), queue.run('bob', b1.task)];
    await tick();
    expect(log).toEqual(['a1 start', 'b1 start']);
    a1.finish();
    await tick();
    expect(log).toEqual(['a1 start', 'b1 start', 'a1 end', 'a2 start']);
    a2.finish();
    b1.finish();
    expect(await Promise.all(results)).toEqual(['a1', 'a2', 'b1']);
  });

  it('goes on with the next task after one fails, and hands the failure to its caller only', async () => {
    const queue = new PerAorQueue();
    const failed = queue.run('alice', async () => {
      throw new Error('cache down');
    });
    const next = queue.run('alice', async () => 'registered');
    await expect(failed).rejects.toThrow('cache down');
    await expect(next).resolves.toBe('registered');
  });
});
