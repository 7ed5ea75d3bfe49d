import { findParam, formatSipUri, type SipUri, type UriParam } from '../../sip/core/uri.js';
import type { Gateway } from './routing-table.js';

/** The number after the gateway's strip and pri_prefix (OpenSIPS build_ruri). */
export function gatewayNumber(number: string, gateway: Gateway): string {
  return gateway.priPrefix + number.slice(Math.min(gateway.strip, number.length));
}

/**
 * The original's URI params that say how to reach its host (RFC 3261
 * §19.1.1): the rewrite replaces that host, so they would misdirect the
 * gateway's hop (a TLS phone's `;transport=tls` on a UDP gateway).
 */
const HOP_PARAMS = new Set(['transport', 'maddr']);

/**
 * The Request-URI for one gateway: the user rewritten by strip and
 * pri_prefix, host:port replaced by the gateway's address, the gateway's
 * URI params first and then the original's (a name the gateway sets is not
 * repeated, and `transport`/`maddr` go with the host they described),
 * password and headers kept. Unlike OpenSIPS, which always writes `sip:`
 * and keeps every param, a `sips:` Request-URI or gateway stays `sips:`.
 */
export function rewriteRequestUri(original: SipUri | undefined, number: string, gateway: Gateway): string {
  const gatewayParams = gateway.address.params;
  const originalParams = (original?.params ?? []).filter(
    (param) => !HOP_PARAMS.has(param.name.toLowerCase()) && !findParam(gatewayParams, param.name),
  );
  const params: UriParam[] = [...gatewayParams, ...originalParams];
  const secure = original?.scheme === 'sips' || gateway.address.scheme === 'sips';
  return formatSipUri({
    scheme: secure ? 'sips' : 'sip',
    user: gatewayNumber(number, gateway),
    password: original?.password,
    host: gateway.address.host,
    port: gateway.address.port,
    params,
    headers: original?.headers,
  });
}
