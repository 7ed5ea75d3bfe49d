import type { Message, Remote } from 'sip';
import type { Endpoint, SipEngine, SipRequest } from '../engine.js';
import { forwardedMaxForwards } from '../core/max-forwards.js';
import { localPort } from '../core/endpoint.js';
import { newBranch } from './native-proxy.js';
import { NativeRequest, routeUri } from './native-request.js';
import { parseHop } from './hops.js';
import { forwardedText, type ReceivedText } from './forward-request.js';

/** The engine's options that decide which ACKs are ours to relay, and where (NativeEngineOptions has them). */
export interface AckDialogOptions {
  /**
   * Whether a 2xx's ACK, which this engine relays by itself, belongs to a
   * dialog we signed (the call router checks every other request inside a
   * dialog with the same guard).
   */
  acceptsDialogAck: (ack: SipRequest) => boolean;
  /** The connection our Record-Route entry `route` names for its side of the ACK's dialog (a WebSocket peer), if it does. */
  dialogFlow?: (ack: SipRequest, route: string) => Endpoint | undefined;
}

/** What relaying an ACK asks of the engine that received it (native-engine.ts). */
export interface AckEngine {
  readonly local: SipEngine['local'];
  readonly branchPrefix: string | undefined;
  isOwnUri(uri: string): boolean;
  sendText(text: string, to: Endpoint): void;
}

/**
 * The ACK of a 2xx is a request of its own (RFC 3261 §13.2.2.4): it
 * follows the route set statelessly. Our Route entry is removed; the next
 * Route, else the Request-URI, is the next hop. An ACK whose top Route is
 * not us, or not of a dialog we signed, is not ours to forward.
 */
export function forwardAck(
  engine: AckEngine,
  options: AckDialogOptions,
  message: Message,
  raw: ReceivedText,
  remote: Remote,
): void {
  const routes = [...(message.headers.route ?? [])];
  // Only dialogs we Record-Routed are ours to carry; any other ACK is dropped.
  if (!routes[0] || !engine.isOwnUri(routeUri(routes[0]))) return;
  const ack = new NativeRequest(message, remote);
  if (!options.acceptsDialogAck(ack)) return;
  let lastOfOurs = '';
  while (routes[0] && engine.isOwnUri(routeUri(routes[0]))) {
    lastOfOurs = routeUri(routes[0]);
    routes.shift();
  }
  // Our last entry may name the connection of a WebSocket peer on that side: its Contact cannot be reached.
  const flow = routes.length === 0 ? options.dialogFlow?.(ack, lastOfOurs) : undefined;
  const next = flow ?? parseHop(routes[0] ? routeUri(routes[0]) : (message.uri ?? ''));
  if (!next) return;
  const via = {
    version: '2.0',
    protocol: next.transport.toUpperCase(),
    host: engine.local.address,
    port: localPort(engine.local, next.transport),
    params: { branch: newBranch(engine.branchPrefix) },
  };
  const text = forwardedText(raw, message, {
    uri: message.uri ?? '',
    via,
    maxForwards: forwardedMaxForwards(message.headers['max-forwards']),
    dropProxyAuthorization: false,
    routes,
  });
  engine.sendText(text, next);
}
