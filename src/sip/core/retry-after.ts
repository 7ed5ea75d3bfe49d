import type { ReplyOptions } from '../engine.js';

/** When a client told 503 without a time of its own should try again (overload.retryAfterSeconds's default). */
export const DEFAULT_RETRY_AFTER_SECONDS = 5;

/**
 * RFC 3261 §21.5.4: a 503 may say when to try again; without it a client
 * may retry at once, and a phone's re-REGISTER or a trunk's retry storm is
 * what keeps an overloaded server down. Every 503 we originate carries it.
 */
export function withRetryAfter(
  status: number,
  headers: ReplyOptions['headers'],
  seconds: number,
): ReplyOptions['headers'] {
  if (status !== 503) return headers;
  if (headers && Object.keys(headers).some((name) => name.toLowerCase() === 'retry-after')) return headers;
  return { ...headers, 'Retry-After': String(seconds) };
}
