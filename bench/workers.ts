import { readFileSync } from 'node:fs';
import { Redis } from 'ioredis';

/**
 * `--workers N` of the sipp benchmarks: each profile runs twice in one go,
 * the proxy as one process and as N worker processes (`drouter start
 * --workers N`), both on the same Redis (DROUTER_BENCH_REDIS_URL, by
 * default redis://127.0.0.1:6379/15) so that only the process count
 * differs. DROUTER_BENCH_PROXY_CORES (taskset's list, default `0`) is where
 * the proxy may run in both: `0` shows what the cluster costs on one core,
 * `0-1` what it gains with a second core (shared with sipp on a 2-core
 * machine).
 */
export const BENCH_REDIS_URL = process.env.DROUTER_BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379/15';
export const PROXY_CORES = process.env.DROUTER_BENCH_PROXY_CORES ?? '0';

/** The worker counts to compare: [1, N] with `--workers N`; undefined without (one process, in-process cache, as before). */
export function workerCountsToRun(): number[] | undefined {
  const index = process.argv.indexOf('--workers');
  if (index < 0) return undefined;
  const text = process.argv[index + 1] ?? '';
  const workers = Number(text);
  if (!/^\d+$/.test(text) || workers < 2 || workers > 64)
    throw new Error(`--workers ${text}: expected a whole number from 2 to 64 (it is compared with 1)`);
  return [1, workers];
}

/** The process and its children (a cluster's primary and its workers), by /proc. */
export function processTree(pid: number): number[] {
  let children: number[] = [];
  try {
    children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
  } catch {
    // Gone already, or a kernel without the children file: the process alone.
  }
  return [pid, ...children.flatMap(processTree)];
}

/** Deletes a step's keys, so that the next step starts from an empty Redis as it starts from a fresh database. */
export async function deleteBenchKeys(prefix: string): Promise<void> {
  const redis = new Redis(BENCH_REDIS_URL, { maxRetriesPerRequest: 1, retryStrategy: () => null });
  try {
    for await (const keys of redis.scanStream({ match: `${prefix}*`, count: 500 }) as AsyncIterable<string[]>) {
      if (keys.length > 0) await redis.del(...keys);
    }
  } finally {
    await redis.quit();
  }
}
