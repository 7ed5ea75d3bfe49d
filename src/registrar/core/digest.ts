import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { DigestAlgorithm, DigestCredentials } from './digest-header.js';

/**
 * Digest authentication (RFC 3261 §22, RFC 2617, RFC 7616, RFC 8760): the
 * stateless nonce and the response check. Pure: the time and the secret are
 * arguments. What stays with the caller: that the realm is ours, that the
 * digest username matches the To user, `nc` increasing per nonce, and
 * looking up the HA1.
 */

export type { DigestAlgorithm, DigestCredentials } from './digest-header.js';
export { challenges, parseAuthorization } from './digest-header.js';

export interface NonceContext {
  /** Shared by every node of an HA pair, so either node verifies the other's nonces. */
  secret: string;
  now: Date;
  /** The request's source IP: a nonce is bound to it. */
  source: string;
  /** How long a nonce is fresh. */
  lifetimeSeconds: number;
}

/** A nonce dated this far ahead of our clock is still accepted: clock skew inside an HA pair. */
const FUTURE_TOLERANCE_SECONDS = 5;
/** Issue time as an unsigned 48-bit count of seconds, an 8-byte salt, then the 32-byte HMAC-SHA-256. */
const TIME_BYTES = 6;
const SALT_BYTES = 8;
const MAC_BYTES = 32;
/** Separates these MACs from any other use of the same secret. */
const MAC_LABEL = 'sip-drouter digest nonce v1';

/**
 * A stateless nonce: the issue time, a salt and an HMAC-SHA-256 over (time,
 * salt, source) with the secret, base64url. The caller passes random salt
 * bytes so that two phones behind one NAT address, challenged in the same
 * second, do not share a nonce (and trip each other's nonce-count check);
 * without a salt the nonce is a function of time and source.
 */
export function makeNonce(context: Omit<NonceContext, 'lifetimeSeconds'> & { salt?: Uint8Array }): string {
  const issued = epochSeconds(context.now);
  const time = Buffer.alloc(TIME_BYTES);
  time.writeUIntBE(issued, 0, TIME_BYTES);
  const salt = Buffer.alloc(SALT_BYTES);
  if (context.salt) Buffer.from(context.salt).copy(salt, 0, 0, SALT_BYTES);
  return Buffer.concat([time, salt, nonceMac(context.secret, issued, salt, context.source)]).toString('base64url');
}

/** 'valid' (ours, fresh), 'stale' (ours, too old: RFC 7616 stale=true), 'invalid' (not ours, other source, malformed, from the future beyond 5 s). */
export function checkNonce(nonce: string, context: NonceContext): 'valid' | 'stale' | 'invalid' {
  if (!Number.isFinite(context.lifetimeSeconds) || context.lifetimeSeconds < 0) {
    throw new RangeError(`nonce lifetimeSeconds must be a finite number >= 0, got ${context.lifetimeSeconds}`);
  }
  const now = epochSeconds(context.now);
  const bytes = Buffer.from(nonce, 'base64url');
  // Node's base64url decoder skips characters it does not know and ignores
  // spare low bits: only a nonce that re-encodes to itself is one we made.
  if (bytes.length !== TIME_BYTES + SALT_BYTES + MAC_BYTES || bytes.toString('base64url') !== nonce) return 'invalid';
  const issued = bytes.readUIntBE(0, TIME_BYTES);
  const salt = bytes.subarray(TIME_BYTES, TIME_BYTES + SALT_BYTES);
  if (!timingSafeEqual(bytes.subarray(TIME_BYTES + SALT_BYTES), nonceMac(context.secret, issued, salt, context.source)))
    return 'invalid';
  if (issued - now > FUTURE_TOLERANCE_SECONDS) return 'invalid';
  return now - issued > context.lifetimeSeconds ? 'stale' : 'valid';
}

/** HA1 = H(username:realm:password) in the algorithm, lower-case hex. */
export function computeHa1(algorithm: DigestAlgorithm, username: string, realm: string, password: string): string {
  return hash(algorithm, `${username}:${realm}:${password}`);
}

/**
 * RFC 2617 / RFC 7616 response check with qop=auth, given HA1 (from a plain
 * secret via computeHa1, or Asterisk's md5secret which is an MD5 HA1).
 * An answer without qop (RFC 2069) is refused: our challenges always offer
 * qop="auth" (RFC 3261 §22.4 item 8), and without it there is no nonce
 * count, so a captured answer could be replayed. Constant-time comparison;
 * false (never a throw) on any mismatch.
 */
export function verifyDigest(credentials: DigestCredentials, method: string, ha1: string): boolean {
  const { algorithm } = credentials;
  const hexLength = algorithm === 'MD5' ? 32 : 64;
  const isDigest = (text: string): boolean => text.length === hexLength && /^[0-9a-f]+$/.test(text);
  const storedHa1 = ha1.toLowerCase();
  const response = credentials.response.toLowerCase();
  if (!isDigest(storedHa1) || !isDigest(response)) return false;

  // RFC 3261 §22.4: digest-uri-value is the uri parameter as sent, not our Request-URI.
  const ha2 = hash(algorithm, `${method}:${credentials.uri}`);
  if (credentials.qop !== 'auth' || credentials.nc === undefined || credentials.cnonce === undefined) return false;
  // RFC 7616 §3.4.1 (RFC 2617 §3.2.2.1): H(HA1:nonce:nc:cnonce:qop:HA2).
  const expected = hash(
    algorithm,
    `${storedHa1}:${credentials.nonce}:${credentials.nc}:${credentials.cnonce}:auth:${ha2}`,
  );
  return timingSafeEqual(Buffer.from(response, 'hex'), Buffer.from(expected, 'hex'));
}

function hash(algorithm: DigestAlgorithm, text: string): string {
  return createHash(algorithm === 'MD5' ? 'md5' : 'sha256')
    .update(text, 'utf8')
    .digest('hex');
}

function nonceMac(secret: string, issued: number, salt: Uint8Array, source: string): Buffer {
  if (secret === '') throw new RangeError('the nonce secret is empty; configure a shared secret for the registrar');
  return createHmac('sha256', secret)
    .update(`${MAC_LABEL}\n${issued}\n${Buffer.from(salt).toString('hex')}\n${source}`, 'utf8')
    .digest();
}

function epochSeconds(at: Date): number {
  const seconds = Math.floor(at.getTime() / 1000);
  if (!Number.isSafeInteger(seconds) || seconds < 0 || seconds >= 2 ** (8 * TIME_BYTES)) {
    throw new RangeError(`nonce time must be a valid Date after 1970, got ${String(at)}`);
  }
  return seconds;
}
