/**
 * SIP and SIPS URIs (RFC 3261 §19.1): parse to parts and format back.
 * Pure: used by routing (Request-URI rewrite) and the SIP side alike.
 */

export interface UriParam {
  name: string;
  /** undefined for a flag parameter such as `;lr`. */
  value: string | undefined;
}

export interface SipUri {
  scheme: 'sip' | 'sips';
  /** User part as written (escapes kept), undefined when the URI has no `@`. */
  user: string | undefined;
  password: string | undefined;
  /** Host as written; an IPv6 reference keeps its brackets. */
  host: string;
  port: number | undefined;
  params: UriParam[];
  /** The `?…` header part without the `?`, undefined when absent. */
  headers: string | undefined;
}

export type UriParse = { ok: true; uri: SipUri } | { ok: false; error: string };

const HOST_PORT = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+)(?::(\d{1,5}))?$/;

export function parseSipUri(text: string): UriParse {
  const match = /^(sips?):(.*)$/i.exec(text.trim());
  if (!match) return { ok: false, error: `"${text}" is not a sip: or sips: URI` };
  const scheme = (match[1] ?? '').toLowerCase() as 'sip' | 'sips';
  let rest = match[2] ?? '';

  let headers: string | undefined;
  const question = rest.indexOf('?');
  if (question >= 0) {
    headers = rest.slice(question + 1);
    rest = rest.slice(0, question);
  }

  let user: string | undefined;
  let password: string | undefined;
  const at = rest.lastIndexOf('@');
  if (at >= 0) {
    const userinfo = rest.slice(0, at);
    rest = rest.slice(at + 1);
    const colon = userinfo.indexOf(':');
    user = colon >= 0 ? userinfo.slice(0, colon) : userinfo;
    password = colon >= 0 ? userinfo.slice(colon + 1) : undefined;
  }

  const [hostPort = '', ...rawParams] = rest.split(';');
  const hostMatch = HOST_PORT.exec(hostPort);
  if (!hostMatch) return { ok: false, error: `"${text}": "${hostPort}" is not a host[:port]` };
  const port = hostMatch[2] === undefined ? undefined : Number(hostMatch[2]);
  if (port !== undefined && (port < 1 || port > 65535))
    return { ok: false, error: `"${text}": port ${port} is out of range` };

  const params: UriParam[] = [];
  for (const raw of rawParams) {
    if (raw === '') continue;
    const eq = raw.indexOf('=');
    params.push(eq >= 0 ? { name: raw.slice(0, eq), value: raw.slice(eq + 1) } : { name: raw, value: undefined });
  }
  return { ok: true, uri: { scheme, user, password, host: hostMatch[1] ?? '', port, params, headers } };
}

export function formatParams(params: readonly UriParam[]): string {
  let out = '';
  for (const param of params) out += param.value === undefined ? `;${param.name}` : `;${param.name}=${param.value}`;
  return out;
}

export function formatSipUri(uri: SipUri): string {
  let userinfo = '';
  if (uri.user !== undefined && (uri.user !== '' || uri.password !== undefined)) {
    userinfo = uri.password === undefined ? `${uri.user}@` : `${uri.user}:${uri.password}@`;
  }
  const port = uri.port === undefined ? '' : `:${uri.port}`;
  const headers = uri.headers === undefined ? '' : `?${uri.headers}`;
  return `${uri.scheme}:${userinfo}${uri.host}${port}${formatParams(uri.params)}${headers}`;
}

/** Parameter names compare case-insensitively (RFC 3261 §19.1.4). */
export function findParam(params: readonly UriParam[], name: string): UriParam | undefined {
  const wanted = name.toLowerCase();
  return params.find((param) => param.name.toLowerCase() === wanted);
}
