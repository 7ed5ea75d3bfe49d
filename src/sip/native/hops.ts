import { isIP } from 'node:net';
import type { Message } from 'sip';
import type { Endpoint } from '../engine.js';
import { endpointOfText } from '../core/endpoint.js';

/** The branch of a message's top Via ('' when it has none). */
export function topBranch(message: Message): string {
  const branch = message.headers.via?.[0]?.params.branch;
  return typeof branch === 'string' ? branch : '';
}

/** Where a SIP URI points, when it names a literal address. */
export function parseHop(uri: string): Endpoint | undefined {
  const hop = endpointOfText(uri);
  // Stateless forwarding does no DNS: only a literal address is a hop.
  return hop && isIP(hop.address) !== 0 ? hop : undefined;
}
