import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * The MACs we put in URI params of our own (dialog tokens, flow tokens,
 * node relay routes): HMAC-SHA256 under a key derived from the nodes'
 * shared secret for that one use, cut to 22 base64url characters (132 bits).
 */
export const MAC_CHARACTERS = 22;

/** A key for one use of the shared secret: a MAC made for one use never passes for another. */
export function derivedKey(secret: string, label: string): Buffer {
  return createHmac('sha256', secret).update(label, 'utf8').digest();
}

/** The MAC of `input` under `key`, as it travels in a URI param. */
export function shortMac(key: Buffer, input: string): string {
  return createHmac('sha256', key).update(input, 'utf8').digest('base64url').slice(0, MAC_CHARACTERS);
}

/**
 * Whether a MAC a request carries is the one we expect, compared in time
 * that does not depend on where they differ. A stranger's value of another
 * length, in bytes too (22 characters of UTF-8 are more than 22 bytes), is
 * simply not it.
 */
export function sameMac(given: string, expected: string): boolean {
  const offered = Buffer.from(given, 'utf8');
  const wanted = Buffer.from(expected, 'utf8');
  return offered.length === wanted.length && timingSafeEqual(offered, wanted);
}
