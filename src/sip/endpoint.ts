import type { Endpoint } from './engine.js';
import { findParam, parseSipUri, type SipUri, type UriParam } from './uri.js';

/**
 * Where a SIP URI points (RFC 3263 without DNS): its host, its port or the
 * scheme's default, and its transport param (UDP when absent). Pure.
 */
export function endpointOf(uri: Pick<SipUri, 'scheme' | 'host' | 'port'> & { params: readonly UriParam[] }): Endpoint {
  const transport = findParam(uri.params, 'transport')?.value?.toLowerCase() === 'tcp' ? 'tcp' : 'udp';
  return { address: uri.host.replace(/^\[|\]$/g, ''), port: uri.port ?? (uri.scheme === 'sips' ? 5061 : 5060), transport };
}

export function endpointOfText(text: string): Endpoint | undefined {
  const parsed = parseSipUri(text);
  return parsed.ok ? endpointOf(parsed.uri) : undefined;
}

/** Where SIP is served, as the start line and /health say it: `udp+tcp 127.0.0.1:5060`. */
export function listeningText(local: { address: string; port: number; transports: readonly string[] }): string {
  return `${local.transports.join('+')} ${local.address}:${local.port}`;
}
