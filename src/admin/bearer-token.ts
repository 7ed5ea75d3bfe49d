import { createHash, timingSafeEqual } from 'node:crypto';
import { errorBody } from './admin-contract.js';

/** RFC 6750 §2.1 credentials; the scheme is case-insensitive (RFC 9110 §11.1), one or more spaces after it. */
const BEARER_CREDENTIALS = /^bearer +(\S+) *$/i;

function sha256(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/**
 * The check of an Authorization header against the token: whether it
 * carries `Bearer <token>`. The digests are compared, not the tokens: both
 * are 32 bytes whatever was sent, so neither the time taken nor an early
 * length test tells a guesser how long the token is.
 */
export function bearerTokenCheck(token: string): (authorization: string | undefined) => boolean {
  const wanted = sha256(token);
  return (authorization) => {
    const given = BEARER_CREDENTIALS.exec(authorization ?? '')?.[1];
    // Hashed even when absent, so a missing header costs what a wrong one does.
    const matches = timingSafeEqual(sha256(given ?? ''), wanted);
    return given !== undefined && matches;
  };
}

/** The 401 every admin route answers without the right token (with `WWW-Authenticate: Bearer`). */
export const UNAUTHORIZED_BODY = errorBody(
  'DROUTER_ERR_UNAUTHORIZED',
  'a valid bearer token is required (Authorization: Bearer <admin.token>)',
);
