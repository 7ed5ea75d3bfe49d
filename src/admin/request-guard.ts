import type { AdminConfig } from '../config/schema.js';
import { errorBody } from './admin-contract.js';
import { allowedHostCheck } from './allowed-hosts.js';
import { bearerTokenCheck, UNAUTHORIZED_BODY } from './bearer-token.js';

/** What the guard reads of a request: its method, URL and three headers (node's IncomingMessage fits). */
export interface AdminRequestHead {
  method?: string | undefined;
  url?: string | undefined;
  headers: { host?: string | undefined; authorization?: string | undefined; 'content-type'?: string | undefined };
}

/** The answer to a request turned away: status, error body, extra headers. */
export interface AdminRefusal {
  status: 401 | 403 | 415;
  body: ReturnType<typeof errorBody>;
  headers: Readonly<Record<string, string>>;
}

/**
 * The guard's verdict: turned away, or let through; `anonymous` when let
 * through without the token by admin.openReads (the route then answers
 * what a stranger may see: open-reads.ts).
 */
export type AdminVerdict = { refusal: AdminRefusal; anonymous?: never } | { refusal?: never; anonymous: boolean };

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
 * 2. without the bearer token, when `admin.token` is set (401), except a
 *    GET or HEAD of a path of `admin.openReads` sent without an
 *    Authorization header: let through as anonymous. The path is compared
 *    as sent, exactly (`/health/`, `/HEALTH`, `/%68ealth` need the token),
 *    so nothing but the two open routes is ever reached this way; a wrong
 *    token is still a 401, which tells a misconfigured scraper;
 * 3. a mutation whose body is not declared `application/json` (415), even
 *    one without a body. A page in the operator's browser may POST
 *    cross-site with text/plain, form-urlencoded or multipart without
 *    asking; `application/json` needs a CORS preflight, which this API
 *    never grants. On loopback without a token this is the only barrier.
 */
export function adminRequestGuard(
  config: Pick<AdminConfig, 'address' | 'allowedHosts' | 'token' | 'openReads'>,
): (request: AdminRequestHead) => AdminVerdict {
  const hostAllowed = allowedHostCheck(config);
  const tokenMatches = config.token === '' ? () => true : bearerTokenCheck(config.token);
  const openPaths = new Set<string>(config.token === '' ? [] : config.openReads);
  const isOpenRead = ({ method, url, headers }: AdminRequestHead) =>
    (method === 'GET' || method === 'HEAD') &&
    headers.authorization === undefined &&
    openPaths.has((url ?? '').split('?')[0] ?? '');
  return (request): AdminVerdict => {
    const { method, headers } = request;
    if (!hostAllowed(headers.host)) {
      const named = headers.host === undefined ? 'no Host header' : `Host ${JSON.stringify(headers.host)}`;
      return refused(
        403,
        errorBody(
          'DROUTER_ERR_FORBIDDEN_HOST',
          `${named}: not a name of this admin API (admin.address, or a name in admin.allowedHosts)`,
        ),
      );
    }
    if (isOpenRead(request)) return { anonymous: true };
    if (!tokenMatches(headers.authorization)) return refused(401, UNAUTHORIZED_BODY, { 'www-authenticate': 'Bearer' });
    if (!SAFE_METHODS.has(method ?? 'GET') && !isJson(headers['content-type'])) {
      const given =
        headers['content-type'] === undefined
          ? 'no Content-Type'
          : `Content-Type ${JSON.stringify(headers['content-type'])}`;
      return refused(
        415,
        errorBody(
          'DROUTER_ERR_UNSUPPORTED_MEDIA_TYPE',
          `${method} with ${given}: a request that changes something must be sent as Content-Type: application/json, even without a body`,
        ),
      );
    }
    return { anonymous: false };
  };
}

function refused(
  status: AdminRefusal['status'],
  body: AdminRefusal['body'],
  headers: AdminRefusal['headers'] = {},
): AdminVerdict {
  return { refusal: { status, body, headers } };
}
