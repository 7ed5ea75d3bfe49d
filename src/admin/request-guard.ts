import type { AdminConfig } from '../config/schema.js';
import { errorBody } from './admin-api.js';
import { allowedHostCheck } from './allowed-hosts.js';
import { bearerTokenCheck, UNAUTHORIZED_BODY } from './bearer-token.js';

/** What the guard reads of a request: its method and three headers (node's IncomingHttpHeaders fits). */
export interface AdminRequestHead {
  method?: string | undefined;
  headers: { host?: string | undefined; authorization?: string | undefined; 'content-type'?: string | undefined };
}

/** The answer to a request turned away: status, error body, extra headers. */
export interface AdminRefusal {
  status: 401 | 403 | 415;
  body: ReturnType<typeof errorBody>;
  headers: Readonly<Record<string, string>>;
}

/** Methods that change nothing (RFC 9110 §9.2.1); every other one is a mutation. */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** `application/json`, with or without parameters (`; charset=utf-8`). */
function isJson(contentType: string | undefined): boolean {
  return contentType?.split(';')[0]?.trim().toLowerCase() === 'application/json';
}

/**
 * What turns an admin request away before any route runs, served by the
 * admin server and by the --workers front alike, in this order:
 * 1. a Host header that does not name this server (403): DNS rebinding
 *    (allowed-hosts.ts);
 * 2. without the bearer token, when `admin.token` is set (401);
 * 3. a mutation whose body is not declared `application/json` (415), even
 *    one without a body. A page in the operator's browser may POST
 *    cross-site with text/plain, form-urlencoded or multipart without
 *    asking; `application/json` needs a CORS preflight, which this API
 *    never grants. On loopback without a token this is the only barrier.
 */
export function adminRequestGuard(config: Pick<AdminConfig, 'address' | 'allowedHosts' | 'token'>): (request: AdminRequestHead) => AdminRefusal | undefined {
  const hostAllowed = allowedHostCheck(config);
  const tokenMatches = config.token === '' ? () => true : bearerTokenCheck(config.token);
  return ({ method, headers }): AdminRefusal | undefined => {
    if (!hostAllowed(headers.host)) {
      const named = headers.host === undefined ? 'no Host header' : `Host ${JSON.stringify(headers.host)}`;
      return { status: 403, body: errorBody('DROUTER_ERR_FORBIDDEN_HOST', `${named}: not a name of this admin API (admin.address, or a name in admin.allowedHosts)`), headers: {} };
    }
    if (!tokenMatches(headers.authorization)) return { status: 401, body: UNAUTHORIZED_BODY, headers: { 'www-authenticate': 'Bearer' } };
    if (!SAFE_METHODS.has(method ?? 'GET') && !isJson(headers['content-type'])) {
      const given = headers['content-type'] === undefined ? 'no Content-Type' : `Content-Type ${JSON.stringify(headers['content-type'])}`;
      return { status: 415, body: errorBody('DROUTER_ERR_UNSUPPORTED_MEDIA_TYPE', `${method} with ${given}: a request that changes something must be sent as Content-Type: application/json, even without a body`), headers: {} };
    }
    return undefined;
  };
}
