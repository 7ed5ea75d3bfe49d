/** The first restart comes at once, nearly; a worker that keeps dying waits longer each time, up to the cap. */
export const FIRST_RESTART_DELAY_MS = 250;
export const MAX_RESTART_DELAY_MS = 10_000;
/** A worker that ran this long before dying was healthy: its next restart is quick again. */
export const STABLE_RUN_MS = 30_000;

/**
 * How long to wait before restarting a worker that died after running
 * `ranMs`, given the delay before its last start (undefined: it never
 * restarted). Doubling, so a worker that dies at start (the database is
 * gone) does not spin, and a crash after a long healthy run restarts fast.
 */
export function restartDelayMs(previousDelayMs: number | undefined, ranMs: number): number {
  if (previousDelayMs === undefined || ranMs >= STABLE_RUN_MS) return FIRST_RESTART_DELAY_MS;
  return Math.min(previousDelayMs * 2, MAX_RESTART_DELAY_MS);
}
