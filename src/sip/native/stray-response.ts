import { isIP } from 'node:net';
import type { Message } from 'sip';
import type { Endpoint, LocalAddress } from '../engine.js';
import { isOwnHop, transportOf } from '../core/endpoint.js';

/**
 * A response that matches no client transaction here is forwarded
 * statelessly (RFC 3261 §16.7 step 1, §16.11): our Via is removed and the
 * response goes to the next Via, at its received/rport (RFC 3581). After a
 * virtual-IP failover these are the answers to INVITEs the other node
 * forwarded: the gateway retransmits its 200 to the virtual IP, and without
 * this the caller, who already had a 180, never hears the answer.
 * Only a response whose top Via is ours (our address and port) is ours to
 * forward.
 */
export function strayResponseHop(
  response: Message,
  local: LocalAddress,
): { message: Message; to: Endpoint } | undefined {
  const [top, next, ...rest] = response.headers.via ?? [];
  if (!top || !next || !isOwnHop(local, { address: top.host, port: top.port, transport: top.protocol }))
    return undefined;
  const transport = transportOf(next.protocol);
  // A transport we do not carry (SCTP …) is read as UDP by transportOf: not ours to send on.
  if (transport === 'udp' && next.protocol.toUpperCase() !== 'UDP') return undefined;
  const address = next.params.received ?? next.host;
  const port = next.params.rport ? Number(next.params.rport) : (next.port ?? 5060);
  if (isIP(address) === 0 || !Number.isInteger(port) || port < 1 || port > 65535) return undefined;
  return {
    message: { ...response, headers: { ...response.headers, via: [next, ...rest] } },
    to: { transport, address, port },
  };
}
