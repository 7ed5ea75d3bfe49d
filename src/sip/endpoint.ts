import type { Endpoint, LocalAddress, Transport } from './engine.js';
import { findParam, parseSipUri, type SipUri, type UriParam } from './uri.js';

/** RFC 3261 §19.1.2: the port a URI without one means. */
const DEFAULT_TLS_PORT = 5061;
const DEFAULT_PORT = 5060;

/**
 * Where a SIP URI points (RFC 3263 without DNS): its host, its port or the
 * scheme's default, and its transport: TLS for a sips: URI (RFC 5630) or
 * `;transport=tls`, TCP for `;transport=tcp`, else UDP. Pure.
 */
export function endpointOf(uri: Pick<SipUri, 'scheme' | 'host' | 'port'> & { params: readonly UriParam[] }): Endpoint {
  const param = findParam(uri.params, 'transport')?.value?.toLowerCase();
  const transport: Transport = uri.scheme === 'sips' || param === 'tls' ? 'tls' : param === 'tcp' ? 'tcp' : 'udp';
  return { address: uri.host.replace(/^\[|\]$/g, ''), port: uri.port ?? (transport === 'tls' ? DEFAULT_TLS_PORT : DEFAULT_PORT), transport };
}

/** A transport as a Via or a connection names it (`UDP`, `tcp`, `TLS`): anything else is read as UDP. */
export function transportOf(protocol: string): Transport {
  const lower = protocol.toLowerCase();
  return lower === 'tls' || lower === 'tcp' ? lower : 'udp';
}

/** The port we take `transport` on (Via, Record-Route). */
export function localPort(local: LocalAddress, transport: Transport): number {
  return transport === 'tls' ? (local.tlsPort ?? DEFAULT_TLS_PORT) : local.port;
}

/** Whether `hop` names us: our address and one of our ports (a Via's absent port is 5060, or 5061 over TLS). */
export function isOwnHop(local: LocalAddress, hop: { address: string; port: number | undefined; transport?: string }): boolean {
  const port = hop.port ?? (hop.transport?.toLowerCase() === 'tls' ? DEFAULT_TLS_PORT : DEFAULT_PORT);
  return hop.address === local.address && (port === local.port || port === local.tlsPort);
}

export function endpointOfText(text: string): Endpoint | undefined {
  const parsed = parseSipUri(text);
  return parsed.ok ? endpointOf(parsed.uri) : undefined;
}

/** Where SIP is served, as the start line and /health say it: `udp+tcp 127.0.0.1:5060`. */
export function listeningText(local: LocalAddress & { transports: readonly string[] }): string {
  const plain = local.transports.filter((transport) => transport !== 'tls');
  const tls = local.transports.includes('tls') ? `tls ${local.address}:${local.tlsPort ?? DEFAULT_TLS_PORT}` : '';
  return [plain.length > 0 ? `${plain.join('+')} ${local.address}:${local.port}` : '', tls].filter((part) => part !== '').join(', ');
}
