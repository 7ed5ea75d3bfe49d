/**
 * While the cache does not answer, what this node falls back on (digest
 * nonce counts kept in the process, the gateway and carrier states it
 * knows) is said once per this, with the count held back.
 */
export const CACHE_OUTAGE_REPORT_MS = 30_000;
