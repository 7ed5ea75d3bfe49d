import { CacheUnavailableError } from '../errors.js';
import type { NonceCountCache } from './cache.js';

/**
 * Digest nonce counts in the shared cache, or in this process's own while
 * the shared one does not answer: a caller that authenticates is not
 * turned away by a Redis outage. The price, for the outage only: a
 * response replayed to the other node of a pair is not caught there.
 */
export function nonceCountsWithFallback(
  shared: NonceCountCache,
  local: NonceCountCache,
  onFallback: (error: CacheUnavailableError) => void,
): NonceCountCache {
  return {
    async acceptNonceCount(nonce, nc, ttlMs) {
      try {
        return await shared.acceptNonceCount(nonce, nc, ttlMs);
      } catch (error) {
        if (!(error instanceof CacheUnavailableError)) throw error;
        onFallback(error);
        return local.acceptNonceCount(nonce, nc, ttlMs);
      }
    },
  };
}
