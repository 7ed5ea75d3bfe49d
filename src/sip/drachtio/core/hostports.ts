import type { LocalAddress, Transport } from '../../engine.js';

/** One SIP contact a drachtio-server listens on, as it announces them at authentication. */
export interface Hostport {
  transport: string;
  address: string;
  port: number;
}

/**
 * Reads the hostport list drachtio-server sends when an app authenticates
 * (`udp/127.0.0.210:5060,tcp/127.0.0.210:5060`, IPv6 as `udp/[::1]:5060`).
 * Entries that do not parse are left out.
 */
export function parseHostports(text: string | undefined): Hostport[] {
  const found: Hostport[] = [];
  for (const entry of (text ?? '').split(',')) {
    const match = /^\s*(\w+)\/(\[[^\]]+\]|[^:/\s]+):(\d+)\s*$/.exec(entry);
    if (!match) continue;
    found.push({
      transport: (match[1] ?? '').toLowerCase(),
      address: (match[2] ?? '').replace(/^\[|\]$/g, ''),
      port: Number(match[3]),
    });
  }
  return found;
}

/**
 * The contact that stands for "us" (Via loop check, logs, /health): the one
 * on `preferredAddress` (sip.address) if drachtio-server listens there, else
 * its first UDP contact, else its first (UDP or TCP before the others). The transports are UDP and TCP
 * offered on that address and port, then TLS, WS and WSS offered on that
 * address at ports of their own (its `sips:…;transport=tls` and `…=wss`
 * contacts), whose ports are kept as the native engine keeps sip.tls.port
 * and sip.websocket's.
 */
export function localContact(
  hostports: readonly Hostport[],
  preferredAddress: string,
): (LocalAddress & { transports: Transport[] }) | undefined {
  const isPlain = (h: Hostport) => h.transport === 'udp' || h.transport === 'tcp';
  const chosen =
    hostports.find((h) => h.address === preferredAddress && isPlain(h)) ??
    hostports.find((h) => h.address === preferredAddress) ??
    hostports.find((h) => h.transport === 'udp') ??
    hostports[0];
  if (!chosen) return undefined;
  const onAddress = hostports.filter((h) => h.address === chosen.address);
  const plain = new Set(onAddress.filter((h) => h.port === chosen.port).map((h) => h.transport));
  const ownPort = (transport: 'tls' | 'ws' | 'wss') => onAddress.find((h) => h.transport === transport)?.port;
  const ports = { tlsPort: ownPort('tls'), wsPort: ownPort('ws'), wssPort: ownPort('wss') };
  // In the order sip.transports lists them, so /health reads the same on both engines.
  const transports = [
    ...(['udp', 'tcp'] as const).filter((t) => plain.has(t)),
    ...(['tls', 'ws', 'wss'] as const).filter((t) => ports[`${t}Port`] !== undefined),
  ];
  return { address: chosen.address, port: chosen.port, ...ports, transports };
}
