/**
 * What a request let through without the token by `admin.openReads` gets
 * (request-guard.ts): anyone who reaches the admin address may send it, so
 * its answer says no more than a probe or a scraper needs, and costs no
 * more however often it is asked.
 */

/**
 * How long an open read's answer is reused. Probes ask every few seconds,
 * scrapers every 15 s or more: a second is fresher than either reads, and
 * a stranger asking thousands of times a second causes one store and cache
 * ping and one metrics rendering per second.
 */
export const OPEN_READ_REUSE_MS = 1000;

/**
 * `compute`, run at most once per `maxAgeMs`: a call while it runs, or
 * within `maxAgeMs` of its start, gets the same result (a failure
 * included, for as long).
 */
export function reusedFor<T>(maxAgeMs: number, now: () => number, compute: () => Promise<T>): () => Promise<T> {
  let last: { startedAt: number; result: Promise<T> } | undefined;
  return () => {
    const at = now();
    if (last === undefined || at - last.startedAt >= maxAgeMs) last = { startedAt: at, result: compute() };
    return last.result;
  };
}

/**
 * The /health body for an anonymous read: `ok` or `degraded`, with the
 * HTTP status. A probe needs no more; the rest (store and cache URLs, the
 * SIP address, routing warnings quoting rows, the HA pair's node names)
 * stays for callers with the token.
 */
export function statusOnly(body: unknown): { status: unknown } {
  return { status: (body as { status?: unknown } | null)?.status ?? null };
}
