import { timingSafeEqual } from 'node:crypto';
import { errorBody } from './admin-api.js';

/** Whether an Authorization header carries `Bearer <token>` (compared in constant time). */
export function tokenMatches(header: string | undefined, token: string): boolean {
  const given = Buffer.from(/^Bearer (.+)$/.exec(header ?? '')?.[1] ?? '');
  const wanted = Buffer.from(token);
  return given.length === wanted.length && timingSafeEqual(given, wanted);
}

/** The 401 every admin route answers without the right token (with `WWW-Authenticate: Bearer`). */
export const UNAUTHORIZED_BODY = errorBody('DROUTER_ERR_UNAUTHORIZED', 'a valid bearer token is required (Authorization: Bearer <admin.token>)');
