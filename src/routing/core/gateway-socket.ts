/**
 * dr_gateways.socket, `[proto:]host[:port]`: the local socket OpenSIPS sends
 * a gateway's traffic from. Read as OpenSIPS 3.5.9 reads it at load
 * (dr_load.c dr_load_routing_info, gw_socket_filter_mode left at its
 * default, "none"): one that does not parse, or names no socket it listens
 * on, is ignored with an error line and the gateway loads without it. We
 * send from one socket per transport, so one that names ours changes nothing
 * either; only the warnings differ.
 */

import { hostText } from '../../sip/core/endpoint.js';

/** Where we listen: sip.address and sip.port on each of sip.transports. */
export interface LocalSockets {
  readonly address: string;
  readonly port: number;
  readonly transports: readonly string[];
}

interface SocketSpec {
  /** Lower case; '' when none was written (any). */
  proto: string;
  host: string;
  /** 0 when none was written (any). */
  port: number;
}

/** OpenSIPS parse_proto's names (socket_info.h): what a socket's proto may be. */
const PROTOS = new Set([
  'udp',
  'tcp',
  'tls',
  'sctp',
  'ws',
  'wss',
  'bin',
  'bins',
  'ipsec',
  'hep_udp',
  'hep_tcp',
  'hep_tls',
  'smpp',
  'msrp',
  'msrps',
]);

/** str2int: digits only, at least one, no sign. */
function portOf(text: string): number | undefined {
  return /^\d+$/.test(text) ? Number(text) : undefined;
}

/** OpenSIPS parse_phostport: up to two `:` outside brackets; with one, a number after it is a port, else what is before it is a proto. */
export function parseGatewaySocket(text: string): SocketSpec | undefined {
  const colons: number[] = [];
  let depth = 0;
  for (let at = 0; at < text.length; at++) {
    const char = text[at];
    if (char === '[' && ++depth > 1) return undefined;
    if (char === ']' && --depth < 0) return undefined;
    if (char === ':' && depth === 0) colons.push(at);
  }
  if (text === '' || colons.length > 2 || text.endsWith(':')) return undefined;
  const [first, second] = colons;
  if (first === undefined) return { proto: '', host: text, port: 0 };
  const protoBefore = (end: number) => {
    const proto = text.slice(0, end).toLowerCase();
    return PROTOS.has(proto) ? proto : undefined;
  };
  if (second !== undefined) {
    const proto = protoBefore(first);
    const port = portOf(text.slice(second + 1));
    return proto === undefined || port === undefined ? undefined : { proto, host: text.slice(first + 1, second), port };
  }
  const port = portOf(text.slice(first + 1));
  if (port !== undefined) return { proto: '', host: text.slice(0, first), port };
  const proto = protoBefore(first);
  return proto === undefined ? undefined : { proto, host: text.slice(first + 1), port: 0 };
}

/** A host as compared: an IPv6 address in its one canonical form (`::0:1` is `::1`), anything else in lower case. */
function canonicalHost(host: string): string {
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  if (!bare.includes(':')) return bare.toLowerCase();
  try {
    return new URL(`http://[${bare}]`).hostname;
  } catch {
    return bare.toLowerCase();
  }
}

/** grep_sock_info: the host names our address (an IPv6 one compared as an address), no proto or one we listen on, no port or ours. */
function isOurs(socket: SocketSpec, local: LocalSockets): boolean {
  if (socket.proto !== '' && !local.transports.includes(socket.proto)) return false;
  if (socket.port !== 0 && socket.port !== local.port) return false;
  return canonicalHost(socket.host) === canonicalHost(local.address);
}

/** Why a gateway's socket is ignored at load (OpenSIPS's words in ours), or undefined when there is none or it is ours. */
export function ignoredSocket(text: string | null, local: LocalSockets): string | undefined {
  if (text === null || text === '') return undefined;
  const socket = parseGatewaySocket(text);
  if (!socket)
    return 'is no [proto:]host[:port] socket: ignored, the gateway loads without it, as OpenSIPS 3.x loads it';
  if (!isOurs(socket, local)) {
    const ours = local.transports
      .map((transport) => `${transport}:${hostText(local.address)}:${local.port}`)
      .join(', ');
    return `is not one of our sockets (${ours}): ignored, the gateway loads without it, as OpenSIPS 3.x loads it`;
  }
  return undefined;
}
