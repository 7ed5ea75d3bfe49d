import { errorMessage } from '../../src/errors.js';

/**
 * Polls `check` until it gives a value (anything but undefined) and returns
 * it. No check starts after `timeoutMs`; then it fails naming what it
 * waited for, the last error the check threw, and `detail()` (what a peer
 * printed, for the failing test's message). A check that throws counts as
 * not yet, unless `rethrow`: then the error ends the wait at once.
 */
export async function waitFor<T>(
  what: string,
  timeoutMs: number,
  check: () => Promise<T | undefined> | T | undefined,
  options: { pollMs?: number; detail?: () => string; rethrow?: boolean } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() <= deadline) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      if (options.rethrow) throw error;
      lastError = error;
    }
    await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 100));
  }
  const cause = lastError === undefined ? '' : ` (last check failed: ${errorMessage(lastError)})`;
  const detail = options.detail ? `; ${options.detail()}` : '';
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${cause}${detail}`);
}
