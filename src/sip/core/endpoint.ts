import type { Endpoint, LocalAddress, Transport } from '../engine.js';
import { findParam, parseSipUri, type SipUri, type UriParam } from './uri.js';

/** RFC 3261 §19.1.2: the port a URI without one means; for WebSocket, HTTP's (RFC 7118 names none). */
const DEFAULT_PORTS: Record<Transport, number> = { udp: 5060, tcp: 5060, tls: 5061, ws: 80, wss: 443 };
const TRANSPORTS = new Set<string>(['udp', 'tcp', 'tls', 'ws', 'wss']);
/** A sips: URI is reached over TLS whatever its transport parameter says (RFC 5630 §3.1.3). */
const SECURE: Record<Transport, Transport> = { udp: 'tls', tcp: 'tls', tls: 'tls', ws: 'wss', wss: 'wss' };

/**
 * Where a SIP URI points (RFC 3263 without DNS): its host, its port or the
 * transport's default, and its transport: the `transport` parameter
 * (`tcp`, `tls`, `ws`, `wss`), TLS for a sips: URI without one (RFC 5630),
 * else UDP. Pure.
 */
export function endpointOf(uri: Pick<SipUri, 'scheme' | 'host' | 'port'> & { params: readonly UriParam[] }): Endpoint {
  const param = transportOf(findParam(uri.params, 'transport')?.value ?? '');
  const transport: Transport = uri.scheme === 'sips' ? SECURE[param] : param;
  return { address: unbracketed(uri.host), port: uri.port ?? DEFAULT_PORTS[transport], transport };
}

/** An address without the brackets a URI or a Via puts round an IPv6 one. */
function unbracketed(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

/** An address as a URI or a Via writes it: an IPv6 one in brackets (RFC 3261 §25.1 IPv6reference). */
export function hostText(address: string): string {
  return address.includes(':') && !address.startsWith('[') ? `[${address}]` : address;
}

/** A transport as a Via or a connection names it (`UDP`, `tcp`, `TLS`, `WSS`): anything else is read as UDP. */
export function transportOf(protocol: string): Transport {
  const lower = protocol.toLowerCase();
  return TRANSPORTS.has(lower) ? (lower as Transport) : 'udp';
}

/** The port we take `transport` on (Via, Record-Route). */
export function localPort(local: LocalAddress, transport: Transport): number {
  const own = { udp: local.port, tcp: local.port, tls: local.tlsPort, ws: local.wsPort, wss: local.wssPort }[transport];
  return own ?? DEFAULT_PORTS[transport];
}

/** Whether `hop` names us: our address and one of our ports (a Via's absent port is its transport's default). */
export function isOwnHop(
  local: LocalAddress,
  hop: { address: string; port: number | undefined; transport?: string },
): boolean {
  const port = hop.port ?? DEFAULT_PORTS[transportOf(hop.transport ?? '')];
  // Every request's Route and Via are asked this: no array made per call.
  return (
    unbracketed(hop.address) === local.address &&
    (port === local.port || port === local.tlsPort || port === local.wsPort || port === local.wssPort)
  );
}

export function endpointOfText(text: string): Endpoint | undefined {
  const parsed = parseSipUri(text);
  return parsed.ok ? endpointOf(parsed.uri) : undefined;
}

/** Where SIP is served, as the start line and /health say it: `udp+tcp 127.0.0.1:5060`. */
export function listeningText(local: LocalAddress & { transports: readonly string[] }): string {
  const plain = local.transports.filter((transport) => transport === 'udp' || transport === 'tcp');
  const host = hostText(local.address);
  const own = local.transports
    .filter((transport) => transport !== 'udp' && transport !== 'tcp')
    .map((transport) => `${transport} ${host}:${localPort(local, transportOf(transport))}`);
  return [...(plain.length > 0 ? [`${plain.join('+')} ${host}:${local.port}`] : []), ...own].join(', ');
}
