import type { Endpoint, ProxyTarget, SipRequest } from '../../sip/engine.js';
import { endpointOfText } from '../../sip/core/endpoint.js';
import { findParam, parseSipUri } from '../../sip/core/uri.js';
import { TIMER_B_MS } from '../../sip/core/timers.js';
import { derivedKey, MAC_CHARACTERS, sameMac, shortMac } from './short-mac.js';

/**
 * Calls to a phone registered through another node, when several nodes are
 * active at once (ha.nodeAddress). The phone's NAT pinhole, or its TCP
 * connection, leads to the node it registered with, so a call another node
 * takes is sent to that node, which sends it on to the phone: the way a
 * registrar uses a stored Path (RFC 3327 §5.3), with the node's own entry
 * as the Path. The Route to that node carries where the phone is and a MAC
 * over it, the Request-URI and a deadline, made with the secret the nodes
 * share: that node sends on only what another node signed, so a stranger
 * cannot use it to reach an address of his choosing. Pure.
 */

/** The Route URI parameters: the phone's address, the deadline (epoch seconds), the MAC. */
const TO_PARAM = 'drn-to';
const UNTIL_PARAM = 'drn-until';
const MAC_PARAM = 'drn';
/** Separates these MACs from the other uses of the same secret. */
const LABEL = 'sip-drouter node relay v1';
/** A signed Route is good for an INVITE's whole transaction and its retransmissions (Timer B, 64·T1). */
const VALID_SECONDS = TIMER_B_MS / 1000;

export class NodeRelay {
  private readonly key: Buffer;
  private readonly own: Endpoint;

  /** `nodeAddress` is this node's ha.nodeAddress (address:port). */
  constructor(
    secret: string,
    readonly nodeAddress: string,
  ) {
    if (secret === '') throw new RangeError('the node relay secret is empty');
    const own = endpointOfText(`sip:${nodeAddress}`);
    if (!own) throw new RangeError(`ha.nodeAddress ${nodeAddress} is not address:port`);
    this.own = own;
    this.key = derivedKey(secret, LABEL);
  }

  /**
   * The attempts that reach a phone registered through `node`: through that
   * node, then, should it give no answer in time (it died), straight to the
   * phone. A phone registered here, or with no node, is reached straight.
   */
  targets(direct: ProxyTarget, node: string | undefined, nowMs: number): ProxyTarget[] {
    const hop = node === undefined || node === this.nodeAddress ? undefined : endpointOfText(`sip:${node}`);
    if (!hop) return [direct];
    const until = Math.floor(nowMs / 1000) + VALID_SECONDS;
    const to = endpointText(direct.destination);
    const route = `sip:${node};lr;${TO_PARAM}=${to};${UNTIL_PARAM}=${until};${MAC_PARAM}=${this.mac(direct.uri, to, until)}`;
    return [
      {
        ...direct,
        destination: hop,
        label: `${direct.label} via node ${node}`,
        routes: [route, ...(direct.routes ?? [])],
      },
      direct,
    ];
  }

  /**
   * A request another node sent here for a phone registered here: its top
   * Route is this node's, signed, and not past its deadline. The attempt
   * that sends it on to the phone, or undefined for anything else.
   */
  relayed(request: Pick<SipRequest, 'uri' | 'routes'>, nowMs: number): ProxyTarget | undefined {
    const top = request.routes[0];
    if (top === undefined || !top.includes(MAC_PARAM)) return undefined;
    const parsed = parseSipUri(top);
    if (!parsed.ok) return undefined;
    const hop = endpointOfText(top);
    if (hop?.address !== this.own.address || hop.port !== this.own.port) return undefined;
    const { params } = parsed.uri;
    const to = findParam(params, TO_PARAM)?.value;
    const until = Number(findParam(params, UNTIL_PARAM)?.value);
    const given = findParam(params, MAC_PARAM)?.value;
    if (to === undefined || given?.length !== MAC_CHARACTERS || !Number.isInteger(until) || until * 1000 < nowMs)
      return undefined;
    if (!sameMac(given, this.mac(request.uri, to, until))) return undefined;
    const destination = endpointOfText(
      `sip:${to.replace(/^(udp|tcp):/, '')}${to.startsWith('tcp:') ? ';transport=tcp' : ''}`,
    );
    if (!destination) return undefined;
    return { uri: request.uri, destination, label: 'relayed from a node', routes: request.routes.slice(1) };
  }

  private mac(requestUri: string, to: string, until: number): string {
    return shortMac(this.key, `${requestUri}\n${to}\n${until}`);
  }
}

/** `udp:198.51.100.7:5060`, `tcp:[2001:db8::7]:5061`: a URI parameter value (RFC 3261 param-unreserved allows ':' '[' ']'). */
function endpointText(endpoint: Endpoint): string {
  const host = endpoint.address.includes(':') ? `[${endpoint.address}]` : endpoint.address;
  return `${endpoint.transport}:${host}:${endpoint.port}`;
}
