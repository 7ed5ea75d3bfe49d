import { describe, expect, it } from 'vitest';
import { GroupCommit } from '../../../src/store/group-commit.js';

/** A commit that records each batch it is given; a write of 'bad' fails its whole batch. */
function recordingCommit() {
  const batches: string[][] = [];
  const commit = async (writes: readonly string[]) => {
    batches.push([...writes]);
    if (writes.includes('bad')) throw new Error('bad write');
    return writes.map((write) => write.toUpperCase());
  };
  return { batches, group: new GroupCommit(commit) };
}

describe('group commit', () => {
  it('commits the writes of one turn together and gives each caller its own result', async () => {
    const { batches, group } = recordingCommit();
    const results = await Promise.all(['a', 'b', 'c'].map((write) => group.submit(write)));
    expect(results).toEqual(['A', 'B', 'C']);
    expect(batches).toEqual([['a', 'b', 'c']]);
  });

  it('starts a new batch for writes submitted after a flush', async () => {
    const { batches, group } = recordingCommit();
    await group.submit('a');
    await group.submit('b');
    expect(batches).toEqual([['a'], ['b']]);
  });

  it('retries each write of a failed batch alone: only the bad one fails', async () => {
    const { batches, group } = recordingCommit();
    const outcomes = await Promise.allSettled(['a', 'bad', 'c'].map((write) => group.submit(write)));
    expect(
      outcomes.map((outcome) => (outcome.status === 'fulfilled' ? outcome.value : (outcome.reason as Error).message)),
    ).toEqual(['A', 'bad write', 'C']);
    expect(batches).toEqual([['a', 'bad', 'c'], ['a'], ['bad'], ['c']]);
  });

  it('commits one batch at a time: writes submitted meanwhile go together into the next, in order', async () => {
    const batches: string[][] = [];
    let running = 0;
    let mostAtOnce = 0;
    let finishFirst: () => void = () => undefined;
    const firstDone = new Promise<void>((resolve) => {
      finishFirst = resolve;
    });
    const group = new GroupCommit(async (writes: readonly string[]) => {
      batches.push([...writes]);
      running++;
      mostAtOnce = Math.max(mostAtOnce, running);
      if (batches.length === 1) await firstDone;
      running--;
      return writes.map((write) => write.toUpperCase());
    });
    const first = group.submit('a');
    await new Promise((resolve) => setImmediate(resolve));
    const later = [group.submit('b'), group.submit('c')];
    await new Promise((resolve) => setImmediate(resolve));
    const last = group.submit('d');
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(batches).toEqual([['a']]);
    finishFirst();
    expect(await Promise.all([first, ...later, last])).toEqual(['A', 'B', 'C', 'D']);
    expect(batches).toEqual([['a'], ['b', 'c', 'd']]);
    expect(mostAtOnce).toBe(1);
  });
});
