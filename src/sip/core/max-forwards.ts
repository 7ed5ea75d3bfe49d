/**
 * Max-Forwards (RFC 3261 §20.22): `1*DIGIT`, decimal, leading zeros allowed
 * (RFC 4475 §3.1.1.1 sends `0068`), a hop count of 0 to 255. Pure.
 */

const MAX_HOPS = 255;

/** RFC 3261 §16.6 step 3: a request without Max-Forwards is sent on with 70. */
const DEFAULT_HOPS = 70;

/**
 * The hop count a Max-Forwards value gives, or undefined when it is not
 * 1*DIGIT or above 255. Leading zeros are dropped before the digits are
 * counted, so a value of any length is read without going through a float
 * (`99999999999999999999` is refused, never 1e20 or Infinity).
 */
export function parseMaxForwards(value: string): number | undefined {
  const digits = /^\s*0*(\d{1,3})\s*$/.exec(value)?.[1];
  if (digits === undefined) return undefined;
  const hops = Number(digits);
  return hops <= MAX_HOPS ? hops : undefined;
}

/**
 * The Max-Forwards a forwarded request carries: one less than it came with,
 * written without leading zeros (`0068` goes on as `67`), 69 when it had
 * none. Never below 0.
 */
export function forwardedMaxForwards(value: string | undefined): string {
  const hops = value === undefined ? DEFAULT_HOPS : (parseMaxForwards(value) ?? DEFAULT_HOPS);
  return String(Math.max(0, hops - 1));
}
